//! `plantiles generate`: one synthetic province of planning data as a
//! tileset folder of FlatGeobuf layers (EPSG:4326, with the packed Hilbert
//! R-tree) and its `tileset.toml`.
//!
//! The same seed and size give the same bytes. Parcels stream cell by cell
//! into the FlatGeobuf writer, which keeps only their envelopes in memory
//! (40 bytes each) and spools the features to a temporary file, so ten
//! million parcels need about half a gigabyte.
//!
//! Layers: `parcels` (mixed Polygon and MultiPolygon, header type
//! Unknown), `zones`, `communes`, `rivers`, `roads`, `facilities`.

mod attributes;
mod lattice;
mod noise;
mod province;
mod trace;

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use flatgeobuf::{ColumnType, FgbWriter, FgbWriterOptions, GeometryType};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};

pub use lattice::{ring_area2, Pt};
pub use province::{Province, CELL, M_PER_DEG_LAT, M_PER_DEG_LON, ORIGIN, SHARES};

use attributes::{Attributes, V};
use lattice::Cell;

/// What went wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("FlatGeobuf writer failed on {path}: {message}")]
    Fgb { path: PathBuf, message: String },
    #[error("--parcels must be at least 100 (got {0}); a province needs room for its communes")]
    TooFew(u64),
}

/// What `generate` wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub parcels: u64,
    pub zones: u64,
    pub communes: u64,
    pub rivers: u64,
    pub roads: u64,
    pub facilities: u64,
}

/// Options of `plantiles generate`.
#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    pub parcels: u64,
    pub seed: u64,
    pub progress: bool,
}

/// Writes one province into `opts.out`, creating the folder.
pub fn generate(opts: &Options) -> Result<Summary, GenerateError> {
    if opts.parcels < 100 {
        return Err(GenerateError::TooFew(opts.parcels));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GenerateError::Io { path, source }
    };
    fs::create_dir_all(&opts.out).map_err(io(&opts.out))?;
    let started = Instant::now();
    let p = Province::plan(opts.seed, opts.parcels);
    tracing::info!(
        cols = p.cols,
        rows = p.rows,
        ms = started.elapsed().as_millis() as u64,
        "planned province"
    );
    let attrs = Attributes::new(&p);
    let mut summary = Summary {
        parcels: write_parcels(&p, &attrs, opts)?,
        ..Summary::default()
    };
    summary.zones = write_zones(&p, &attrs, &opts.out)?;
    summary.communes = write_communes(&p, &attrs, &opts.out)?;
    summary.rivers = write_rivers(&p, &opts.out)?;
    summary.roads = write_roads(&p, &opts.out)?;
    summary.facilities = write_facilities(&p, &attrs, &opts.out)?;
    let toml_path = opts.out.join("tileset.toml");
    fs::write(&toml_path, tileset_toml(opts)).map_err(io(&toml_path))?;
    Ok(summary)
}

/// Degrees from the province's metric frame.
pub fn to_lonlat((x, y): Pt) -> Coord<f64> {
    Coord {
        x: ORIGIN.0 + x / M_PER_DEG_LON,
        y: ORIGIN.1 + y / M_PER_DEG_LAT,
    }
}

fn polygon(rings: &[Vec<Pt>]) -> Polygon<f64> {
    let mut rings = rings
        .iter()
        .map(|r| LineString(r.iter().copied().map(to_lonlat).collect()));
    let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
    Polygon::new(exterior, rings.collect())
}

fn areal(polygons: &[Vec<Vec<Pt>>]) -> Geometry<f64> {
    if polygons.len() == 1 {
        Geometry::Polygon(polygon(&polygons[0]))
    } else {
        Geometry::MultiPolygon(MultiPolygon(polygons.iter().map(|p| polygon(p)).collect()))
    }
}

/// Area in hectares of polygons in the metric frame.
fn hectares(polygons: &[Vec<Vec<Pt>>]) -> f64 {
    let m2: f64 = polygons
        .iter()
        .flatten()
        .map(|r| ring_area2(r))
        .sum::<f64>()
        / 2.0;
    (m2 / 100.0).round() / 100.0
}

/// A FlatGeobuf layer being written: the writer and its column list.
struct Layer<'a> {
    path: PathBuf,
    fgb: FgbWriter<'a>,
    columns: &'static [(&'static str, ColumnType)],
}

