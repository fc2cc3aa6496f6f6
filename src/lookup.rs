//! "What is planned here?": the features at a point and in a box, found
//! with the same R-tree that renders tiles and confirmed on the exact
//! geometry, and their GeoJSON.
//!
//! Distances and areas use a local equirectangular approximation around
//! the query (metres per degree at its latitude): within a metre over the
//! few hundred metres a lookup spans, and only used for tolerances and
//! ordering, never stored.

use serde_json::{json, Map, Value};

use crate::geometry::{self, Bbox, Coords, Part, Runs};
use crate::layer::{Crs, Layer};
use crate::properties::{PropValue, Properties};
use crate::tile::mercator_to_lonlat;
use crate::tileset::TilesetLayer;

/// Metres per degree of latitude (WGS84, mid-latitudes).
const M_PER_DEG_LAT: f64 = 110_574.0;
/// Metres per degree of longitude at the equator.
const M_PER_DEG_LON: f64 = 111_320.0;

/// A feature found by a lookup.
#[derive(Clone, Copy)]
pub struct Hit<'a> {
    pub layer: &'a TilesetLayer,
    /// The feature's byte offset: its id within the layer.
    pub offset: u64,
    /// Area in square metres (0 for lines and points), for ordering.
    pub area: f64,
}

/// A lookup that could not be answered because of the data.
#[derive(Debug, thiserror::Error)]
#[error("{layer}: feature at byte {offset} could not be read: {problem}")]
pub struct LookupError {
    pub layer: String,
    pub offset: u64,
    pub problem: String,
}

/// Degrees from a layer's coordinates.
fn lonlat(crs: Crs, (x, y): (f64, f64)) -> (f64, f64) {
    match crs {
        Crs::Wgs84 => (x, y),
        Crs::WebMercator => mercator_to_lonlat(x, y),
    }
}

/// The parts of a feature, or a skip reason.
fn parts_of<'a>(layer: &'a Layer, offset: u64) -> Result<Vec<Part<'a>>, String> {
    let feature = layer.feature(offset)?;
    geometry::parts(&feature, layer.geometry_type)
}

/// Even-odd point-in-polygon over all rings (holes excluded).
fn in_rings(rings: &Runs<'_>, crs: Crs, p: (f64, f64)) -> bool {
    let mut inside = false;
    for ring in rings.iter() {
        let n = ring.len();
        if n < 3 {
            continue;
        }
        let mut a = lonlat(crs, ring.get(n - 1));
        for b in ring.iter().map(|q| lonlat(crs, q)) {
            if (a.1 > p.1) != (b.1 > p.1) && p.0 < a.0 + (p.1 - a.1) / (b.1 - a.1) * (b.0 - a.0) {
                inside = !inside;
            }
            a = b;
        }
    }
    inside
}

/// Metres from p to segment a-b, in a frame local to p.
fn segment_metres(p: (f64, f64), a: (f64, f64), b: (f64, f64), kx: f64) -> f64 {
    let m = |q: (f64, f64)| ((q.0 - p.0) * kx, (q.1 - p.1) * M_PER_DEG_LAT);
    let (a, b) = (m(a), m(b));
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
    };
    ((a.0 + t * dx).powi(2) + (a.1 + t * dy).powi(2)).sqrt()
}

/// Area of polygon rings in square metres (exterior minus holes).
fn rings_m2(rings: &Runs<'_>, crs: Crs, kx: f64) -> f64 {
    let signed = |r: &Coords<'_>| {
        let pts: Vec<(f64, f64)> = r.iter().map(|q| lonlat(crs, q)).collect();
        pts.windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum::<f64>()
            / 2.0
    };
    let mut rings = rings.iter();
    let outer = rings.next().map_or(0.0, |r| signed(&r).abs());
    let holes: f64 = rings.map(|r| signed(&r).abs()).sum();
    (outer - holes).max(0.0) * kx * M_PER_DEG_LAT
}

