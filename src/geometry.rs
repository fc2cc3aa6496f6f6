//! Geometry read straight from a feature's bytes: the parts of a
//! FlatGeobuf geometry as views on its coordinate array, without copying.

use flatgeobuf::GeometryType;

use crate::feature::{FeatureView, GeometryView, Malformed};

/// An axis-aligned box; in EPSG:4326 degrees unless said otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    pub min_x: f64,
    pub min_y: f64,
    pub max_x: f64,
    pub max_y: f64,
}

impl Bbox {
    pub fn new(min_x: f64, min_y: f64, max_x: f64, max_y: f64) -> Bbox {
        Bbox {
            min_x,
            min_y,
            max_x,
            max_y,
        }
    }

    pub fn union(&self, o: &Bbox) -> Bbox {
        Bbox::new(
            self.min_x.min(o.min_x),
            self.min_y.min(o.min_y),
            self.max_x.max(o.max_x),
            self.max_y.max(o.max_y),
        )
    }

    pub fn intersects(&self, o: &Bbox) -> bool {
        self.min_x <= o.max_x
            && o.min_x <= self.max_x
            && self.min_y <= o.max_y
            && o.min_y <= self.max_y
    }

    /// Finite with min ≤ max on both axes.
    pub fn is_sane(&self) -> bool {
        [self.min_x, self.min_y, self.max_x, self.max_y]
            .iter()
            .all(|v| v.is_finite())
            && self.min_x <= self.max_x
            && self.min_y <= self.max_y
    }
}

/// A run of x, y pairs in a feature's bytes (little-endian f64).
#[derive(Debug, Clone, Copy)]
pub struct Coords<'a>(&'a [u8]);

impl<'a> Coords<'a> {
    pub fn len(&self) -> usize {
        self.0.len() / 16
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Point `i`; panics past the end, like slice indexing.
    pub fn get(&self, i: usize) -> (f64, f64) {
        pair(&self.0[i * 16..i * 16 + 16])
    }

    pub fn iter(&self) -> impl Iterator<Item = (f64, f64)> + 'a {
        self.0.chunks_exact(16).map(pair)
    }

    /// Points `from..to`; empty when out of range (never, for runs
    /// checked by `Runs::new`).
    fn slice(&self, from: usize, to: usize) -> Coords<'a> {
        Coords(self.0.get(from * 16..to * 16).unwrap_or_default())
    }
}

/// One coordinate array cut into runs at a geometry's `ends`: the rings
/// of a polygon, the lines of a multi-line. The ends are checked once,
/// when made, so the runs are read without allocating.
#[derive(Debug, Clone, Copy)]
pub struct Runs<'a> {
    xy: Coords<'a>,
    /// Little-endian u32 point counts, increasing, the last equal to
    /// the number of points; empty for a single run.
    ends: &'a [u8],
}

impl<'a> Runs<'a> {
    #[inline]
    fn new(xy: Coords<'a>, ends: Option<&'a [u8]>) -> Result<Runs<'a>, Malformed> {
        let ends = ends.unwrap_or_default();
        let mut start = 0usize;
        for end in ends.chunks_exact(4) {
            let end = u32::from_le_bytes([end[0], end[1], end[2], end[3]]) as usize;
            if end <= start || end > xy.len() {
                return Err(Malformed::PartEnd {
                    end,
                    points: xy.len(),
                });
            }
            start = end;
        }
        if !ends.is_empty() && start != xy.len() {
            return Err(Malformed::PartsEnd {
                start,
                points: xy.len(),
            });
        }
        Ok(Runs { xy, ends })
    }

    pub fn len(&self) -> usize {
        if self.ends.is_empty() {
            1
        } else {
            self.ends.len() / 4
        }
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The first run: a polygon's exterior ring.
    pub fn first(&self) -> Coords<'a> {
        self.iter().next().unwrap_or(self.xy)
    }

    pub fn iter(&self) -> impl Iterator<Item = Coords<'a>> + 'a {
        let xy = self.xy;
        let single = self.ends.is_empty().then_some(xy);
        let mut start = 0usize;
        single
            .into_iter()
            .chain(self.ends.chunks_exact(4).map(move |e| {
                let end = u32::from_le_bytes([e[0], e[1], e[2], e[3]]) as usize;
                let run = xy.slice(start, end);
                start = end;
                run
            }))
    }
}

/// Reads one x, y pair from 16 bytes; compiles to two unaligned loads.
#[inline(always)]
fn pair(b: &[u8]) -> (f64, f64) {
    let mut x = [0u8; 8];
    let mut y = [0u8; 8];
    x.copy_from_slice(&b[..8]);
    y.copy_from_slice(&b[8..16]);
    (f64::from_le_bytes(x), f64::from_le_bytes(y))
}

/// One simple piece of a geometry.
#[derive(Debug, Clone)]
pub enum Part<'a> {
    Points(Coords<'a>),
    Line(Coords<'a>),
    /// Exterior ring first, then holes.
    Polygon(Runs<'a>),
}

/// The parts of a feature's geometry. `header_type` is the layer's
/// geometry type; when it is Unknown each feature names its own.
/// A feature without geometry has no parts.
pub fn parts<'a>(
    feature: &FeatureView<'a>,
    header_type: GeometryType,
) -> Result<Vec<Part<'a>>, String> {
    let mut out = Vec::new();
    parts_into(feature, header_type, &mut out)?;
    Ok(out)
}