impl<'a> Layer<'a> {
    fn create(
        dir: &Path,
        name: &'a str,
        kind: GeometryType,
        description: &'a str,
        columns: &'static [(&'static str, ColumnType)],
    ) -> Result<Layer<'a>, GenerateError> {
        let path = dir.join(format!("{name}.fgb"));
        let options = FgbWriterOptions {
            title: Some(name),
            description: Some(description),
            ..crate::import::serving_options(kind)
        };
        let fgb = FgbWriter::create_with_options(name, kind, options).map_err(|e| {
            GenerateError::Fgb {
                path: path.clone(),
                message: e.to_string(),
            }
        })?;
        let mut layer = Layer { path, fgb, columns };
        for &(column, kind) in columns {
            layer.fgb.add_column(column, kind, |_, c| c.nullable = true);
        }
        Ok(layer)
    }

    /// Adds a feature; `values` follow the column list, `None` is null.
    fn add(&mut self, geometry: Geometry<f64>, values: &[V]) -> Result<(), GenerateError> {
        debug_assert_eq!(values.len(), self.columns.len());
        let columns = self.columns;
        let mut failed = None;
        self.fgb
            .add_feature_geom(geometry, |feature| {
                use geozero::PropertyProcessor;
                for (i, (value, (name, _))) in values.iter().zip(columns).enumerate() {
                    if let Some(value) = value.column() {
                        if let Err(e) = feature.property(i, name, &value) {
                            failed = Some(e.to_string());
                        }
                    }
                }
            })
            .map_err(|e| self.fgb_error(e.to_string()))?;
        match failed {
            Some(message) => Err(self.fgb_error(message)),
            None => Ok(()),
        }
    }

    fn fgb_error(&self, message: String) -> GenerateError {
        GenerateError::Fgb {
            path: self.path.clone(),
            message,
        }
    }

    fn finish(self) -> Result<(), GenerateError> {
        let Layer { path, fgb, .. } = self;
        let tmp = path.with_extension("fgb.tmp");
        let file = File::create(&tmp).map_err(|source| GenerateError::Io {
            path: tmp.clone(),
            source,
        })?;
        fgb.write(BufWriter::with_capacity(1 << 20, file))
            .map_err(|e| GenerateError::Fgb {
                path: path.clone(),
                message: e.to_string(),
            })?;
        fs::rename(&tmp, &path).map_err(|source| GenerateError::Io { path, source })
    }
}

use ColumnType as T;

const PARCEL_COLUMNS: &[(&str, ColumnType)] = &[
    ("id", T::ULong),
    ("so_to", T::Int),
    ("so_thua", T::Int),
    ("ma_dat", T::String),
    ("ten_dat", T::String),
    ("dien_tich_ha", T::Double),
    ("ma_xa", T::String),
    ("ma_quy_hoach", T::String),
    ("so_quyet_dinh", T::String),
    ("ngay_phe_duyet", T::DateTime),
    ("hieu_luc_tu", T::DateTime),
    ("hieu_luc_den", T::DateTime),
    ("chieu_cao_toi_da_m", T::Float),
    ("mat_do_xd", T::Float),
    ("he_so_sd_dat", T::Float),
    ("bi_anh_huong", T::Bool),
];

fn write_parcels(p: &Province, attrs: &Attributes, opts: &Options) -> Result<u64, GenerateError> {
    let mut layer = Layer::create(
        &opts.out,
        "parcels",
        GeometryType::Unknown,
        "Thửa đất theo quy hoạch sử dụng đất cấp xã (dữ liệu mô phỏng)",
        PARCEL_COLUMNS,
    )?;
    let bar = crate::progress::bar(opts.progress, "parcels", Some(opts.parcels));
    let mut id = 0u64;
    let mut sheets = attributes::Sheets::new(p);
    for j in 0..p.rows {
        for i in 0..p.cols {
            let cell = Cell::new(p, i, j);
            for parcel in cell.parcels() {
                id += 1;
                let code = if parcel.inner {
                    attrs.inner_code(id)
                } else {
                    p.code(i, j)
                };
                let (sheet, number) = sheets.next(i, j);
                let values =
                    attrs.parcel(p, id, i, j, code, sheet, number, hectares(&parcel.polygons));
                layer.add(areal(&parcel.polygons), &values)?;
            }
            bar.set_position(id);
        }
    }
    bar.finish_and_clear();
    tracing::info!(parcels = id, "writing parcels index");
    layer.finish()?;
    Ok(id)
}

const ZONE_COLUMNS: &[(&str, ColumnType)] = &[
    ("id", T::ULong),
    ("ma_dat", T::String),
    ("ten_dat", T::String),
    ("dien_tich_ha", T::Double),
    ("ma_quy_hoach", T::String),
    ("ten_quy_hoach", T::String),
    ("so_quyet_dinh", T::String),
    ("ngay_phe_duyet", T::DateTime),
    ("ky_quy_hoach", T::String),
    ("hieu_luc_tu", T::DateTime),
    ("hieu_luc_den", T::DateTime),
    ("mat_do_xd_toi_da", T::Float),
    ("tang_cao_toi_da", T::UByte),
    ("he_so_sd_dat", T::Float),
];

