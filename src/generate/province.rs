//! The plan of one synthetic province: a jittered lattice of cells, the
//! land-use code of every cell, communes, towns, rivers and roads.
//!
//! A cell is [`CELL`] metres on a side. Codes are assigned to cells by
//! ranking them on terrain, town and road fields and taking each code's
//! share of the area in turn, so the shares of [`SHARES`] hold for any seed
//! and any size. Every cell is later cut into parcels (see `lattice`), and
//! zones are the merged cells of one code, so parcels, zones and the
//! other layers agree with each other.

use super::noise::{centred, fbm, hash, unit, Rng};
use crate::landuse;

/// Side of a lattice cell, metres.
pub const CELL: f64 = 80.0;

/// Metres per degree at the province's latitude (21°N), equirectangular.
/// cos(21°) is written out so that no libm call enters the output.
pub const M_PER_DEG_LON: f64 = 111_320.0 * 0.933_580_426_497_201_7;
pub const M_PER_DEG_LAT: f64 = 110_574.0;
/// The province's south-west corner, degrees.
pub const ORIGIN: (f64, f64) = (105.6, 20.8);

/// Target share of the province's area for each code drawn by ranking,
/// in the order they are drawn; LUC takes what is left. Rivers (SON) come
/// first and take what the river courses cover.
pub const SHARES: &[(&str, f64)] = &[
    ("DTL", 0.02),
    ("DGT", 0.03),
    ("ODT", 0.04),
    ("PUB", 0.02),
    ("SKK", 0.02),
    ("ONT", 0.10),
    ("RDD", 0.03),
    ("RPH", 0.04),
    ("RSX", 0.07),
    ("CLN", 0.05),
    ("NTS", 0.04),
    ("NTD", 0.01),
    ("HNK", 0.06),
    ("BCS", 0.01),
    ("NKH", 0.01),
    ("LUK", 0.08),
];

/// Public-facility codes that share the "PUB" draw, chosen per cell.
const PUBLIC: &[&str] = &[
    "TMD", "DGD", "DYT", "TSC", "DVH", "DTT", "DCH", "TON", "DKV", "SKC",
];

/// Parcels per cell side (x, y) for each code: small lots in towns, large
/// fields in the hills.
fn subdivision(code: &str) -> (u8, u8) {
    match code {
        "ODT" => (4, 4),
        "ONT" => (3, 3),
        "LUC" | "LUK" | "CLN" | "NTD" => (2, 2),
        "HNK" => (2, 3),
        "NTS" | "TMD" | "SKC" | "DCH" => (2, 1),
        "DGT" => (1, 2),
        _ => (1, 1),
    }
}

/// A cell's flag: its first parcel has a hole filled by another parcel.
pub const HOLE: u8 = 1;
/// A cell's flag: its parcels (0, 0) and (2, 0) form one two-part parcel.
pub const MULTIPART: u8 = 2;

#[derive(Debug, Clone)]
pub struct Commune {
    pub code: String,
    pub name: String,
    pub urban: bool,
    pub population: u32,
}

#[derive(Debug, Clone)]
pub struct River {
    pub name: String,
    pub width: f64,
    /// Course in metres.
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct Road {
    pub name: String,
    pub class: &'static str,
    pub right_of_way: f64,
    pub lanes: u8,
    pub planned: bool,
    /// Lattice vertices (i, j) the road runs through.
    pub vertices: Vec<(usize, usize)>,
}

pub struct Province {
    pub seed: u64,
    pub cols: usize,
    pub rows: usize,
    /// Index into `landuse::TABLE`, row-major, `rows * cols`.
    pub codes: Vec<u8>,
    pub commune_of: Vec<u32>,
    pub kx: Vec<u8>,
    pub ky: Vec<u8>,
    pub flags: Vec<u8>,
    pub communes: Vec<Commune>,
    pub rivers: Vec<River>,
    pub roads: Vec<Road>,
}

fn code_index(code: &str) -> u8 {
    landuse::TABLE
        .iter()
        .position(|row| row.code == code)
        .expect("generator codes are in the land-use table") as u8
}

impl Province {
    /// Plans a province with exactly `parcels` parcels.
    pub fn plan(seed: u64, parcels: u64) -> Province {
        let (cols, rows) = grid_size(parcels);
        let mut p = Province {
            seed,
            cols,
            rows,
            codes: vec![u8::MAX; cols * rows],
            commune_of: vec![0; cols * rows],
            kx: vec![1; cols * rows],
            ky: vec![1; cols * rows],
            flags: vec![0; cols * rows],
            communes: Vec::new(),
            rivers: Vec::new(),
            roads: Vec::new(),
        };
        let fields = Fields::new(&mut p);
        p.assign_codes(&fields);
        p.assign_communes();
        p.subdivide(parcels);
        p
    }

