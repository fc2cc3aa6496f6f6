//! Clipping geometry to a tile's buffered square, in tile units.
//!
//! Polygons use Sutherland–Hodgman against the four sides in turn: exact
//! for the area inside, orientation-preserving, and holes stay holes. Where
//! a ring leaves and re-enters the square the result runs along the
//! square's edge, which lies in the buffer, outside the visible tile.
//!
//! Huge features are cheap because of a pre-pass in the layer's own
//! coordinates (before any projection): a run of consecutive vertices that
//! all lie beyond the same side of the square is reduced to its first and
//! last vertex. The edges inside such a run lie wholly beyond that side,
//! so Sutherland–Hodgman would emit nothing for them, and dropping them
//! changes no output. A commune boundary of 100,000 vertices around a
//! high-zoom tile thus costs a pass of comparisons and a handful of
//! projections, and a polygon covering the whole tile becomes its square.

/// A point in tile units (y down).
pub type P = (f64, f64);

const LEFT: u8 = 1;
const RIGHT: u8 = 2;
const LOW: u8 = 4;
const HIGH: u8 = 8;

/// The square to clip to, given both in the layer's coordinates (for the
/// pre-pass) and in tile units.
#[derive(Debug, Clone, Copy)]
pub struct ClipBox {
    /// min x, min y, max x, max y in the layer's coordinates.
    pub native: [f64; 4],
    /// Lowest and highest tile unit on both axes: -buffer, extent+buffer.
    pub lo: f64,
    pub hi: f64,
    /// Steps in the layer's coordinates (x, y) that move a point by less
    /// than half the simplification tolerance in the tile: a vertex that
    /// close to the last one kept is dropped before projection. Zero keeps
    /// every vertex.
    pub min_step: (f64, f64),
}

impl ClipBox {
    fn code(&self, (x, y): P) -> u8 {
        let [x0, y0, x1, y1] = self.native;
        let mut c = 0;
        if x < x0 {
            c |= LEFT;
        } else if x > x1 {
            c |= RIGHT;
        }
        if y < y0 {
            c |= LOW;
        } else if y > y1 {
            c |= HIGH;
        }
        c
    }

    /// Projects `points` with `project`, dropping the inner vertices of
    /// every run that lies beyond one side of the square, and vertices
    /// inside it closer than `min_step` to the last one kept. The first
    /// and last vertices always stay. Reuses `out`.
    pub fn reduce(
        &self,
        points: impl Iterator<Item = P>,
        project: impl Fn(P) -> P,
        out: &mut Vec<P>,
    ) {
        out.clear();
        // The pending run: its first point, last point and shared sides.
        let mut run: Option<(P, P, u8)> = None;
        let mut kept: Option<P> = None;
        let mut dropped: Option<P> = None;
        let (sx, sy) = self.min_step;
        for p in points {
            let c = self.code(p);
            if let Some((first, last, shared)) = run {
                if shared & c != 0 {
                    run = Some((first, p, shared & c));
                    continue;
                }
                out.push(project(first));
                if last != first {
                    out.push(project(last));
                }
                kept = Some(last);
                run = None;
            }
            if c != 0 {
                if let Some(d) = dropped.take() {
                    out.push(project(d));
                }
                run = Some((p, p, c));
            } else if kept.is_some_and(|k| (p.0 - k.0).abs() < sx && (p.1 - k.1).abs() < sy) {
                dropped = Some(p);
            } else {
                out.push(project(p));
                kept = Some(p);
                dropped = None;
            }
        }
        if let Some((first, last, _)) = run {
            out.push(project(first));
            if last != first {
                out.push(project(last));
            }
        }
        if let Some(d) = dropped {
            out.push(project(d));
        }
    }