/// `parts` into a vector the caller reuses (cleared first).
pub fn parts_into<'a>(
    feature: &FeatureView<'a>,
    header_type: GeometryType,
    out: &mut Vec<Part<'a>>,
) -> Result<(), Malformed> {
    out.clear();
    if let Some(g) = feature.geometry()? {
        let kind = if header_type == GeometryType::Unknown {
            g.kind()?
        } else {
            header_type
        };
        // Every part of every level takes at least the 4 bytes of its
        // offset: more visits than that mean parts shared by offsets,
        // which could otherwise multiply the work at each level.
        let mut budget = g.buffer_len() / 4;
        collect(&g, kind, out, 0, &mut budget)?;
    }
    Ok(())
}

#[inline]
fn coords<'a>(g: &GeometryView<'a>) -> Result<Coords<'a>, Malformed> {
    let bytes = g.xy()?;
    if !bytes.len().is_multiple_of(16) {
        return Err(Malformed::OddCoordinates);
    }
    Ok(Coords(bytes))
}

fn collect<'a>(
    g: &GeometryView<'a>,
    kind: GeometryType,
    out: &mut Vec<Part<'a>>,
    depth: u32,
    budget: &mut usize,
) -> Result<(), Malformed> {
    match kind {
        GeometryType::Point | GeometryType::MultiPoint => {
            let xy = coords(g)?;
            if !xy.is_empty() {
                out.push(Part::Points(xy));
            }
        }
        GeometryType::LineString | GeometryType::MultiLineString => {
            let xy = coords(g)?;
            if !xy.is_empty() {
                out.extend(Runs::new(xy, g.ends()?)?.iter().map(Part::Line));
            }
        }
        GeometryType::Polygon => {
            let xy = coords(g)?;
            if !xy.is_empty() {
                out.push(Part::Polygon(Runs::new(xy, g.ends()?)?));
            }
        }
        GeometryType::MultiPolygon | GeometryType::GeometryCollection => {
            if depth > 8 {
                return Err(Malformed::TooDeep);
            }
            let parts = g.parts()?;
            *budget = budget
                .checked_sub(parts.len())
                .ok_or(Malformed::SharedParts)?;
            for part in parts {
                let kind = if kind == GeometryType::MultiPolygon {
                    GeometryType::Polygon
                } else {
                    part.kind()?
                };
                collect(&part, kind, out, depth + 1, budget)?;
            }
        }
        other => return Err(Malformed::Unsupported(other)),
    }
    Ok(())
}

/// The envelope of a feature's geometry, or None when it has none.
pub fn bbox(feature: &FeatureView<'_>, header_type: GeometryType) -> Result<Option<Bbox>, String> {
    let mut acc: Option<Bbox> = None;
    for part in parts(feature, header_type)? {
        let run = match &part {
            Part::Points(c) | Part::Line(c) => *c,
            Part::Polygon(rings) => rings.first(),
        };
        for (x, y) in run.iter() {
            if !x.is_finite() || !y.is_finite() {
                return Err(format!("coordinate ({x}, {y}) is not finite"));
            }
            let p = Bbox::new(x, y, x, y);
            acc = Some(acc.map_or(p, |a| a.union(&p)));
        }
    }
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flatgeobuf::{Feature, FeatureArgs, Geometry, GeometryArgs};

    /// A feature whose geometry is `levels` collections deep, each level's
    /// parts all the same table: a few kilobytes that name `width^levels`
    /// points.
    fn shared(levels: usize, width: usize) -> Vec<u8> {
        let mut b = flatbuffers::FlatBufferBuilder::new();
        let xy = b.create_vector(&[105.8f64, 21.0]);
        let mut g = Geometry::create(
            &mut b,
            &GeometryArgs {
                xy: Some(xy),
                type_: GeometryType::Point,
                ..Default::default()
            },
        );
        for _ in 0..levels {
            let parts = b.create_vector(&vec![g; width]);
            g = Geometry::create(
                &mut b,
                &GeometryArgs {
                    parts: Some(parts),
                    type_: GeometryType::GeometryCollection,
                    ..Default::default()
                },
            );
        }
        let f = Feature::create(
            &mut b,
            &FeatureArgs {
                geometry: Some(g),
                ..Default::default()
            },
        );
        b.finish(f, None);
        b.finished_data().to_vec()
    }

    #[test]
    fn collections_of_shared_parts_are_refused_not_walked() {
        // 1000^9 visits if walked; refused after the budget.
        let bytes = shared(8, 1000);
        let view = FeatureView::new(&bytes).expect("feature");
        let err = parts(&view, GeometryType::Unknown).expect_err("refused");
        assert!(err.contains("parts shared"), "{err}");
        // The same shape without sharing too wide is read whole.
        let bytes = shared(3, 3);
        let view = FeatureView::new(&bytes).expect("feature");
        let found = parts(&view, GeometryType::Unknown).expect("read");
        assert_eq!(found.len(), 27);
    }
}