    pub fn cell_index(&self, i: usize, j: usize) -> usize {
        j * self.cols + i
    }

    pub fn code(&self, i: usize, j: usize) -> &'static landuse::LandUse {
        &landuse::TABLE[self.codes[self.cell_index(i, j)] as usize]
    }

    /// Parcels a cell is cut into.
    pub fn parcels_in(&self, cell: usize) -> u64 {
        let base = self.kx[cell] as u64 * self.ky[cell] as u64;
        let flags = self.flags[cell];
        base + u64::from(flags & HOLE != 0) - u64::from(flags & MULTIPART != 0)
    }

    /// Width and height in metres.
    pub fn size_m(&self) -> (f64, f64) {
        (self.cols as f64 * CELL, self.rows as f64 * CELL)
    }

    /// A lattice vertex in metres. Vertices on the province's edge stay on
    /// it, so the province is a rectangle.
    pub fn vertex(&self, i: usize, j: usize) -> (f64, f64) {
        let mut x = i as f64 * CELL;
        let mut y = j as f64 * CELL;
        if i > 0 && i < self.cols {
            x += centred(self.seed, &[1, i as i64, j as i64]) * 0.3 * CELL;
        }
        if j > 0 && j < self.rows {
            y += centred(self.seed, &[2, i as i64, j as i64]) * 0.3 * CELL;
        }
        (x, y)
    }