/// Whether a feature's parts reach point p (degrees): inside a polygon,
/// or within `tolerance` metres of a line or point. Returns its area.
fn reaches(parts: &[Part<'_>], crs: Crs, p: (f64, f64), tolerance: f64) -> Option<f64> {
    let kx = M_PER_DEG_LON * p.1.to_radians().cos();
    let mut hit = false;
    for part in parts {
        match part {
            Part::Polygon(rings) => {
                hit |= in_rings(rings, crs, p);
            }
            Part::Line(c) => {
                let pts: Vec<(f64, f64)> = c.iter().map(|q| lonlat(crs, q)).collect();
                hit |= pts
                    .windows(2)
                    .any(|w| segment_metres(p, w[0], w[1], kx) <= tolerance)
                    || (pts.len() == 1 && segment_metres(p, pts[0], pts[0], kx) <= tolerance);
            }
            Part::Points(c) => {
                hit |= c
                    .iter()
                    .any(|q| segment_metres(p, lonlat(crs, q), lonlat(crs, q), kx) <= tolerance);
            }
        }
    }
    // The area orders the answer; only hits need it.
    hit.then(|| {
        parts
            .iter()
            .map(|part| match part {
                Part::Polygon(rings) => rings_m2(rings, crs, kx),
                _ => 0.0,
            })
            .sum()
    })
}

/// Features of `layers` whose geometry contains (lon, lat), lines and
/// points within `tolerance` metres; ordered by layer, then by area,
/// smallest first. Features that fail to decode are skipped and counted
/// in `skipped`.
pub fn at_point<'a>(
    layers: &[&'a TilesetLayer],
    lon: f64,
    lat: f64,
    tolerance: f64,
    skipped: &mut usize,
) -> Vec<Hit<'a>> {
    let dlat = tolerance / M_PER_DEG_LAT;
    let dlon = tolerance / (M_PER_DEG_LON * lat.to_radians().cos().max(1e-6));
    let query = Bbox::new(lon - dlon, lat - dlat, lon + dlon, lat + dlat);
    let mut out = Vec::new();
    for tl in layers {
        let mut offsets = Vec::new();
        tl.layer
            .index()
            .intersecting(&query, |e| offsets.push(e.offset));
        offsets.sort_unstable();
        let mut hits = Vec::new();
        for offset in offsets {
            match parts_of(&tl.layer, offset) {
                Ok(parts) => {
                    if let Some(area) = reaches(&parts, tl.layer.crs, (lon, lat), tolerance) {
                        hits.push(Hit {
                            layer: tl,
                            offset,
                            area,
                        });
                    }
                }
                Err(_) => *skipped += 1,
            }
        }
        hits.sort_by(|a, b| a.area.total_cmp(&b.area).then(a.offset.cmp(&b.offset)));
        out.extend(hits);
    }
    out
}

/// Whether segment a-c meets box b.
fn segment_meets(a: (f64, f64), c: (f64, f64), b: &Bbox) -> bool {
    crate::clip::segment_span(a, c, [b.min_x, b.min_y, b.max_x, b.max_y]).is_some()
}

/// Whether a feature's parts intersect box `b` (degrees), exactly.
fn meets_box(parts: &[Part<'_>], crs: Crs, b: &Bbox) -> bool {
    let inside =
        |p: (f64, f64)| p.0 >= b.min_x && p.0 <= b.max_x && p.1 >= b.min_y && p.1 <= b.max_y;
    let path_meets = |c: &Coords<'_>, closed: bool| {
        let pts: Vec<(f64, f64)> = c.iter().map(|q| lonlat(crs, q)).collect();
        (pts.len() == 1 && inside(pts[0]))
            || pts.windows(2).any(|w| segment_meets(w[0], w[1], b))
            || (closed && pts.len() > 2 && segment_meets(pts[pts.len() - 1], pts[0], b))
    };
    parts.iter().any(|part| match part {
        Part::Points(c) => c.iter().any(|q| inside(lonlat(crs, q))),
        Part::Line(c) => path_meets(c, false),
        Part::Polygon(rings) => {
            rings.iter().any(|r| path_meets(&r, true))
                || in_rings(
                    rings,
                    crs,
                    ((b.min_x + b.max_x) / 2.0, (b.min_y + b.max_y) / 2.0),
                )
        }
    })
}

/// The offsets of a layer's features that intersect `bbox` and pass
/// `keep`, in file order.
pub fn in_bbox(
    tl: &TilesetLayer,
    bbox: &Bbox,
    mut keep: impl FnMut(u64) -> bool,
    skipped: &mut usize,
) -> Vec<u64> {
    let mut offsets = Vec::new();
    tl.layer
        .index()
        .intersecting(bbox, |e| offsets.push(e.offset));
    offsets.sort_unstable();
    offsets.retain(|&offset| match parts_of(&tl.layer, offset) {
        Ok(parts) => meets_box(&parts, tl.layer.crs, bbox) && keep(offset),
        Err(_) => {
            *skipped += 1;
            false
        }
    });
    offsets
}

/// A property value as text, for equality filters.
pub fn value_text(v: &PropValue<'_>) -> String {
    match v {
        PropValue::Bool(b) => b.to_string(),
        PropValue::Int(i) => i.to_string(),
        PropValue::Uint(u) => u.to_string(),
        PropValue::Float(f) => f.to_string(),
        PropValue::Double(f) => f.to_string(),
        PropValue::Text(t) => t.to_string(),
        PropValue::Binary(b) => format!("{} bytes", b.len()),
    }
}

