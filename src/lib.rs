//! plantiles: a vector tile server for spatial-planning data.
//!
//! Layout of the crate, from the file to the tile:
//!
//! - [`mmap`]: the one place files are memory-mapped, with its safety
//!   argument.
//! - [`layer`]: a FlatGeobuf file: header checks, feature byte ranges.
//! - [`feature`]: a feature's fields read in place, every offset checked.
//! - [`geometry`], [`properties`]: a feature's parts and attribute values,
//!   read in place from the map.
//! - [`index`]: the R-tree from envelopes to feature offsets.
//! - [`tileset`]: layers grouped into one tile, with `tileset.toml`.
//! - [`tile`]: tile coordinates and the Web Mercator projection.
//! - [`clip`], [`simplify`]: geometry in tile units.
//! - [`mvt`]: the Mapbox Vector Tile encoder.
//! - [`render`]: the pipeline from a tile coordinate to MVT bytes.
//! - [`lookup`]: features at a point or in a box, and their GeoJSON.
//! - [`server`]: the HTTP service.
//! - [`cache`]: the byte-bounded LRU tile cache with single flight.
//! - [`landuse`]: the land-use code table (codes, names, colours), and
//!   [`style`]: the MapLibre planning style built from it.
//! - [`crs`], [`import`]: VN-2000 and other deliverables to EPSG:4326
//!   FlatGeobuf.
//! - [`generate`]: synthetic planning data for tests, benchmarks and the
//!   bundled sample.

pub mod cache;
pub mod clip;
pub mod crs;
pub mod feature;
pub mod generate;
pub mod geometry;
pub mod import;
pub mod index;
pub mod landuse;
pub mod layer;
pub mod lookup;
pub mod mmap;
pub mod mvt;
pub mod progress;
pub mod properties;
pub mod render;
pub mod server;
pub mod simplify;
pub mod style;
pub mod tile;
pub mod tileset;
