//! Geometry checks and safe repairs during import.
//!
//! Safe repairs: repeated consecutive points removed, open rings closed,
//! and polygons that break the simple-feature rules (self-intersections,
//! crossing holes) rebuilt by geo's `MakeValid` (a constrained Delaunay
//! triangulation, odd-even fill). What cannot be repaired is skipped:
//! non-finite coordinates, lines of fewer than two distinct points,
//! polygons with no area left.

use geo::{CoordsIter, MakeValid, Validation};
use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Polygon};

fn dedup(ring: &LineString<f64>) -> Vec<Coord<f64>> {
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
    for &c in &ring.0 {
        if pts.last() != Some(&c) {
            pts.push(c);
        }
    }
    pts
}

/// A ring with repeats removed and closed; None if it has no area.
fn clean_ring(ring: &LineString<f64>, changed: &mut bool) -> Option<LineString<f64>> {
    let mut pts = dedup(ring);
    if pts.len() != ring.0.len() {
        *changed = true;
    }
    if pts.first() != pts.last() {
        if let Some(&first) = pts.first() {
            pts.push(first);
            *changed = true;
        }
    }
    (pts.len() >= 4).then_some(LineString(pts))
}

fn clean_polygon(p: &Polygon<f64>, changed: &mut bool) -> Option<Polygon<f64>> {
    let exterior = clean_ring(p.exterior(), changed)?;
    let holes: Vec<LineString<f64>> = p
        .interiors()
        .iter()
        .filter_map(|h| {
            let cleaned = clean_ring(h, changed);
            if cleaned.is_none() {
                *changed = true;
            }
            cleaned
        })
        .collect();
    Some(Polygon::new(exterior, holes))
}

fn clean_line(l: &LineString<f64>, changed: &mut bool) -> Option<LineString<f64>> {
    let pts = dedup(l);
    if pts.len() != l.0.len() {
        *changed = true;
    }
    (pts.len() >= 2).then_some(LineString(pts))
}

/// The geometry ready to write, and whether it was repaired; or why it
/// has to be skipped.
pub fn clean(g: Geometry<f64>) -> Result<(Geometry<f64>, bool), String> {
    if g.coords_iter()
        .any(|c| !c.x.is_finite() || !c.y.is_finite())
    {
        return Err("coordinate is not a finite number (check the CRS)".into());
    }
    let mut changed = false;
    let cleaned = match &g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => g.clone(),
        Geometry::LineString(l) => Geometry::LineString(
            clean_line(l, &mut changed).ok_or("line of fewer than two distinct points")?,
        ),
        Geometry::MultiLineString(ml) => {
            let lines: Vec<_> =
                ml.0.iter()
                    .filter_map(|l| clean_line(l, &mut changed))
                    .collect();
            if lines.is_empty() {
                return Err("no line of two distinct points".into());
            }
            Geometry::MultiLineString(MultiLineString(lines))
        }
        Geometry::Polygon(p) => {
            Geometry::Polygon(clean_polygon(p, &mut changed).ok_or("polygon exterior has no area")?)
        }
        Geometry::MultiPolygon(mp) => {
            let parts: Vec<_> =
                mp.0.iter()
                    .filter_map(|p| clean_polygon(p, &mut changed))
                    .collect();
            if parts.is_empty() {
                return Err("no polygon part has an area".into());
            }
            Geometry::MultiPolygon(MultiPolygon(parts))
        }
        Geometry::Line(l) => Geometry::LineString(LineString(vec![l.start, l.end])),
        Geometry::Rect(r) => Geometry::Polygon(r.to_polygon()),
        Geometry::Triangle(t) => Geometry::Polygon(t.to_polygon()),
        Geometry::GeometryCollection(_) => {
            return Err("geometry collections are not imported; split them by type".into())
        }
    };
    let areal = match &cleaned {
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(mp) => Some(mp.clone()),
        _ => None,
    };
    match areal {
        Some(mp) if !mp.is_valid() => {
            let cannot = |why: String| format!("invalid polygon that cannot be repaired: {why}");
            let mut fixed = mp.make_valid().map_err(|e| cannot(e.to_string()))?;
            if fixed.0.is_empty() || !fixed.is_valid() {
                return Err(cannot("no valid area left".into()));
            }
            let g = if fixed.0.len() == 1 {
                Geometry::Polygon(fixed.0.remove(0))
            } else {
                Geometry::MultiPolygon(fixed)
            };
            Ok((g, true))
        }
        _ => Ok((cleaned, changed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn bowtie_is_rebuilt_and_repeated_points_dropped() {
        let bowtie: Polygon<f64> =
            polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)];
        let (g, repaired) = clean(Geometry::Polygon(bowtie)).unwrap();
        assert!(repaired);
        assert!(g.is_valid());
        let repeated = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (1.0, 0.0),
                (1.0, 0.0),
                (1.0, 1.0),
                (0.0, 0.0),
            ]),
            vec![],
        );
        let (g, repaired) = clean(Geometry::Polygon(repeated)).unwrap();
        assert!(repaired && g.is_valid());
        assert_eq!(geo::CoordsIter::coords_count(&g), 4);
    }

    #[test]
    fn hopeless_geometry_is_skipped() {
        let flat = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (0.0, 0.0)]),
            vec![],
        );
        assert!(clean(Geometry::Polygon(flat)).is_err());
        let nan = Geometry::Point(geo_types::Point::new(f64::NAN, 1.0));
        assert!(clean(nan).is_err());
        let dot = LineString::from(vec![(1.0, 1.0), (1.0, 1.0)]);
        assert!(clean(Geometry::LineString(dot)).is_err());
    }
}
