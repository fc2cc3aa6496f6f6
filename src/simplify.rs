//! Douglas–Peucker simplification in tile units.
//!
//! The default tolerance of one unit of a 4096 grid is what tippecanoe
//! uses at every zoom: detail below a pixel of a high-resolution screen
//! is dropped, and a line never moves by more than that.

use crate::clip::P;

/// Keeps the points of `line` that Douglas–Peucker keeps with
/// `tolerance`, in place. The first and last points always stay. A
/// tolerance of 0 (or less) keeps every point; a ring may be passed with
/// its first point repeated at the end.
pub fn douglas_peucker(
    line: &mut Vec<P>,
    tolerance: f64,
    keep: &mut Vec<bool>,
    stack: &mut Vec<(usize, usize)>,
) {
    let n = line.len();
    if n < 3 || tolerance <= 0.0 {
        return;
    }
    let t2 = tolerance * tolerance;
    if n <= 64 {
        return small(line, t2);
    }
    keep.clear();
    keep.resize(n, false);
    keep[0] = true;
    keep[n - 1] = true;
    let mut kept = 2;
    stack.clear();
    stack.push((0, n - 1));
    while let Some((a, b)) = stack.pop() {
        if let Some(far) = farthest(line, a, b, t2) {
            keep[far] = true;
            kept += 1;
            // Spans without a point between their ends are not pushed.
            if far - a > 1 {
                stack.push((a, far));
            }
            if b - far > 1 {
                stack.push((far, b));
            }
        }
    }
    if kept == n {
        return;
    }
    let mut k = 0;
    line.retain(|_| {
        k += 1;
        keep[k - 1]
    });
}

/// The same for at most 64 points (every parcel): the kept points are
/// bits of a word and the stack an array, nothing to clear or resize.
fn small(line: &mut Vec<P>, t2: f64) {
    let n = line.len();
    let mut keep: u64 = 1 | 1 << (n - 1);
    // Only spans with a point between their ends are pushed, and each
    // pop pushes at most two spans of fewer points: depth < n.
    let mut stack = [(0u8, 0u8); 64];
    stack[0] = (0, (n - 1) as u8);
    let mut top = 1;
    while top > 0 {
        top -= 1;
        let (a, b) = (stack[top].0 as usize, stack[top].1 as usize);
        if let Some(far) = farthest(line, a, b, t2) {
            keep |= 1 << far;
            if far - a > 1 && top < stack.len() {
                stack[top] = (a as u8, far as u8);
                top += 1;
            }
            if b - far > 1 && top < stack.len() {
                stack[top] = (far as u8, b as u8);
                top += 1;
            }
        }
    }
    if keep.count_ones() as usize == n {
        return;
    }
    let mut k = 0;
    line.retain(|_| {
        k += 1;
        keep >> (k - 1) & 1 == 1
    });
}

/// The point strictly between `a` and `b` farthest from segment a-b, if
/// its squared distance is over `t2`.
///
/// Distances are compared multiplied by the segment's squared length:
/// a point that projects inside the segment is then the square of one
/// cross product, and there is no division at all, no clamp, and no
/// branch that data can mispredict but the choice of formula.
#[inline(always)]
fn farthest(line: &[P], a: usize, b: usize, t2: f64) -> Option<usize> {
    let (pa, pb) = (line[a], line[b]);
    let (dx, dy) = (pb.0 - pa.0, pb.1 - pa.1);
    let len2 = dx * dx + dy * dy;
    let inner = &line[a + 1..b];
    let (mut far, mut best) = (0, 0.0);
    if len2 == 0.0 {
        // A closed ring's first span: distances to the one end.
        for (i, p) in inner.iter().enumerate() {
            let (px, py) = (p.0 - pa.0, p.1 - pa.1);
            let d2 = px * px + py * py;
            let better = d2 > best;
            best = if better { d2 } else { best };
            far = if better { a + 1 + i } else { far };
        }
        return (best > t2).then_some(far);
    }
    for (i, p) in inner.iter().enumerate() {
        let (px, py) = (p.0 - pa.0, p.1 - pa.1);
        let dot = px * dx + py * dy;
        let scaled = if dot <= 0.0 {
            (px * px + py * py) * len2
        } else if dot >= len2 {
            let (qx, qy) = (p.0 - pb.0, p.1 - pb.1);
            (qx * qx + qy * qy) * len2
        } else {
            let cross = px * dy - py * dx;
            cross * cross
        };
        let better = scaled > best;
        best = if better { scaled } else { best };
        far = if better { a + 1 + i } else { far };
    }
    (best > t2 * len2).then_some(far)
}

/// Squared distance from p to segment a-b (to a when a = b).
pub fn distance2(p: P, a: P, b: P) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (p.0 - a.0 - t * dx, p.1 - a.1 - t * dy);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mut line: Vec<P>, tolerance: f64) -> Vec<P> {
        douglas_peucker(&mut line, tolerance, &mut Vec::new(), &mut Vec::new());
        line
    }

    #[test]
    fn drops_points_within_tolerance_only() {
        let line = vec![(0.0, 0.0), (1.0, 0.4), (2.0, 0.0), (3.0, 5.0), (4.0, 0.0)];
        assert_eq!(
            run(line.clone(), 1.0),
            vec![(0.0, 0.0), (2.0, 0.0), (3.0, 5.0), (4.0, 0.0)]
        );
        assert_eq!(run(line.clone(), 0.0), line);
    }

    #[test]
    fn ring_keeps_its_far_corner() {
        let ring = vec![
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ];
        assert_eq!(run(ring.clone(), 1.0), ring);
    }

    /// The textbook recursion, with `distance2`.
    fn reference(line: &[P], tolerance: f64) -> Vec<P> {
        fn go(line: &[P], a: usize, b: usize, t2: f64, keep: &mut [bool]) {
            let far = (a + 1..b)
                .map(|i| (i, distance2(line[i], line[a], line[b])))
                .fold((0, 0.0), |m, c| if c.1 > m.1 { c } else { m });
            if far.1 > t2 {
                keep[far.0] = true;
                go(line, a, far.0, t2, keep);
                go(line, far.0, b, t2, keep);
            }
        }
        let mut keep = vec![false; line.len()];
        keep[0] = true;
        keep[line.len() - 1] = true;
        go(line, 0, line.len() - 1, tolerance * tolerance, &mut keep);
        line.iter()
            .zip(&keep)
            .filter(|k| *k.1)
            .map(|k| *k.0)
            .collect()
    }

    #[test]
    fn matches_the_textbook_recursion() {
        let mut s = 11u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for n in [3, 4, 5, 8, 13, 40, 63, 64, 65, 200] {
            for _ in 0..50 {
                let mut line: Vec<P> = (0..n).map(|_| (next() * 30.0, next() * 30.0)).collect();
                if n > 3 && next() < 0.5 {
                    line.push(line[0]);
                }
                for tolerance in [0.5, 1.0, 4.0] {
                    assert_eq!(run(line.clone(), tolerance), reference(&line, tolerance));
                }
            }
        }
    }

    #[test]
    fn simplified_line_stays_within_tolerance() {
        let mut s = 3u64;
        let line: Vec<P> = (0..500)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                (i as f64, ((s >> 33) % 7) as f64 * 0.3)
            })
            .collect();
        let kept = run(line.clone(), 1.0);
        for p in &line {
            let d = kept
                .windows(2)
                .map(|w| distance2(*p, w[0], w[1]))
                .fold(f64::INFINITY, f64::min);
            assert!(d <= 1.0 + 1e-9, "{p:?} is {d} from the simplified line");
        }
    }
}
