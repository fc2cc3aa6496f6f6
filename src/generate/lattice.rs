//! Parcel geometry: each lattice cell is cut into `kx × ky` parcels whose
//! shared edges carry the same extra vertices, so parcels tile the cell
//! without gaps or overlaps.
//!
//! A cell's corners are the jittered lattice vertices of the province. Its
//! parcel vertices are a bilinear map of a jittered unit grid: those on the
//! cell's sides lie exactly on the (straight) side, so parcels of
//! neighbouring cells meet along it, with T-junctions where their cuts
//! differ, as in real cadastral fabric.

use super::noise::{centred, hash};
use super::province::{Province, HOLE, MULTIPART};

/// A point in the province's metric frame (metres east and north of its
/// south-west corner).
pub type Pt = (f64, f64);

/// One parcel: polygons, each a list of closed rings (exterior first,
/// anticlockwise; holes clockwise).
#[derive(Debug, Clone)]
pub struct Parcel {
    pub polygons: Vec<Vec<Vec<Pt>>>,
    /// True for the parcel that fills another parcel's hole.
    pub inner: bool,
}

/// The geometry of one cell.
pub struct Cell<'p> {
    p: &'p Province,
    index: usize,
    corners: [Pt; 4],
    kx: usize,
    ky: usize,
}

