//! `plantiles import`: planning deliverables (Shapefile, GeoJSON, GeoJSON
//! sequences, GeoPackage, FlatGeobuf) to one serving-ready FlatGeobuf file
//! in EPSG:4326 with its packed Hilbert R-tree.
//!
//! Inputs stream: each format reader pushes one feature at a time into
//! the FlatGeobuf writer, which spools features to a temporary file and
//! keeps only their envelopes (40 bytes each). GeoJSON is read twice,
//! once for its columns and once for its features. The output is written
//! beside its final name and renamed into place only when complete, so a
//! failed import leaves nothing half-written.

mod dbf;
mod geojson_in;
mod gpkg;
mod repair;
mod shp;

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::MapCoords;
use geo_types::Geometry;
use geozero::ColumnValue;

use crate::crs::{Crs, CrsError};

/// An attribute value read from an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    DateTime(String),
    Json(String),
}

/// One feature read from an input; `props` follow the input's columns.
#[derive(Debug, Clone)]
pub struct InFeature {
    pub geometry: Option<Geometry<f64>>,
    pub props: Vec<Option<Value>>,
}

/// What an input holds, learned before its features are read.
#[derive(Debug, Clone)]
pub struct Description {
    pub columns: Vec<(String, ColumnType)>,
    /// The CRS the file declares, if it declares one.
    pub crs: Option<Crs>,
    /// Features, when the format says.
    pub count: Option<u64>,
    /// The geometry family: 1 points, 2 lines, 3 polygons, 0 mixed or
    /// unknown.
    pub family: u8,
    /// The format means WGS84 when the file names no CRS (GeoJSON).
    pub default_wgs84: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Crs { path: PathBuf, source: CrsError },
    #[error(
        "{path}: no coordinate reference system: the file declares none; \
         name it with --from-crs (for example --from-crs EPSG:9210)"
    )]
    NoCrs { path: PathBuf },
    #[error("cannot write {path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error("no input files given")]
    NoInput,
}

fn input_error(path: &Path, message: impl std::fmt::Display) -> ImportError {
    ImportError::Input {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Options of `plantiles import`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    /// Used when an input declares no CRS.
    pub from_crs: Option<String>,
    /// The layer (table) of a GeoPackage to read.
    pub layer: Option<String>,
    /// Inputs store northing first (Vietnamese survey convention).
    pub swap_xy: bool,
    /// Text encoding of Shapefile attributes when no `.cpg` says.
    pub encoding: Option<String>,
    pub progress: bool,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
    pub read: u64,
    pub written: u64,
    /// Feature numbers (1-based, over all inputs) of repaired features.
    pub repaired: Vec<u64>,
    /// Feature numbers and reasons of skipped features.
    pub skipped: Vec<(u64, String)>,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

/// Which reader an input needs, by its extension.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Shapefile,
    GeoJson,
    GeoJsonSeq,
    GeoPackage,
    FlatGeobuf,
}

fn format_of(path: &Path) -> Result<Format, ImportError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    Ok(match ext.as_str() {
        "shp" => Format::Shapefile,
        "geojson" | "json" => Format::GeoJson,
        "geojsonl" | "geojsons" | "geojsonseq" | "ndjson" | "jsonl" => Format::GeoJsonSeq,
        "gpkg" => Format::GeoPackage,
        "fgb" => Format::FlatGeobuf,
        _ => {
            return Err(input_error(
                path,
                "unknown format; give a .shp, .geojson, .geojsonl/.geojsons, .gpkg or .fgb file",
            ))
        }
    })
}

fn describe(path: &Path, opts: &Options) -> Result<Description, ImportError> {
    match format_of(path)? {
        Format::Shapefile => shp::describe(path),
        Format::GeoJson => geojson_in::describe(path, false),
        Format::GeoJsonSeq => geojson_in::describe(path, true),
        Format::GeoPackage => gpkg::describe(path, opts.layer.as_deref()),
        Format::FlatGeobuf => geojson_in::describe_fgb(path),
    }
}

type Sink<'a> = dyn FnMut(Result<InFeature, String>) -> Result<(), ImportError> + 'a;

fn read(
    path: &Path,
    desc: &Description,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    match format_of(path)? {
        Format::Shapefile => shp::read(path, desc, opts.encoding.as_deref(), sink),
        Format::GeoJson => geojson_in::read(path, desc, false, sink),
        Format::GeoJsonSeq => geojson_in::read(path, desc, true, sink),
        Format::GeoPackage => gpkg::read(path, desc, opts.layer.as_deref(), sink),
        Format::FlatGeobuf => geojson_in::read_fgb(path, desc, sink),
    }
}