    fn assign_codes(&mut self, f: &Fields) {
        let n = self.codes.len();
        let son = code_index("SON");
        for (cell, &d) in f.river_distance.iter().enumerate() {
            if d < f.river_half_width[cell] {
                self.codes[cell] = son;
            }
        }
        let seed = self.seed;
        for &(code, share) in SHARES {
            let take = (share * n as f64).round() as usize;
            let score: Box<dyn Fn(usize) -> f64> = match code {
                "DTL" => Box::new(|c| -f.river_distance[c] + 40.0 * f.noise[c]),
                "DGT" => Box::new(|c| f.road_side[c] + 0.5 * f.noise[c]),
                "ODT" => Box::new(|c| f.urban[c] + 0.1 * f.noise[c]),
                "PUB" => Box::new(|c| f.urban[c] + 0.3 * f.noise[c]),
                "SKK" => Box::new(|c| {
                    f.road[c] * (1.0 - f.urban[c]) * (1.0 - f.elevation[c]) + f.patch[c]
                }),
                "ONT" => Box::new(|c| {
                    0.6 * f.road[c] + 0.6 * f.urban[c] + 0.3 * f.patch[c] - 0.3 * f.elevation[c]
                }),
                "RDD" | "RPH" | "RSX" | "CLN" => Box::new(|c| f.elevation[c]),
                "NTS" => {
                    Box::new(|c| -f.elevation[c] - f.river_distance[c] / 2000.0 + 0.2 * f.noise[c])
                }
                "NTD" | "BCS" | "NKH" => Box::new(|c| f.patch[c] + 0.05 * f.noise[c]),
                _ => Box::new(|c| f.patch[c] + 0.15 * f.noise[c]),
            };
            let mut free: Vec<usize> = (0..n).filter(|&c| self.codes[c] == u8::MAX).collect();
            free.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(a.cmp(&b)));
            for &cell in free.iter().take(take) {
                self.codes[cell] = if code == "PUB" {
                    let pick = hash(seed, &[3, cell as i64]) % PUBLIC.len() as u64;
                    code_index(PUBLIC[pick as usize])
                } else {
                    code_index(code)
                };
            }
        }
        let luc = code_index("LUC");
        for code in &mut self.codes {
            if *code == u8::MAX {
                *code = luc;
            }
        }
    }

    /// Communes: cells go to the nearest of a jittered grid of seats, with
    /// the distance bent by noise so that boundaries wander.
    fn assign_communes(&mut self) {
        let (w, h) = self.size_m();
        let area_km2 = w * h / 1e6;
        let wanted = (area_km2 / 20.0).round().max(4.0);
        let spacing = (w * h / wanted).sqrt();
        let gx = ((w / spacing).round() as usize).max(2);
        let gy = ((wanted / gx as f64).round() as usize).max(2);
        let (sx, sy) = (w / gx as f64, h / gy as f64);
        let seat = |a: usize, b: usize| {
            let jx = centred(self.seed, &[4, a as i64, b as i64]) * 0.6;
            let jy = centred(self.seed, &[5, a as i64, b as i64]) * 0.6;
            ((a as f64 + 0.5 + jx) * sx, (b as f64 + 0.5 + jy) * sy)
        };
        for j in 0..self.rows {
            for i in 0..self.cols {
                let (x, y) = ((i as f64 + 0.5) * CELL, (j as f64 + 0.5) * CELL);
                let bend = (fbm(self.seed ^ 0x55, x, y, spacing * 0.5, 3) - 0.5) * spacing * 0.5;
                let (ca, cb) = (
                    ((x / sx) as usize).min(gx - 1),
                    ((y / sy) as usize).min(gy - 1),
                );
                let mut best = (f64::INFINITY, 0);
                for b in cb.saturating_sub(1)..(cb + 2).min(gy) {
                    for a in ca.saturating_sub(1)..(ca + 2).min(gx) {
                        let (px, py) = seat(a, b);
                        let d = ((px - x).powi(2) + (py - y).powi(2)).sqrt() + bend;
                        if d < best.0 {
                            best = (d, b * gx + a);
                        }
                    }
                }
                let cell = self.cell_index(i, j);
                self.commune_of[cell] = best.1 as u32;
            }
        }
        let odt = code_index("ODT");
        let mut urban_cells = vec![0usize; gx * gy];
        let mut cells = vec![0usize; gx * gy];
        for (cell, &c) in self.commune_of.iter().enumerate() {
            cells[c as usize] += 1;
            urban_cells[c as usize] += usize::from(self.codes[cell] == odt);
        }
        let mut rng = Rng::new(self.seed ^ 0xc0);
        self.communes = (0..gx * gy)
            .map(|k| {
                let urban = urban_cells[k] * 10 > cells[k].max(1);
                let density = if urban { 8000.0 } else { 1200.0 };
                let km2 = cells[k] as f64 * CELL * CELL / 1e6;
                Commune {
                    code: format!("{:05}", 10_000 + 3 * k),
                    name: commune_name(k, urban),
                    urban,
                    population: (km2 * density * rng.range(0.7, 1.3)) as u32,
                }
            })
            .collect();
    }

    /// Cuts cells into parcels and tunes the cuts until the province has
    /// exactly `target` parcels.
    fn subdivide(&mut self, target: u64) {
        let n = self.codes.len();
        for cell in 0..n {
            let code = landuse::TABLE[self.codes[cell] as usize].code;
            let (mut kx, ky) = subdivision(code);
            let h = hash(self.seed, &[6, cell as i64]);
            if kx > 1 && h.is_multiple_of(4) {
                kx -= 1;
            } else if h % 4 == 1 {
                kx += 1;
            }
            self.kx[cell] = kx;
            self.ky[cell] = ky;
            self.flags[cell] = self.pick_flags(cell, h >> 8);
        }
        let mut total: u64 = (0..n).map(|c| self.parcels_in(c)).sum();
        // Visit cells in a scattered order so that the tuning leaves no
        // visible pattern.
        let stride = scatter_stride(n);
        for pass in 0..64 {
            if total == target {
                break;
            }
            for step in 0..n {
                let cell = (step * stride + pass) % n;
                let before = self.parcels_in(cell);
                if total < target {
                    self.grow(cell, target - total, pass > 8);
                } else {
                    self.shrink(cell, total - target, pass > 8);
                }
                total = total + self.parcels_in(cell) - before;
                if total == target {
                    break;
                }
            }
        }
        assert_eq!(total, target, "parcel count tuning did not converge");
    }

    fn pick_flags(&self, cell: usize, h: u64) -> u8 {
        let (kx, ky) = (self.kx[cell], self.ky[cell]);
        let rural = matches!(
            landuse::TABLE[self.codes[cell] as usize].code,
            "LUC" | "LUK" | "HNK" | "CLN" | "RSX"
        );
        if kx >= 3 && h.is_multiple_of(33) {
            MULTIPART
        } else if rural && kx * ky <= 4 && h % 25 == 1 {
            HOLE
        } else {
            0
        }
    }

    /// Adds up to `need` parcels to a cell: a column of parcels where that
    /// fits, else (when `fine`) a filled hole.
    fn grow(&mut self, cell: usize, need: u64, fine: bool) {
        let ky = self.ky[cell] as u64;
        if ky <= need && self.kx[cell] < 6 {
            self.kx[cell] += 1;
        } else if fine && self.flags[cell] == 0 && self.kx[cell] * self.ky[cell] <= 4 {
            self.flags[cell] = HOLE;
        }
    }

    fn shrink(&mut self, cell: usize, excess: u64, fine: bool) {
        let ky = self.ky[cell] as u64;
        let multipart_ok = self.flags[cell] & MULTIPART == 0 || self.kx[cell] > 3;
        if ky <= excess && self.kx[cell] > 1 && multipart_ok {
            self.kx[cell] -= 1;
        } else if fine && self.flags[cell] & HOLE != 0 {
            self.flags[cell] = 0;
        } else if fine && self.flags[cell] == 0 && self.kx[cell] >= 3 {
            self.flags[cell] = MULTIPART;
        }
    }
}

