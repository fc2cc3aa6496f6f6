//! Rendering one tile: for each layer, query the index with the buffered
//! tile, decode the candidates from the map, project, clip, simplify,
//! quantize and encode.
//!
//! Rendering is CPU-bound and synchronous; servers call it from blocking
//! threads.

use crate::clip::{ClipBox, P};
use crate::geometry::{self, Bbox, Coords, Part};
use crate::index::Entry;
use crate::layer::Crs;
use crate::mvt::{GeomType, GeomWriter, LayerBuilder, Value};
use crate::properties::{self, is_text, PropValue};
use crate::simplify::douglas_peucker;
use crate::tile::{lon_to_world_x, mercator_to_world, TileCoord, TileProjection};
use crate::tileset::TilesetLayer;

/// A rendered tile.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The MVT bytes, uncompressed; empty when no layer has a feature.
    pub bytes: Vec<u8>,
    pub features: usize,
    /// Features that failed to decode and were left out.
    pub skipped: usize,
}

/// Renders `tile` from `layers` (in drawing order) on a grid of `extent`.
pub fn render(layers: &[&TilesetLayer], tile: TileCoord, extent: u32) -> Rendered {
    let named: Vec<Source<'_>> = layers
        .iter()
        .map(|l| Source {
            name: &l.layer.name,
            layer: l,
            extent,
        })
        .collect();
    render_sources(&named, tile)
}

/// One layer to draw into a tile, under an MVT layer name that is unique
/// in the tile, on its tileset's grid.
pub struct Source<'a> {
    pub name: &'a str,
    pub layer: &'a TilesetLayer,
    pub extent: u32,
}

/// Renders `tile` from `sources`, in drawing order.
pub fn render_sources(sources: &[Source<'_>], tile: TileCoord) -> Rendered {
    let mut out = Rendered::default();
    let mut scratch = Scratch::default();
    for src in sources {
        let s = &src.layer.settings;
        if tile.z < s.minzoom || tile.z > s.maxzoom {
            continue;
        }
        let builder = render_layer(src, tile, &mut scratch, &mut out.skipped);
        if !builder.is_empty() {
            out.features += builder.len();
            builder.write_to(&mut out.bytes);
        }
    }
    out
}

/// Buffers reused from feature to feature.
#[derive(Default)]
struct Scratch {
    hits: Vec<Entry>,
    projected: Vec<P>,
    clipped: Vec<P>,
    spare: Vec<P>,
    lines: Vec<Vec<P>>,
    grid: Vec<(i32, i32)>,
    keep: Vec<bool>,
    stack: Vec<(usize, usize)>,
    geom: [GeomWriter; 3],
}

/// The per-layer constants of one tile.
struct Frame {
    projection: TileProjection,
    crs: Crs,
    clip: ClipBox,
    simplify: f64,
}

impl Frame {
    fn project(&self, (x, y): P) -> P {
        match self.crs {
            Crs::Wgs84 => self.projection.lonlat(x, y),
            Crs::WebMercator => {
                let (wx, wy) = mercator_to_world(x, y);
                self.projection.world(wx, wy)
            }
        }
    }

    /// True when a feature's envelope is smaller than half a tile unit
    /// both ways (but not a point): it would vanish when quantized.
    fn too_small(&self, b: &Bbox) -> bool {
        if b.min_x == b.max_x && b.min_y == b.max_y {
            return false;
        }
        let w = (b.max_x - b.min_x) * self.projection.units_per_degree_lon();
        let (_, y0) = self.projection.lonlat(b.min_x, b.min_y);
        let (_, y1) = self.projection.lonlat(b.min_x, b.max_y);
        w < 0.5 && (y0 - y1).abs() < 0.5
    }
}

fn render_layer<'a>(
    src: &Source<'a>,
    tile: TileCoord,
    s: &mut Scratch,
    skipped: &mut usize,
) -> LayerBuilder<'a> {
    let (layer, settings, extent) = (&src.layer.layer, &src.layer.settings, src.extent);
    let mut builder = LayerBuilder::new(src.name, extent);
    let bbox = tile.lonlat_bbox(extent, settings.buffer);
    let native = match layer.crs {
        Crs::Wgs84 => [bbox.min_x, bbox.min_y, bbox.max_x, bbox.max_y],
        Crs::WebMercator => {
            let (x0, y0) = lonlat_to_mercator(bbox.min_x, bbox.min_y);
            let (x1, y1) = lonlat_to_mercator(bbox.max_x, bbox.max_y);
            [x0, y0, x1, y1]
        }
    };
    let projection = TileProjection::new(tile, extent);
    let min_step = min_step(layer.crs, &projection, &bbox, settings.simplify);
    let frame = Frame {
        projection,
        crs: layer.crs,
        clip: ClipBox {
            native,
            lo: -(settings.buffer as f64),
            hi: (extent + settings.buffer) as f64,
            min_step,
        },
        simplify: settings.simplify,
    };
    let mut hits: Vec<Entry> = Vec::new();
    layer.index().intersecting(&bbox, |e| hits.push(*e));
    // File order: sequential reads of the map, and a stable draw order.
    crate::index::sort_by_offset(&mut hits, &mut s.hits);
    let included = settings.included.iter().filter(|&&i| i).count();
    builder.reserve(hits.len(), included);
    let mut parts = Vec::new();
    for entry in hits {
        let (offset, envelope) = (entry.offset, entry.bbox());
        if frame.too_small(&envelope) {
            continue;
        }
        // Wholly inside the buffered tile: nothing to clip.
        let inside = envelope.min_x >= bbox.min_x
            && envelope.max_x <= bbox.max_x
            && envelope.min_y >= bbox.min_y
            && envelope.max_y <= bbox.max_y;
        let read = layer.feature(offset).and_then(|feature| {
            geometry::parts_into(&feature, layer.geometry_type, &mut parts).map(|()| feature)
        });
        let feature = match read {
            Ok(feature) => feature,
            Err(problem) => {
                *skipped += 1;
                tracing::debug!(layer = %layer.name, offset, %problem, "skipped feature");
                continue;
            }
        };
        for g in &mut s.geom {
            g.clear();
        }
        for part in &parts {
            encode_part(part, &frame, inside, s);
        }
        if s.geom.iter().all(GeomWriter::is_empty) {
            continue;
        }
        let id = match feature
            .properties()
            .map_err(String::from)
            .and_then(|bytes| tag_properties(&mut builder, bytes, layer, settings))
        {
            Ok(id) => id,
            Err(problem) => {
                builder.discard_tags();
                *skipped += 1;
                tracing::debug!(layer = %layer.name, offset, %problem, "skipped feature");
                continue;
            }
        };
        let kinds = [GeomType::Polygon, GeomType::LineString, GeomType::Point];
        let mut drawn = kinds
            .into_iter()
            .zip(&s.geom)
            .filter(|(_, g)| !g.is_empty());
        let mut current = drawn.next();
        while let Some((kind, geom)) = current {
            current = drawn.next();
            if current.is_some() {
                builder.finish_feature_sharing_tags(id, kind, geom);
            } else {
                builder.finish_feature(id, kind, geom);
            }
        }
    }
    builder
}