/// Outlines of a traced region in the metric frame; `side_points` gives
/// the points of one directed cell side, first corner included.
fn outline(
    region: &trace::Region,
    mut side_points: impl FnMut(&trace::Side, &mut Vec<Pt>),
) -> Vec<Vec<Vec<Pt>>> {
    region
        .polygons
        .iter()
        .map(|rings| {
            rings
                .iter()
                .map(|ring| {
                    let mut pts = Vec::with_capacity(ring.len() * 3);
                    for side in ring {
                        side_points(side, &mut pts);
                    }
                    pts.push(pts[0]);
                    pts
                })
                .collect()
        })
        .collect()
}

fn write_zones(p: &Province, attrs: &Attributes, dir: &Path) -> Result<u64, GenerateError> {
    let mut layer = Layer::create(
        dir,
        "zones",
        GeometryType::MultiPolygon,
        "Khu chức năng quy hoạch sử dụng đất (dữ liệu mô phỏng)",
        ZONE_COLUMNS,
    )?;
    let mut count = 0u64;
    let mut result = Ok(());
    trace::regions(
        p.cols,
        p.rows,
        |c| p.codes[c],
        |region| {
            if result.is_err() {
                return;
            }
            count += 1;
            let polygons = outline(&region, |s, out| {
                Cell::new(p, s.i, s.j).side_points(s.side, out)
            });
            let first = region.cells[0];
            let code = &crate::landuse::TABLE[p.codes[first] as usize];
            let values = attrs.zone(p, count, first, code, hectares(&polygons));
            result = layer.add(areal(&polygons), &values);
        },
    );
    result?;
    layer.finish()?;
    Ok(count)
}

const COMMUNE_COLUMNS: &[(&str, ColumnType)] = &[
    ("ma_xa", T::String),
    ("ten_xa", T::String),
    ("cap", T::String),
    ("ma_tinh", T::String),
    ("dien_tich_ha", T::Double),
    ("dan_so", T::UInt),
];

/// Points of a commune boundary along one lattice edge: a smooth wander
/// off the straight edge, the same for both communes that share it.
fn commune_side(p: &Province, side: &trace::Side, per_edge: usize, out: &mut Vec<Pt>) {
    let (from, to) = (side.from(), side.to());
    let forward = from < to;
    let (a, b) = if forward { (from, to) } else { (to, from) };
    let (pa, pb) = (p.vertex(a.0, a.1), p.vertex(b.0, b.1));
    let key = noise::hash(
        p.seed,
        &[30, a.0 as i64, a.1 as i64, b.0 as i64, b.1 as i64],
    );
    let (dx, dy) = (pb.0 - pa.0, pb.1 - pa.1);
    let at = |q: usize| {
        let t = q as f64 / per_edge as f64;
        let off = 4.0 * t * (1.0 - t) * noise::noise_1d(key, t * 5.0) * 0.12;
        (pa.0 + dx * t - dy * off, pa.1 + dy * t + dx * off)
    };
    if forward {
        out.extend((0..per_edge).map(at));
    } else {
        out.extend((1..=per_edge).rev().map(at));
    }
}

fn write_communes(p: &Province, attrs: &Attributes, dir: &Path) -> Result<u64, GenerateError> {
    let mut layer = Layer::create(
        dir,
        "communes",
        GeometryType::MultiPolygon,
        "Ranh giới hành chính cấp xã (dữ liệu mô phỏng)",
        COMMUNE_COLUMNS,
    )?;
    // Gather each commune's outline rings first (they are small in
    // lattice sides), so that every commune gets at least 10,000 vertices.
    let mut regions: Vec<(u32, trace::Region)> = Vec::new();
    trace::regions(
        p.cols,
        p.rows,
        |c| p.commune_of[c],
        |r| regions.push((p.commune_of[r.cells[0]], r)),
    );
    let mut sides = vec![0usize; p.communes.len()];
    for (commune, region) in &regions {
        sides[*commune as usize] += region
            .polygons
            .iter()
            .flatten()
            .map(Vec::len)
            .sum::<usize>();
    }
    let fewest = sides.iter().copied().filter(|&s| s > 0).min().unwrap_or(1);
    let per_edge = 10_000usize.div_ceil(fewest).max(1);
    let mut count = 0;
    for (k, commune) in p.communes.iter().enumerate() {
        let mut polygons = Vec::new();
        for (_, region) in regions.iter().filter(|(c, _)| *c as usize == k) {
            polygons.extend(outline(region, |s, out| commune_side(p, s, per_edge, out)));
        }
        if polygons.is_empty() {
            continue;
        }
        count += 1;
        let values = attrs.commune(commune, hectares(&polygons));
        layer.add(areal(&polygons), &values)?;
    }
    layer.finish()?;
    Ok(count)
}