impl<'p> Cell<'p> {
    pub fn new(p: &'p Province, i: usize, j: usize) -> Cell<'p> {
        let index = p.cell_index(i, j);
        Cell {
            p,
            index,
            corners: [
                p.vertex(i, j),
                p.vertex(i + 1, j),
                p.vertex(i + 1, j + 1),
                p.vertex(i, j + 1),
            ],
            kx: p.kx[index] as usize,
            ky: p.ky[index] as usize,
        }
    }

    fn jitter(&self, axis: i64, a: usize, b: usize, k: usize) -> f64 {
        centred(
            self.p.seed,
            &[10 + axis, self.index as i64, a as i64, b as i64],
        ) * 0.3
            / k as f64
    }

    /// Vertex (a, b) of the cell's parcel grid, 0 ≤ a ≤ kx, 0 ≤ b ≤ ky.
    pub fn grid_vertex(&self, a: usize, b: usize) -> Pt {
        let mut s = a as f64 / self.kx as f64;
        let mut t = b as f64 / self.ky as f64;
        if a > 0 && a < self.kx {
            s += self.jitter(0, a, b, self.kx);
        }
        if b > 0 && b < self.ky {
            t += self.jitter(1, a, b, self.ky);
        }
        let [p00, p10, p11, p01] = self.corners;
        let lerp = |u: Pt, v: Pt, f: f64| (u.0 + (v.0 - u.0) * f, u.1 + (v.1 - u.1) * f);
        let bottom = lerp(p00, p10, s);
        let top = lerp(p01, p11, s);
        lerp(bottom, top, t)
    }

    /// Extra vertices of the grid edge from (a, b) going +x (`horizontal`)
    /// or +y, in that direction. Edges on the cell's sides have none.
    fn edge_extras(&self, a: usize, b: usize, horizontal: bool, out: &mut Vec<Pt>) {
        let on_side = if horizontal {
            b == 0 || b == self.ky
        } else {
            a == 0 || a == self.kx
        };
        if on_side {
            return;
        }
        let h = hash(
            self.p.seed,
            &[20, self.index as i64, a as i64, b as i64, horizontal as i64],
        );
        let count = (h % 3) as usize;
        let from = self.grid_vertex(a, b);
        let to = if horizontal {
            self.grid_vertex(a + 1, b)
        } else {
            self.grid_vertex(a, b + 1)
        };
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        for q in 1..=count {
            let f = q as f64 / (count + 1) as f64;
            let off = centred(h, &[q as i64]) * 0.12;
            out.push((from.0 + dx * f - dy * off, from.1 + dy * f + dx * off));
        }
    }

    /// The anticlockwise closed ring of grid square (a, b).
    fn square_ring(&self, a: usize, b: usize) -> Vec<Pt> {
        let mut ring = Vec::with_capacity(13);
        let mut extras = Vec::with_capacity(2);
        ring.push(self.grid_vertex(a, b));
        self.edge_extras(a, b, true, &mut ring);
        ring.push(self.grid_vertex(a + 1, b));
        self.edge_extras(a + 1, b, false, &mut ring);
        ring.push(self.grid_vertex(a + 1, b + 1));
        self.edge_extras(a, b + 1, true, &mut extras);
        ring.extend(extras.drain(..).rev());
        ring.push(self.grid_vertex(a, b + 1));
        self.edge_extras(a, b, false, &mut extras);
        ring.extend(extras.drain(..).rev());
        ring.push(ring[0]);
        ring
    }

    /// The cell's parcels, in a fixed order.
    pub fn parcels(&self) -> Vec<Parcel> {
        let flags = self.p.flags[self.index];
        let mut out = Vec::with_capacity(self.kx * self.ky + 1);
        for b in 0..self.ky {
            for a in 0..self.kx {
                let multipart = flags & MULTIPART != 0 && b == 0;
                if multipart && a == 2 {
                    continue;
                }
                let mut polygons = vec![vec![self.square_ring(a, b)]];
                if multipart && a == 0 {
                    polygons.push(vec![self.square_ring(2, 0)]);
                }
                if flags & HOLE != 0 && a == 0 && b == 0 {
                    let hole = self.hole(&polygons[0][0]);
                    polygons[0].push(hole.iter().rev().copied().collect());
                    out.push(Parcel {
                        polygons,
                        inner: false,
                    });
                    out.push(Parcel {
                        polygons: vec![vec![hole]],
                        inner: true,
                    });
                    continue;
                }
                out.push(Parcel {
                    polygons,
                    inner: false,
                });
            }
        }
        out
    }

    /// An anticlockwise quadrilateral inside `ring`: its corners pulled to
    /// 30% of their distance from the centre.
    fn hole(&self, ring: &[Pt]) -> Vec<Pt> {
        let corners = [
            self.grid_vertex(0, 0),
            self.grid_vertex(1, 0),
            self.grid_vertex(1, 1),
            self.grid_vertex(0, 1),
        ];
        debug_assert!(ring.len() >= 5);
        let cx = corners.iter().map(|c| c.0).sum::<f64>() / 4.0;
        let cy = corners.iter().map(|c| c.1).sum::<f64>() / 4.0;
        let mut hole: Vec<Pt> = corners
            .iter()
            .map(|c| (cx + (c.0 - cx) * 0.3, cy + (c.1 - cy) * 0.3))
            .collect();
        hole.push(hole[0]);
        hole
    }

    /// The points of the cell's side `side` (0 bottom, 1 right, 2 top,
    /// 3 left) in anticlockwise order, first corner included and last
    /// excluded: the vertices that parcels of this cell put on that side.
    pub fn side_points(&self, side: u8, out: &mut Vec<Pt>) {
        match side {
            0 => out.extend((0..self.kx).map(|a| self.grid_vertex(a, 0))),
            1 => out.extend((0..self.ky).map(|b| self.grid_vertex(self.kx, b))),
            2 => out.extend((1..=self.kx).rev().map(|a| self.grid_vertex(a, self.ky))),
            _ => out.extend((1..=self.ky).rev().map(|b| self.grid_vertex(0, b))),
        }
    }
}

/// Twice the signed area of a closed ring; positive when anticlockwise.
pub fn ring_area2(ring: &[Pt]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parcels_of_a_cell_cover_it_exactly() {
        let p = Province::plan(9, 2_000);
        for cell in (0..p.cols * p.rows).step_by(7) {
            let (i, j) = (cell % p.cols, cell / p.cols);
            let c = Cell::new(&p, i, j);
            let mut outline = Vec::new();
            for side in 0..4 {
                c.side_points(side, &mut outline);
            }
            outline.push(outline[0]);
            let cell_area = ring_area2(&outline);
            let parcels: f64 = c
                .parcels()
                .iter()
                .filter(|parcel| !parcel.inner)
                .flat_map(|parcel| parcel.polygons.iter().flatten())
                .map(|ring| ring_area2(ring))
                .sum::<f64>()
                + c.parcels()
                    .iter()
                    .filter(|parcel| parcel.inner)
                    .map(|parcel| ring_area2(&parcel.polygons[0][0]))
                    .sum::<f64>();
            assert!(
                (cell_area - parcels).abs() < 1e-6 * cell_area,
                "cell {cell}: {cell_area} vs {parcels}"
            );
            assert_eq!(c.parcels().len() as u64, p.parcels_in(cell));
        }
    }
}