/// Native steps that move a point by under half of `simplify` tile units
/// anywhere in the tile: longitude degrees are the same size across a
/// tile, latitude degrees grow towards the pole, so the pole-side edge
/// bounds them.
fn min_step(crs: Crs, p: &TileProjection, bbox: &Bbox, simplify: f64) -> (f64, f64) {
    let half = simplify / 2.0;
    match crs {
        Crs::Wgs84 => {
            let sx = half / p.units_per_degree_lon();
            let lat = bbox
                .max_y
                .abs()
                .max(bbox.min_y.abs())
                .min(crate::tile::MAX_LAT);
            (sx, sx * lat.to_radians().cos())
        }
        Crs::WebMercator => {
            let s = half / (p.units_per_degree_lon() * 360.0 / 40_075_016.685_578_49);
            (s, s)
        }
    }
}

/// Tags the feature being built with its included properties, straight
/// from their bytes; returns the feature id from the id column. Text is
/// deduplicated by its bytes and checked as UTF-8 once per distinct
/// value; numbers are decoded, which costs a load.
fn tag_properties<'a>(
    builder: &mut LayerBuilder<'a>,
    bytes: &'a [u8],
    layer: &'a crate::layer::Layer,
    settings: &crate::tileset::LayerSettings,
) -> Result<Option<u64>, String> {
    let mut id = None;
    let columns = &layer.columns;
    properties::for_each_raw(bytes, columns, |column, kind, raw| {
        if Some(column) == settings.id_column {
            id = match PropValue::fixed(kind, raw) {
                Some(PropValue::Uint(u)) => Some(u),
                Some(PropValue::Int(i)) => u64::try_from(i).ok(),
                _ => None,
            };
        }
        if !settings.included.get(column).is_some_and(|&i| i) {
            return Ok(());
        }
        let name = &columns[column].name;
        let value = match PropValue::fixed(kind, raw) {
            Some(PropValue::Bool(b)) => Value::Bool(b),
            Some(PropValue::Int(i)) => Value::Int(i),
            Some(PropValue::Uint(u)) => Value::Uint(u),
            Some(PropValue::Float(f)) => Value::Float(f),
            Some(PropValue::Double(f)) => Value::Double(f),
            // MVT has no bytes type.
            _ if !is_text(kind) => return Ok(()),
            _ => {
                return builder
                    .tag_text(column, name, raw)
                    .map_err(|e| format!("text is not UTF-8: {e}"))
            }
        };
        builder.tag(column, name, value);
        Ok(())
    })?;
    Ok(id)
}

fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    const HALF_WORLD_M: f64 = 20_037_508.342_789_244;
    let wx = lon_to_world_x(lon);
    let wy = crate::tile::lat_to_world_y(lat);
    (
        (wx * 2.0 - 1.0) * HALF_WORLD_M,
        (1.0 - wy * 2.0) * HALF_WORLD_M,
    )
}