/// Columns and rows of cells for about `parcels` parcels, from the
/// expected parcels per cell of [`SHARES`].
fn grid_size(parcels: u64) -> (usize, usize) {
    let luc_share = 1.0 - SHARES.iter().map(|s| s.1).sum::<f64>() - 0.03;
    let mut per_cell = luc_share * 4.0 + 0.03;
    for &(code, share) in SHARES {
        let (kx, ky) = subdivision(if code == "PUB" { "TMD" } else { code });
        per_cell += share * (kx as f64 + 0.25) * ky as f64;
    }
    let cells = (parcels as f64 / per_cell).max(64.0);
    let cols = (cells * 1.25).sqrt().ceil() as usize;
    let rows = (cells / cols as f64).ceil() as usize;
    (cols.max(8), rows.max(8))
}

fn scatter_stride(n: usize) -> usize {
    let mut stride = (n as f64 * 0.618_033_988_7) as usize | 1;
    while gcd(stride, n) != 1 {
        stride += 2;
    }
    stride
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

const NAME_HEADS: &[&str] = &[
    "Tân", "Phú", "Hòa", "An", "Đông", "Tây", "Nam", "Bắc", "Yên", "Thanh", "Xuân", "Hưng", "Vĩnh",
    "Quảng", "Minh", "Đức",
];
const NAME_TAILS: &[&str] = &[
    "Lập", "Bình", "Phong", "Thịnh", "Lợi", "Hải", "Khánh", "Thắng", "Sơn", "Điền", "Lộc", "Phúc",
    "Thành", "Tiến", "Mỹ", "Trung",
];

fn commune_name(k: usize, urban: bool) -> String {
    let head = NAME_HEADS[k % NAME_HEADS.len()];
    let tail = NAME_TAILS[(k / NAME_HEADS.len() + k * 7) % NAME_TAILS.len()];
    let kind = if urban { "Phường" } else { "Xã" };
    let round = k / (NAME_HEADS.len() * NAME_TAILS.len());
    if round == 0 {
        format!("{kind} {head} {tail}")
    } else {
        format!("{kind} {head} {tail} {}", round + 1)
    }
}

/// Per-cell fields the codes are ranked on.
struct Fields {
    elevation: Vec<f64>,
    urban: Vec<f64>,
    road: Vec<f64>,
    road_side: Vec<f64>,
    river_distance: Vec<f64>,
    river_half_width: Vec<f64>,
    noise: Vec<f64>,
    patch: Vec<f64>,
}

impl Fields {
    /// Computes the fields, and lays out the province's rivers and roads.
    fn new(p: &mut Province) -> Fields {
        let (w, h) = p.size_m();
        let n = p.cols * p.rows;
        let scale = (w.max(h) / 6.0).max(1500.0);
        let mut rng = Rng::new(p.seed ^ 0x70);
        let towns = ((w * h / 1e6 / 100.0).round() as usize).max(1);
        let town_list: Vec<(f64, f64, f64)> = (0..towns)
            .map(|_| {
                (
                    rng.range(0.15, 0.85) * w,
                    rng.range(0.15, 0.85) * h,
                    rng.range(600.0, 1600.0),
                )
            })
            .collect();
        p.rivers = lay_rivers(p.seed, w, h);
        p.roads = lay_roads(p);
        let mut f = Fields {
            elevation: vec![0.0; n],
            urban: vec![0.0; n],
            road: vec![0.0; n],
            road_side: vec![0.0; n],
            river_distance: vec![f64::INFINITY; n],
            river_half_width: vec![0.0; n],
            noise: vec![0.0; n],
            patch: vec![0.0; n],
        };
        let main_step = road_step(p.cols, p.rows);
        for j in 0..p.rows {
            for i in 0..p.cols {
                let c = p.cell_index(i, j);
                let (x, y) = ((i as f64 + 0.5) * CELL, (j as f64 + 0.5) * CELL);
                let ramp = ((y / h) + (1.0 - x / w)) / 2.0;
                f.elevation[c] = 0.55 * fbm(p.seed ^ 0x11, x, y, scale, 4) + 0.45 * ramp;
                f.urban[c] = town_list
                    .iter()
                    .map(|&(tx, ty, r)| {
                        let q = ((x - tx).powi(2) + (y - ty).powi(2)) / (r * r);
                        1.0 / ((1.0 + q) * (1.0 + q))
                    })
                    .fold(0.0, f64::max);
                let di = road_distance(i, main_step.0, main_step.1);
                let dj = road_distance(j, main_step.0, main_step.2);
                let d = di.min(dj) as f64;
                f.road[c] = 1.0 / (1.0 + d * d / 9.0);
                f.road_side[c] = if di == 0 || dj == 0 { 1.0 } else { 0.0 };
                f.noise[c] = unit(hash(p.seed, &[7, c as i64]));
                f.patch[c] = fbm(p.seed ^ 0x22, x, y, 400.0, 2);
            }
        }
        for river in &p.rivers {
            mark_river(p, river, &mut f);
        }
        f
    }
}

/// (step, column offset, row offset) of the main road grid, in cells.
pub fn road_step(cols: usize, rows: usize) -> (usize, usize, usize) {
    let step = 40.min(cols.max(rows) / 2).max(4);
    (
        step,
        1 + (cols / 3) % (step - 1),
        1 + (rows / 3) % (step - 1),
    )
}

/// Cells between `i` and the nearest main road line on the low side, in
/// cells: 0 for a cell just above a road (one side only).
fn road_distance(i: usize, step: usize, offset: usize) -> usize {
    let r = (i + step - offset % step) % step;
    r.min(step - r)
}

fn lay_rivers(seed: u64, w: f64, h: f64) -> Vec<River> {
    let count = ((w.max(h) / 30_000.0).round() as usize).max(1);
    let names = [
        "Sông Đáy",
        "Sông Hồng",
        "Sông Luộc",
        "Sông Châu",
        "Sông Cầu",
    ];
    let mut rng = Rng::new(seed ^ 0x90);
    (0..count)
        .map(|k| {
            let mut y = rng.range(0.25, 0.75) * h;
            let mut x = 0.0;
            let mut heading = rng.range(-0.3, 0.3);
            let mut points = vec![(x, y)];
            let step = 40.0;
            let wseed = rng.next_u64();
            let mut t = 0.0;
            while x < w && y > 0.0 && y < h {
                t += step / 600.0;
                heading = (heading + super::noise::noise_1d(wseed, t) * 0.12).clamp(-0.9, 0.9);
                // Pull back towards flowing east, so a river crosses the
                // province instead of circling.
                heading *= 0.97;
                let norm = (1.0 + heading * heading).sqrt();
                x += step / norm;
                y += step * heading / norm;
                points.push((x.min(w), y.clamp(0.0, h)));
            }
            River {
                name: names[k % names.len()].to_string(),
                width: rng.range(80.0, 200.0),
                points,
            }
        })
        .collect()
}

fn mark_river(p: &Province, river: &River, f: &mut Fields) {
    let half = (river.width / 2.0).max(45.0);
    let reach = ((half + CELL) / CELL).ceil() as i64;
    for pair in river.points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (ci, cj) = ((a.0 / CELL) as i64, (a.1 / CELL) as i64);
        for j in (cj - reach).max(0)..(cj + reach + 1).min(p.rows as i64) {
            for i in (ci - reach).max(0)..(ci + reach + 1).min(p.cols as i64) {
                let centre = ((i as f64 + 0.5) * CELL, (j as f64 + 0.5) * CELL);
                let d = segment_distance(centre, a, b);
                let c = p.cell_index(i as usize, j as usize);
                if d < f.river_distance[c] {
                    f.river_distance[c] = d;
                    f.river_half_width[c] = half;
                }
            }
        }
    }
    // Cells far from every river keep an infinite distance; give them a
    // large finite one so that scores stay comparable.
    for d in &mut f.river_distance {
        if d.is_infinite() {
            *d = 1e6;
        }
    }
}

fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    crate::simplify::distance2(p, a, b).sqrt()
}

fn lay_roads(p: &Province) -> Vec<Road> {
    let (step, col_off, row_off) = road_step(p.cols, p.rows);
    let mut roads = Vec::new();
    let mut rng = Rng::new(p.seed ^ 0xa0);
    let segment = step / 2;
    let mut add = |roads: &mut Vec<Road>, vertical: bool, line: usize, k: usize, minor: bool| {
        let len = if vertical { p.rows } else { p.cols };
        let mut start = 0;
        while start < len {
            let end = (start + segment).min(len);
            let vertices = (start..=end)
                .map(|t| if vertical { (line, t) } else { (t, line) })
                .collect();
            let (class, row, lanes, prefix) = match (minor, k) {
                (true, _) => ("duong_xa", 12.0, 2, "Đường xã"),
                (false, 0) => ("quoc_lo", 32.0, 4, "Quốc lộ"),
                (false, 1) => ("duong_tinh", 24.0, 4, "Đường tỉnh"),
                _ => ("duong_huyen", 16.0, 2, "Đường huyện"),
            };
            roads.push(Road {
                name: format!("{prefix} {}", 10 + 7 * k + usize::from(vertical)),
                class,
                right_of_way: row,
                lanes,
                planned: rng.f64() < 0.15,
                vertices,
            });
            start = end;
        }
    };
    let mut k = 0;
    for line in (col_off..p.cols).step_by(step) {
        add(&mut roads, true, line, k, false);
        k += 1;
    }
    for line in (row_off..p.rows).step_by(step) {
        add(&mut roads, false, line, k, false);
        k += 1;
    }
    let minor_step = (step / 4).max(2);
    for line in (minor_step..p.cols).step_by(minor_step) {
        if line % step != col_off && hash(p.seed, &[8, line as i64]).is_multiple_of(2) {
            add(&mut roads, true, line, k, true);
            k += 1;
        }
    }
    roads
}