const RIVER_COLUMNS: &[(&str, ColumnType)] = &[
    ("ten_song", T::String),
    ("loai", T::String),
    ("chieu_rong_m", T::Float),
    ("hanh_lang_bao_ve_m", T::Short),
];

fn write_rivers(p: &Province, dir: &Path) -> Result<u64, GenerateError> {
    let mut layer = Layer::create(
        dir,
        "rivers",
        GeometryType::LineString,
        "Sông, kênh (dữ liệu mô phỏng)",
        RIVER_COLUMNS,
    )?;
    for river in &p.rivers {
        let line = LineString(river.points.iter().copied().map(to_lonlat).collect());
        let values = [
            V::Str(river.name.clone()),
            V::Static("sông"),
            V::F32(river.width as f32),
            V::I16(if river.width > 150.0 { 50 } else { 30 }),
        ];
        layer.add(Geometry::LineString(line), &values)?;
    }
    layer.finish()?;
    Ok(p.rivers.len() as u64)
}

const ROAD_COLUMNS: &[(&str, ColumnType)] = &[
    ("ten_duong", T::String),
    ("cap_duong", T::String),
    ("lo_gioi_m", T::Float),
    ("so_lan", T::UByte),
    ("trang_thai", T::String),
];

fn write_roads(p: &Province, dir: &Path) -> Result<u64, GenerateError> {
    let mut layer = Layer::create(
        dir,
        "roads",
        GeometryType::LineString,
        "Đường giao thông hiện trạng và quy hoạch (dữ liệu mô phỏng)",
        ROAD_COLUMNS,
    )?;
    for road in &p.roads {
        let line = LineString(
            road.vertices
                .iter()
                .map(|&(i, j)| to_lonlat(p.vertex(i, j)))
                .collect(),
        );
        let values = [
            V::Str(road.name.clone()),
            V::Static(road.class),
            V::F32(road.right_of_way as f32),
            V::U8(road.lanes),
            V::Static(if road.planned {
                "quy hoạch"
            } else {
                "hiện trạng"
            }),
        ];
        layer.add(Geometry::LineString(line), &values)?;
    }
    layer.finish()?;
    Ok(p.roads.len() as u64)
}

const FACILITY_COLUMNS: &[(&str, ColumnType)] = &[
    ("ten", T::String),
    ("loai", T::String),
    ("ma_dat", T::String),
    ("quy_mo", T::UInt),
    ("trang_thai", T::String),
    ("nam_hoan_thanh", T::Short),
];

fn write_facilities(p: &Province, attrs: &Attributes, dir: &Path) -> Result<u64, GenerateError> {
    let mut layer = Layer::create(
        dir,
        "facilities",
        GeometryType::Point,
        "Công trình công cộng quy hoạch: trường học, trạm y tế, chợ (dữ liệu mô phỏng)",
        FACILITY_COLUMNS,
    )?;
    let mut count = 0;
    for j in 0..p.rows {
        for i in 0..p.cols {
            let Some(facility) = attrs.facility(p, i, j) else {
                continue;
            };
            count += 1;
            let c = Cell::new(p, i, j);
            let (a, b) = c.grid_vertex(0, 0);
            let (e, f) = c.grid_vertex(1, 1);
            let point = Point(to_lonlat(((a + e) / 2.0, (b + f) / 2.0)));
            layer.add(Geometry::Point(point), &facility)?;
        }
    }
    layer.finish()?;
    Ok(count)
}

/// The tileset configuration written beside the layers.
fn tileset_toml(opts: &Options) -> String {
    format!(
        r#"# Written by `plantiles generate --parcels {parcels} --seed {seed}`.
name = "Tỉnh mô phỏng {seed}"
description = "Dữ liệu quy hoạch mô phỏng: {parcels} thửa đất, khu chức năng, ranh giới xã, sông, đường và công trình công cộng."
attribution = "Synthetic planning data made by plantiles"

[[layers]]
name = "zones"
minzoom = 8

[[layers]]
name = "parcels"
minzoom = 14

[[layers]]
name = "rivers"
minzoom = 6

[[layers]]
name = "roads"
minzoom = 8

# Boundaries stay on the map at every zoom: the outline of the province
# when zoomed out.
[[layers]]
name = "communes"
minzoom = 0

[[layers]]
name = "facilities"
minzoom = 12
"#,
        parcels = opts.parcels,
        seed = opts.seed,
    )
}