fn value_json(v: &PropValue<'_>) -> Value {
    match *v {
        PropValue::Bool(b) => json!(b),
        PropValue::Int(i) => json!(i),
        PropValue::Uint(u) => json!(u),
        PropValue::Float(f) => json!(f as f64),
        PropValue::Double(f) => json!(f),
        PropValue::Text(t) => json!(t),
        PropValue::Binary(b) => json!(format!("{} bytes", b.len())),
    }
}

/// The properties of a feature as (column, text) pairs.
pub fn properties_text(layer: &Layer, offset: u64) -> Result<Vec<(usize, String)>, String> {
    let feature = layer.feature(offset)?;
    let bytes = feature.properties()?;
    Properties::new(bytes, &layer.columns)
        .map(|r| r.map(|(c, v)| (c, value_text(&v))))
        .collect()
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn coords_json(c: &Coords<'_>, crs: Crs) -> Value {
    Value::Array(
        c.iter()
            .map(|q| {
                let (x, y) = lonlat(crs, q);
                json!([round7(x), round7(y)])
            })
            .collect(),
    )
}

/// GeoJSON geometry of a feature's parts (WGS84, 7 decimals).
fn geometry_json(parts: &[Part<'_>], crs: Crs) -> Value {
    let mut polygons = Vec::new();
    let mut lines = Vec::new();
    let mut points = Vec::new();
    for part in parts {
        match part {
            Part::Polygon(rings) => polygons.push(Value::Array(
                rings.iter().map(|r| coords_json(&r, crs)).collect(),
            )),
            Part::Line(c) => lines.push(coords_json(c, crs)),
            Part::Points(c) => {
                if let Value::Array(v) = coords_json(c, crs) {
                    points.extend(v);
                }
            }
        }
    }
    let mut geoms = Vec::new();
    match polygons.len() {
        0 => {}
        1 => geoms.push(json!({"type": "Polygon", "coordinates": polygons.remove(0)})),
        _ => geoms.push(json!({"type": "MultiPolygon", "coordinates": polygons})),
    }
    match lines.len() {
        0 => {}
        1 => geoms.push(json!({"type": "LineString", "coordinates": lines.remove(0)})),
        _ => geoms.push(json!({"type": "MultiLineString", "coordinates": lines})),
    }
    match points.len() {
        0 => {}
        1 => geoms.push(json!({"type": "Point", "coordinates": points.remove(0)})),
        _ => geoms.push(json!({"type": "MultiPoint", "coordinates": points})),
    }
    match geoms.len() {
        0 => Value::Null,
        1 => geoms.remove(0),
        _ => json!({"type": "GeometryCollection", "geometries": geoms}),
    }
}

/// A GeoJSON Feature: `id` the byte offset, the layer's name in
/// `layer`, the properties (all, or those named in `only`), and the
/// geometry unless `with_geometry` is false.
pub fn feature_json(
    tl: &TilesetLayer,
    name: &str,
    offset: u64,
    only: Option<&[String]>,
    with_geometry: bool,
) -> Result<Value, LookupError> {
    let layer = &tl.layer;
    let fail = |problem: String| LookupError {
        layer: layer.name.clone(),
        offset,
        problem,
    };
    let feature = layer.feature(offset).map_err(|m| fail(m.into()))?;
    let mut props = Map::new();
    let bytes = feature.properties().map_err(|m| fail(m.into()))?;
    for item in Properties::new(bytes, &layer.columns) {
        let (c, v) = item.map_err(fail)?;
        let column = &layer.columns[c].name;
        if only.is_none_or(|names| names.iter().any(|n| n == column)) {
            props.insert(column.clone(), value_json(&v));
        }
    }
    let geometry = if with_geometry {
        let parts = geometry::parts(&feature, layer.geometry_type).map_err(fail)?;
        geometry_json(&parts, layer.crs)
    } else {
        Value::Null
    };
    Ok(json!({
        "type": "Feature",
        "id": offset,
        "layer": name,
        "properties": props,
        "geometry": geometry,
    }))
}

/// Whether `offset` is the start of a feature of `layer` (not just any
/// byte): the feature's own envelope must find it in the index.
pub fn is_feature(layer: &Layer, offset: u64) -> bool {
    let Ok(feature) = layer.feature(offset) else {
        return false;
    };
    let Ok(Some(b)) = geometry::bbox(&feature, layer.geometry_type) else {
        return false;
    };
    let b = match layer.crs {
        Crs::Wgs84 => b,
        Crs::WebMercator => {
            let (x0, y0) = mercator_to_lonlat(b.min_x, b.min_y);
            let (x1, y1) = mercator_to_lonlat(b.max_x, b.max_y);
            Bbox::new(x0, y0, x1, y1)
        }
    };
    let mut found = false;
    layer
        .index()
        .intersecting(&b, |e| found |= e.offset == offset);
    found
}
