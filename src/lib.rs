//! plantiles: a vector tile server for spatial-planning data.
//!
//! Layout of the crate:
//!
//! - [`landuse`]: the land-use code table (codes, names, colours).
//! - [`generate`]: synthetic planning data for tests, benchmarks and the
//!   bundled sample.

pub mod generate;
pub mod landuse;