    /// Projects `points` with `project`, dropping vertices closer than
    /// `min_step` to the last one kept: [`reduce`](Self::reduce) for
    /// geometry wholly inside the square, where nothing is clipped. The
    /// first and last vertices always stay. Reuses `out`.
    pub fn thin(
        &self,
        points: impl Iterator<Item = P>,
        project: impl Fn(P) -> P,
        out: &mut Vec<P>,
    ) {
        out.clear();
        let (sx, sy) = self.min_step;
        let mut kept: Option<P> = None;
        let mut dropped: Option<P> = None;
        for p in points {
            if kept.is_some_and(|k| (p.0 - k.0).abs() < sx && (p.1 - k.1).abs() < sy) {
                dropped = Some(p);
            } else {
                out.push(project(p));
                kept = Some(p);
                dropped = None;
            }
        }
        if let Some(d) = dropped {
            out.push(project(d));
        }
    }

    /// Clips a ring (not repeating its first point at the end) to the
    /// square. The result may be empty; it keeps the ring's orientation.
    pub fn ring(&self, ring: &[P], scratch: &mut Vec<P>, out: &mut Vec<P>) {
        out.clear();
        out.extend_from_slice(ring);
        let (lo, hi) = (self.lo, self.hi);
        clip_side(out, scratch, |p| p.0 >= lo, |a, b| at_x(a, b, lo));
        clip_side(scratch, out, |p| p.0 <= hi, |a, b| at_x(a, b, hi));
        clip_side(out, scratch, |p| p.1 >= lo, |a, b| at_y(a, b, lo));
        clip_side(scratch, out, |p| p.1 <= hi, |a, b| at_y(a, b, hi));
    }

    /// Clips a line to the square, splitting it where it leaves and
    /// re-enters. Parts are appended to `parts`.
    pub fn line(&self, line: &[P], parts: &mut Vec<Vec<P>>) {
        let mut current: Vec<P> = Vec::new();
        for w in line.windows(2) {
            let Some((a, b)) = self.segment(w[0], w[1]) else {
                if current.len() > 1 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
                continue;
            };
            if current.last() != Some(&a) {
                if current.len() > 1 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
                current.push(a);
            }
            current.push(b);
        }
        if current.len() > 1 {
            parts.push(current);
        }
        if line.len() == 1 && self.contains(line[0]) {
            parts.push(vec![line[0]]);
        }
    }

    pub fn contains(&self, p: P) -> bool {
        p.0 >= self.lo && p.0 <= self.hi && p.1 >= self.lo && p.1 <= self.hi
    }

    /// The part of segment a-b inside the square.
    fn segment(&self, a: P, b: P) -> Option<(P, P)> {
        let (t0, t1) = segment_span(a, b, [self.lo, self.lo, self.hi, self.hi])?;
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let at = |t: f64| {
            if t == 0.0 {
                a
            } else if t == 1.0 {
                b
            } else {
                (a.0 + t * dx, a.1 + t * dy)
            }
        };
        Some((at(t0), at(t1)))
    }
}

/// Liang–Barsky: the parameters t0 ≤ t1 in [0, 1] of the part of
/// segment a-b inside the box [min x, min y, max x, max y] (borders
/// included), or None when the segment misses it.
pub fn segment_span(a: P, b: P, [x0, y0, x1, y1]: [f64; 4]) -> Option<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some((t0, t1))
}

fn at_x(a: P, b: P, x: f64) -> P {
    let t = (x - a.0) / (b.0 - a.0);
    (x, a.1 + t * (b.1 - a.1))
}

fn at_y(a: P, b: P, y: f64) -> P {
    let t = (y - a.1) / (b.1 - a.1);
    (a.0 + t * (b.0 - a.0), y)
}