/// The output's columns: those of every input, in order of first
/// appearance; a name typed differently by two inputs becomes text.
fn merge_columns(descs: &[Description]) -> Vec<(String, ColumnType)> {
    let mut out: Vec<(String, ColumnType)> = Vec::new();
    for d in descs {
        for (name, kind) in &d.columns {
            match out.iter_mut().find(|(n, _)| n == name) {
                Some((_, k)) if k != kind => *k = ColumnType::String,
                Some(_) => {}
                None => out.push((name.clone(), *kind)),
            }
        }
    }
    out
}

fn header_type(descs: &[Description]) -> GeometryType {
    let family = descs.first().map_or(0, |d| d.family);
    if family == 0 || descs.iter().any(|d| d.family != family) {
        return GeometryType::Unknown;
    }
    match family {
        1 => GeometryType::MultiPoint,
        2 => GeometryType::MultiLineString,
        _ => GeometryType::MultiPolygon,
    }
}

/// A value converted to the output column's type.
fn column_value<'a>(v: &'a Value, kind: ColumnType, text: &'a mut String) -> ColumnValue<'a> {
    match (v, kind) {
        (Value::Int(i), ColumnType::Long) => ColumnValue::Long(*i),
        (Value::Int(i), ColumnType::Double) => ColumnValue::Double(*i as f64),
        (Value::Float(f), ColumnType::Double) => ColumnValue::Double(*f),
        (Value::Bool(b), ColumnType::Bool) => ColumnValue::Bool(*b),
        (Value::DateTime(s), ColumnType::DateTime) => ColumnValue::DateTime(s),
        (Value::Json(s), ColumnType::Json) => ColumnValue::Json(s),
        (Value::Text(s), _) | (Value::DateTime(s), _) | (Value::Json(s), _) => {
            ColumnValue::String(s)
        }
        (Value::Int(i), _) => {
            *text = i.to_string();
            ColumnValue::String(text)
        }
        (Value::Float(f), _) => {
            *text = f.to_string();
            ColumnValue::String(text)
        }
        (Value::Bool(b), _) => ColumnValue::String(if *b { "true" } else { "false" }),
    }
}

/// Vietnam and its seas, generously: a point outside is suspect.
fn in_vietnam(lon: f64, lat: f64) -> bool {
    (101.0..=118.0).contains(&lon) && (6.0..=24.0).contains(&lat)
}

/// Whether raw coordinates look like northing-first in `crs`.
fn looks_swapped(crs: &Crs, x: f64, y: f64) -> bool {
    if crs.is_projected() {
        // In a Vietnamese zone eastings stay under 1,000 km; northings
        // run from 900 to 2,600 km.
        matches!(
            crs.projection,
            crate::crs::Projection::TransverseMercator { .. }
        ) && x > 1_000_000.0
            && y < 1_000_000.0
    } else {
        (6.0..=24.0).contains(&x) && (101.0..=118.0).contains(&y)
    }
}

