//! Outlines of regions of equal label on the cell grid: the merge of
//! neighbouring cells into zones and communes.
//!
//! A region is a 4-connected set of cells of one label. Its boundary is
//! the set of cell sides with the region on their left, linked into rings.
//! Where two cells of a region touch only at a corner, the ring turns left
//! there, so rings never cross or touch themselves: such a corner becomes
//! a point where an exterior and a hole (or two holes) meet, which simple
//! feature rules allow.

use std::collections::HashMap;

/// One side of a cell, directed with its cell on the left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    pub i: usize,
    pub j: usize,
    /// 0 bottom (east-going), 1 right (north), 2 top (west), 3 left (south).
    pub side: u8,
}

impl Side {
    pub fn from(&self) -> (usize, usize) {
        let (i, j) = (self.i, self.j);
        [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)][self.side as usize]
    }

    pub fn to(&self) -> (usize, usize) {
        let (i, j) = (self.i, self.j);
        [(i + 1, j), (i + 1, j + 1), (i, j + 1), (i, j)][self.side as usize]
    }

    fn direction(&self) -> (i64, i64) {
        [(1, 0), (0, 1), (-1, 0), (0, -1)][self.side as usize]
    }
}

/// A traced region: the label's cells and the rings around them.
pub struct Region {
    pub cells: Vec<usize>,
    /// Each outer ring with its holes; rings are lists of sides.
    pub polygons: Vec<Vec<Vec<Side>>>,
}

/// Calls `emit` with every region of the grid, in the order of their
/// first cell (row-major). `label` gives a cell's label by index.
pub fn regions<L: PartialEq>(
    cols: usize,
    rows: usize,
    label: impl Fn(usize) -> L,
    mut emit: impl FnMut(Region),
) {
    let mut seen = vec![false; cols * rows];
    let mut stack = Vec::new();
    for start in 0..cols * rows {
        if seen[start] {
            continue;
        }
        let mine = label(start);
        let mut cells = Vec::new();
        seen[start] = true;
        stack.push(start);
        while let Some(c) = stack.pop() {
            cells.push(c);
            for n in neighbours(cols, rows, c).into_iter().flatten() {
                if !seen[n] && label(n) == mine {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        cells.sort_unstable();
        let sides = boundary(cols, rows, &cells, |n| label(n) == mine);
        let polygons = polygons(cols, link(sides));
        emit(Region { cells, polygons });
    }
}

/// Neighbours below, right, above and left.
fn neighbours(cols: usize, rows: usize, c: usize) -> [Option<usize>; 4] {
    let (i, j) = (c % cols, c / cols);
    [
        (j > 0).then(|| c - cols),
        (i + 1 < cols).then(|| c + 1),
        (j + 1 < rows).then(|| c + cols),
        (i > 0).then(|| c - 1),
    ]
}

fn boundary(
    cols: usize,
    rows: usize,
    cells: &[usize],
    inside: impl Fn(usize) -> bool,
) -> Vec<Side> {
    let mut sides = Vec::new();
    for &c in cells {
        for (side, n) in neighbours(cols, rows, c).into_iter().enumerate() {
            if !n.is_some_and(&inside) {
                sides.push(Side {
                    i: c % cols,
                    j: c / cols,
                    side: side as u8,
                });
            }
        }
    }
    sides
}

/// Links sides into closed rings, turning right at corners where two
/// rings meet.
fn link(sides: Vec<Side>) -> Vec<Vec<Side>> {
    let mut leaving: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (k, s) in sides.iter().enumerate() {
        leaving.entry(s.from()).or_default().push(k);
    }
    let mut used = vec![false; sides.len()];
    let mut rings = Vec::new();
    for first in 0..sides.len() {
        if used[first] {
            continue;
        }
        let mut ring = Vec::new();
        let mut k = first;
        loop {
            used[k] = true;
            ring.push(sides[k]);
            let (dx, dy) = sides[k].direction();
            let options = &leaving[&sides[k].to()];
            let next = if options.len() == 1 {
                options[0]
            } else {
                // The right turn: the direction rotated clockwise.
                *options
                    .iter()
                    .find(|&&o| sides[o].direction() == (dy, -dx))
                    .expect("a pinch corner has a right turn")
            };
            if next == first {
                break;
            }
            k = next;
        }
        rings.push(ring);
    }
    rings
}

fn area2(ring: &[Side]) -> i64 {
    ring.iter()
        .map(|s| {
            let (a, b) = (s.from(), s.to());
            a.0 as i64 * b.1 as i64 - b.0 as i64 * a.1 as i64
        })
        .sum()
}

/// Sorts rings into exteriors (anticlockwise) with the holes they hold.
fn polygons(cols: usize, rings: Vec<Vec<Side>>) -> Vec<Vec<Vec<Side>>> {
    let (outers, holes): (Vec<_>, Vec<_>) = rings.into_iter().partition(|r| area2(r) > 0);
    let mut polygons: Vec<Vec<Vec<Side>>> = outers.into_iter().map(|r| vec![r]).collect();
    for hole in holes {
        // The cell on the hole's left belongs to the region, so it lies
        // inside exactly one exterior.
        let s = hole[0];
        let centre = (s.i as f64 + 0.5, s.j as f64 + 0.5);
        let owner = polygons
            .iter()
            .position(|p| contains(&p[0], centre))
            .unwrap_or(0);
        polygons[owner].push(hole);
    }
    let _ = cols;
    polygons
}

fn contains(ring: &[Side], (x, y): (f64, f64)) -> bool {
    let mut inside = false;
    for s in ring {
        let (a, b) = (s.from(), s.to());
        let (ax, ay, bx, by) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
        if (ay > y) != (by > y) && x < ax + (y - ay) / (by - ay) * (bx - ax) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(cols: usize, rows: usize, grid: &[u8]) -> Vec<Region> {
        let mut out = Vec::new();
        regions(cols, rows, |c| grid[c], |r| out.push(r));
        out
    }

    #[test]
    fn a_ring_of_cells_has_one_hole() {
        #[rustfmt::skip]
        let grid = [
            1, 1, 1,
            1, 0, 1,
            1, 1, 1,
        ];
        let regions = trace(3, 3, &grid);
        assert_eq!(regions.len(), 2);
        let ring = &regions[0];
        assert_eq!(ring.cells.len(), 8);
        assert_eq!(ring.polygons.len(), 1);
        assert_eq!(ring.polygons[0].len(), 2);
        assert_eq!(area2(&ring.polygons[0][0]), 18);
        assert_eq!(area2(&ring.polygons[0][1]), -2);
    }

    #[test]
    fn diagonal_touch_splits_at_the_corner() {
        // Region 1 wraps around a hole that touches the outside at a corner.
        #[rustfmt::skip]
        let grid = [
            1, 1, 1,
            1, 0, 1,
            1, 1, 0,
        ];
        let regions = trace(3, 3, &grid);
        let ring = &regions[0];
        assert_eq!(ring.polygons.len(), 1);
        assert_eq!(ring.polygons[0].len(), 2, "exterior and hole");
        let total: i64 = ring.polygons[0].iter().map(|r| area2(r)).sum();
        assert_eq!(total, 2 * 7);
    }
}