/// One Sutherland–Hodgman pass: keeps the part of the closed ring `input`
/// on the inner side of one edge, writing it to `output`.
fn clip_side(
    input: &[P],
    output: &mut Vec<P>,
    inside: impl Fn(P) -> bool,
    cross: impl Fn(P, P) -> P,
) {
    output.clear();
    let Some(&last) = input.last() else {
        return;
    };
    let mut prev = last;
    let mut prev_in = inside(prev);
    for &p in input {
        let p_in = inside(p);
        if p_in {
            if !prev_in {
                output.push(cross(prev, p));
            }
            output.push(p);
        } else if prev_in {
            output.push(cross(prev, p));
        }
        prev = p;
        prev_in = p_in;
    }
}

/// Twice the signed area of a ring (first point not repeated).
pub fn area2(ring: &[P]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps};
    use geo_types::{polygon, LineString, MultiPolygon, Polygon};

    fn lcg(s: &mut u64) -> f64 {
        *s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*s >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A star-shaped ring around (cx, cy) with radii in [r0, r1].
    fn star(s: &mut u64, cx: f64, cy: f64, r0: f64, r1: f64, n: usize) -> Vec<P> {
        (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = r0 + (r1 - r0) * lcg(s);
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect()
    }

    fn closed(ring: &[P]) -> LineString<f64> {
        let mut pts: Vec<_> = ring.to_vec();
        pts.push(ring[0]);
        LineString::from(pts)
    }

    fn unit_box() -> ClipBox {
        // Native coordinates equal tile units here.
        ClipBox {
            native: [-64.0, -64.0, 4160.0, 4160.0],
            lo: -64.0,
            hi: 4160.0,
            min_step: (0.0, 0.0),
        }
    }

    fn clip(b: &ClipBox, ring: &[P], reduce: bool) -> Vec<P> {
        let mut reduced = Vec::new();
        if reduce {
            b.reduce(ring.iter().copied(), |p| p, &mut reduced);
        } else {
            reduced = ring.to_vec();
        }
        let (mut scratch, mut out) = (Vec::new(), Vec::new());
        b.ring(&reduced, &mut scratch, &mut out);
        out
    }

    #[test]
    fn clipped_area_equals_exact_intersection() {
        let b = unit_box();
        let square: Polygon<f64> = polygon![
            (x: -64.0, y: -64.0), (x: 4160.0, y: -64.0),
            (x: 4160.0, y: 4160.0), (x: -64.0, y: 4160.0),
        ];
        let mut s = 99u64;
        for case in 0..500 {
            let (cx, cy) = (lcg(&mut s) * 8000.0 - 2000.0, lcg(&mut s) * 8000.0 - 2000.0);
            let r1 = 200.0 + lcg(&mut s) * 5000.0;
            let n = 3 + (lcg(&mut s) * 200.0) as usize;
            let shell = star(&mut s, cx, cy, r1 * 0.4, r1, n);
            let hole = star(&mut s, cx, cy, r1 * 0.1, r1 * 0.35, 3 + n / 3);
            let mut hole_cw = hole.clone();
            hole_cw.reverse();
            let poly = Polygon::new(closed(&shell), vec![closed(&hole_cw)]);
            let exact = MultiPolygon::new(vec![poly])
                .intersection(&MultiPolygon::new(vec![square.clone()]));
            let want = exact.unsigned_area();
            for reduce in [false, true] {
                let got =
                    (area2(&clip(&b, &shell, reduce)) + area2(&clip(&b, &hole_cw, reduce))) / 2.0;
                let tolerance = 1e-6 * want.max(1.0);
                assert!(
                    (got.abs() - want).abs() <= tolerance,
                    "case {case} (reduce {reduce}): clipped area {got}, exact {want}"
                );
            }
        }
    }

    #[test]
    fn covering_polygon_becomes_the_square() {
        let b = unit_box();
        let mut s = 5u64;
        let ring = star(&mut s, 2048.0, 2048.0, 20_000.0, 30_000.0, 100_000);
        let mut reduced = Vec::new();
        b.reduce(ring.iter().copied(), |p| p, &mut reduced);
        assert!(
            reduced.len() < 40,
            "{} points survive the pre-pass",
            reduced.len()
        );
        let out = clip(&b, &ring, true);
        assert!((area2(&out).abs() / 2.0 - 4224.0 * 4224.0).abs() < 1e-3);
    }

    #[test]
    fn thinning_keeps_the_ends_and_a_vertex_near_every_one_dropped() {
        let b = ClipBox {
            min_step: (2.0, 3.0),
            ..unit_box()
        };
        let mut s = 17u64;
        let ring = star(&mut s, 2048.0, 2048.0, 1000.0, 1000.0, 20_000);
        let mut thinned = Vec::new();
        b.thin(ring.iter().copied(), |p| (p.0 * 2.0, p.1), &mut thinned);
        assert!(thinned.len() < 4000, "{} of 20,000 kept", thinned.len());
        assert_eq!(thinned[0], (ring[0].0 * 2.0, ring[0].1));
        let last = ring[ring.len() - 1];
        assert_eq!(thinned[thinned.len() - 1], (last.0 * 2.0, last.1));
        // Every input vertex is the one kept or within a step of it.
        let mut k = 0;
        for p in &ring {
            let near = |q: P| (p.0 - q.0 / 2.0).abs() < 2.0 && (p.1 - q.1).abs() < 3.0;
            if !near(thinned[k]) {
                k += 1;
                assert_eq!(thinned[k], (p.0 * 2.0, p.1), "a far vertex is kept");
            }
        }
        // No step: every vertex stays.
        unit_box().thin(ring.iter().copied(), |p| p, &mut thinned);
        assert_eq!(thinned, ring);
    }

    #[test]
    fn clipped_lines_and_points_equal_exact_clipping() {
        use geo::{BooleanOps, Euclidean, Length};
        use geo_types::MultiLineString;
        let b = unit_box();
        let square: Polygon<f64> = polygon![
            (x: -64.0, y: -64.0), (x: 4160.0, y: -64.0),
            (x: 4160.0, y: 4160.0), (x: -64.0, y: 4160.0),
        ];
        let mut s = 41u64;
        for case in 0..300 {
            let n = 2 + (lcg(&mut s) * 60.0) as usize;
            let line: Vec<P> = (0..n)
                .map(|_| (lcg(&mut s) * 9000.0 - 2400.0, lcg(&mut s) * 9000.0 - 2400.0))
                .collect();
            let exact = square.clip(
                &MultiLineString::new(vec![LineString::from(line.clone())]),
                false,
            );
            let want: f64 = exact.0.iter().map(|l| Euclidean.length(l)).sum();
            let mut reduced = Vec::new();
            b.reduce(line.iter().copied(), |p| p, &mut reduced);
            let mut parts = Vec::new();
            b.line(&reduced, &mut parts);
            let got: f64 = parts
                .iter()
                .map(|l| Euclidean.length(&LineString::from(l.clone())))
                .sum();
            assert!(
                (got - want).abs() < 1e-6 * want.max(1.0),
                "case {case}: {got} vs {want}"
            );
            for p in &line {
                let inside = p.0 >= -64.0 && p.0 <= 4160.0 && p.1 >= -64.0 && p.1 <= 4160.0;
                assert_eq!(b.contains(*p), inside, "{p:?}");
            }
        }
    }

    #[test]
    fn lines_split_where_they_leave_and_reenter() {
        let b = unit_box();
        let line = [(0.0, 100.0), (5000.0, 100.0), (5000.0, 200.0), (0.0, 200.0)];
        let mut parts = Vec::new();
        b.line(&line, &mut parts);
        assert_eq!(
            parts,
            vec![
                vec![(0.0, 100.0), (4160.0, 100.0)],
                vec![(4160.0, 200.0), (0.0, 200.0)]
            ]
        );
        let mut parts = Vec::new();
        b.line(&[(-100.0, -100.0), (-100.0, 5000.0)], &mut parts);
        assert!(parts.is_empty());
    }
}