/// Writer options of a serving-ready file: EPSG:4326, with the packed
/// Hilbert R-tree, multi types promoted unless the type is Unknown (whose
/// features then carry their own types).
pub fn serving_options<'a>(kind: GeometryType) -> FgbWriterOptions<'a> {
    FgbWriterOptions {
        write_index: true,
        detect_type: false,
        promote_to_multi: kind != GeometryType::Unknown,
        crs: FgbCrs {
            org: Some("EPSG"),
            code: 4326,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Imports `opts.inputs` into `opts.out`.
pub fn import(opts: &Options) -> Result<Summary, ImportError> {
    let started = Instant::now();
    if opts.inputs.is_empty() {
        return Err(ImportError::NoInput);
    }
    let from_crs = opts
        .from_crs
        .as_deref()
        .map(|t| {
            Crs::parse(t).map_err(|source| ImportError::Crs {
                path: PathBuf::from("--from-crs"),
                source,
            })
        })
        .transpose()?;
    let mut descs = Vec::new();
    for path in &opts.inputs {
        let d = describe(path, opts)?;
        if d.crs.is_none() && from_crs.is_none() && !d.default_wgs84 {
            return Err(ImportError::NoCrs { path: path.clone() });
        }
        descs.push(d);
    }
    let columns = merge_columns(&descs);
    let kind = header_type(&descs);
    let mut summary = Summary::default();
    if kind == GeometryType::Unknown {
        summary.warnings.push(
            "inputs mix points, lines and polygons (or do not say): the output's geometry type is Unknown"
                .into(),
        );
    }
    let name = opts
        .out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "layer".into());
    let out_error = |message: String| ImportError::Output {
        path: opts.out.clone(),
        message,
    };
    let options = serving_options(kind);
    let mut fgb = FgbWriter::create_with_options(&name, kind, options)
        .map_err(|e| out_error(e.to_string()))?;
    for (column, kind) in &columns {
        fgb.add_column(column, *kind, |_, c| c.nullable = true);
    }
    let total: Option<u64> = descs.iter().map(|d| d.count).sum();
    let bar = crate::progress::bar(opts.progress, "importing", total);
    let mut number = 0u64;
    let mut outside = 0u64;
    let mut swapped_hint = false;
    for (path, desc) in opts.inputs.iter().zip(&descs) {
        let crs = desc.crs.or(from_crs).unwrap_or(Crs::WGS84);
        let mapping: Vec<usize> = desc
            .columns
            .iter()
            .map(|(n, _)| columns.iter().position(|(m, _)| m == n).unwrap_or(0))
            .collect();
        let mut sink = |item: Result<InFeature, String>| -> Result<(), ImportError> {
            number += 1;
            summary.read += 1;
            bar.inc(1);
            let feature = match item {
                Ok(f) => f,
                Err(reason) => {
                    summary.skipped.push((number, reason));
                    return Ok(());
                }
            };
            let Some(geometry) = feature.geometry else {
                summary.skipped.push((number, "no geometry".into()));
                return Ok(());
            };
            if let Some(c) = geo::CoordsIter::coords_iter(&geometry).next() {
                swapped_hint |= !opts.swap_xy && looks_swapped(&crs, c.x, c.y);
            }
            let swap = opts.swap_xy;
            let geometry = geometry.map_coords(|c| {
                let (x, y) = if swap { (c.y, c.x) } else { (c.x, c.y) };
                let (lon, lat) = crs.to_wgs84(x, y);
                geo_types::Coord { x: lon, y: lat }
            });
            let geometry = match repair::clean(geometry) {
                Ok((g, repaired)) => {
                    if repaired {
                        summary.repaired.push(number);
                    }
                    g
                }
                Err(reason) => {
                    summary.skipped.push((number, reason));
                    return Ok(());
                }
            };
            if let Some(p) = geo::InteriorPoint::interior_point(&geometry) {
                outside += u64::from(!in_vietnam(p.x(), p.y()));
            }
            let mut failed = None;
            fgb.add_feature_geom(geometry, |w| {
                use geozero::PropertyProcessor;
                let mut text = String::new();
                for (value, &col) in feature.props.iter().zip(&mapping) {
                    if let Some(v) = value {
                        let (name, kind) = &columns[col];
                        let cv = column_value(v, *kind, &mut text);
                        if let Err(e) = w.property(col, name, &cv) {
                            failed = Some(e.to_string());
                        }
                    }
                }
            })
            .map_err(|e| out_error(e.to_string()))?;
            if let Some(message) = failed {
                return Err(out_error(message));
            }
            summary.written += 1;
            Ok(())
        };
        read(path, desc, opts, &mut sink)?;
    }
    bar.finish_and_clear();
    if swapped_hint {
        summary.warnings.push(
            "coordinates look swapped (northing first, as Vietnamese surveys write X and Y); \
             check the result and consider --swap-xy"
                .into(),
        );
    }
    if outside > 0 {
        summary.warnings.push(format!(
            "{outside} features fall outside Vietnam after conversion: is the CRS right?"
        ));
    }
    write_atomically(fgb, &opts.out)?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Writes beside `out` and renames into place; removes the partial
/// file on failure.
fn write_atomically(fgb: FgbWriter<'_>, out: &Path) -> Result<(), ImportError> {
    let tmp = out.with_extension("fgb.partial");
    let result = File::create(&tmp)
        .map_err(|e| e.to_string())
        .and_then(|f| {
            let mut w = BufWriter::with_capacity(1 << 20, f);
            fgb.write(&mut w).map_err(|e| e.to_string())?;
            use std::io::Write;
            w.flush().map_err(|e| e.to_string())
        })
        .and_then(|_| fs::rename(&tmp, out).map_err(|e| e.to_string()));
    result.map_err(|message| {
        let _ = fs::remove_file(&tmp);
        ImportError::Output {
            path: out.to_path_buf(),
            message,
        }
    })
}