/// Encodes one part into the geometry writer of its MVT type
/// (polygons 0, lines 1, points 2).
fn encode_part(part: &Part<'_>, f: &Frame, inside: bool, s: &mut Scratch) {
    match part {
        Part::Points(c) => {
            s.grid.clear();
            for p in c.iter() {
                let t = f.project(p);
                if f.clip.contains(t) {
                    s.grid.push(quantize(t));
                }
            }
            let grid = std::mem::take(&mut s.grid);
            s.geom[2].points(&grid);
            s.grid = grid;
        }
        Part::Line(c) => {
            f.clip.reduce(c.iter(), |p| f.project(p), &mut s.projected);
            s.lines.clear();
            f.clip.line(&s.projected, &mut s.lines);
            let mut lines = std::mem::take(&mut s.lines);
            for line in &mut lines {
                douglas_peucker(line, f.simplify, &mut s.keep, &mut s.stack);
                to_grid(line, &mut s.grid);
                if s.grid.len() >= 2 {
                    s.geom[1].line(&s.grid);
                }
            }
            s.lines = lines;
        }
        Part::Polygon(rings) => {
            let mut rings = rings.iter();
            let Some(exterior) = rings.next() else {
                return;
            };
            if !ring_to_grid(exterior, f, s, inside, true) {
                return;
            }
            let grid = std::mem::take(&mut s.grid);
            s.geom[0].ring(&grid);
            s.grid = grid;
            for hole in rings {
                if ring_to_grid(hole, f, s, inside, false) {
                    let grid = std::mem::take(&mut s.grid);
                    s.geom[0].ring(&grid);
                    s.grid = grid;
                }
            }
        }
    }
}

/// Projects, clips, simplifies and quantizes a ring into `s.grid`,
/// oriented as an exterior (positive area, y down) or a hole. False when
/// nothing of it is left. `inside`: the feature's envelope lies within
/// the buffered tile, so the ring is thinned and projected, not clipped.
fn ring_to_grid(
    ring: Coords<'_>,
    f: &Frame,
    s: &mut Scratch,
    inside: bool,
    exterior: bool,
) -> bool {
    let n = ring.len();
    let open = if n > 1 && ring.get(0) == ring.get(n - 1) {
        n - 1
    } else {
        n
    };
    if inside {
        f.clip
            .thin(ring.iter().take(open), |p| f.project(p), &mut s.clipped);
    } else {
        f.clip
            .reduce(ring.iter().take(open), |p| f.project(p), &mut s.projected);
        if s.projected.len() < 3 {
            return false;
        }
        f.clip.ring(&s.projected, &mut s.spare, &mut s.clipped);
    }
    if s.clipped.len() < 3 {
        return false;
    }
    s.clipped.push(s.clipped[0]);
    douglas_peucker(&mut s.clipped, f.simplify, &mut s.keep, &mut s.stack);
    to_grid(&s.clipped, &mut s.grid);
    if s.grid.len() > 1 && s.grid.first() == s.grid.last() {
        s.grid.pop();
    }
    if s.grid.len() < 3 {
        return false;
    }
    let cross = |a: (i32, i32), b: (i32, i32)| a.0 as i64 * b.1 as i64 - b.0 as i64 * a.1 as i64;
    let closing = cross(s.grid[s.grid.len() - 1], s.grid[0]);
    let area: i64 = closing + s.grid.windows(2).map(|w| cross(w[0], w[1])).sum::<i64>();
    if area == 0 {
        return false;
    }
    if (area > 0) != exterior {
        s.grid.reverse();
    }
    true
}

fn quantize((x, y): P) -> (i32, i32) {
    (round(x), round(y))
}

/// Rounds half away from zero, as `f64::round`, by a truncating
/// conversion: `round` itself is a library call on CPUs without SSE4.1
/// (the baseline x86-64 target), and this runs for every vertex. Off by
/// one only just below a half (0.49999999999999994), where the sum
/// rounds up.
#[inline]
fn round(v: f64) -> i32 {
    (v + 0.5f64.copysign(v)) as i32
}

/// Rounds to the grid, dropping repeated points.
fn to_grid(points: &[P], grid: &mut Vec<(i32, i32)>) {
    grid.clear();
    for &p in points {
        let q = quantize(p);
        if grid.last() != Some(&q) {
            grid.push(q);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rounding_matches_the_library_away_from_ties() {
        let ties = [
            0.0, 0.4, 0.5, 0.6, 1.5, 2.5, -0.4, -0.5, -0.6, -1.5, -2.5, 4095.5, -64.5,
        ];
        for v in ties {
            assert_eq!(super::round(v), v.round() as i32, "{v}");
        }
        let mut s = 5u64;
        for _ in 0..100_000 {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            let v = ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 10_000.0;
            assert_eq!(super::round(v), v.round() as i32, "{v}");
        }
    }
}
