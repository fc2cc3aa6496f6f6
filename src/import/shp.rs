//! Shapefiles: `.shp` geometry, `.dbf` attributes decoded with the
//! encoding of the `.cpg` (UTF-8 when there is none, or `--encoding`),
//! and the CRS of the `.prj`.

use std::io::Read;
use std::path::{Path, PathBuf};

use flatgeobuf::ColumnType;
use shapefile::dbase;
use shapefile::dbase::encoding::EncodingRs;
use shapefile::dbase::{FieldType, FieldValue};
use shapefile::ShapeType;

use super::{input_error, Description, ImportError, InFeature, Sink, Value};
use crate::crs::Crs;

fn sibling(path: &Path, ext: &str) -> PathBuf {
    let upper = path.with_extension(ext.to_ascii_uppercase());
    let lower = path.with_extension(ext);
    if lower.exists() || !upper.exists() {
        lower
    } else {
        upper
    }
}

/// Decimal places of each `.dbf` field, read from the field descriptors
/// (32 bytes each after the 32-byte header, decimals at byte 17).
fn decimals(dbf: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(dbf)
        .and_then(|f| f.take(32 * 256 + 32).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    Ok(bytes
        .get(32..)
        .unwrap_or_default()
        .chunks_exact(32)
        .take_while(|d| d[0] != 0x0d)
        .map(|d| d[17])
        .collect())
}

fn encoding(
    path: &Path,
    flag: Option<&str>,
) -> Result<&'static encoding_rs::Encoding, ImportError> {
    let cpg = std::fs::read_to_string(sibling(path, "cpg")).ok();
    let label = flag
        .map(str::to_string)
        .or(cpg)
        .unwrap_or_else(|| "UTF-8".into());
    let label = label.trim();
    // ESRI writes bare code page numbers.
    let label = match label {
        "1258" => "windows-1258",
        "1252" => "windows-1252",
        "65001" => "UTF-8",
        other => other,
    };
    encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(|| {
        input_error(
            path,
            format!("unknown attribute encoding {label:?} (.cpg or --encoding)"),
        )
    })
}

fn open_dbf(
    path: &Path,
    enc: &'static encoding_rs::Encoding,
) -> Result<dbase::Reader<std::io::BufReader<std::fs::File>>, ImportError> {
    let dbf = sibling(path, "dbf");
    dbase::ReaderBuilder::new()
        .with_encoding(EncodingRs::from(enc))
        .open(&dbf)
        .map_err(|e| input_error(&dbf, format!("cannot read attributes: {e}")))
}

pub fn describe(path: &Path) -> Result<Description, ImportError> {
    let reader = shapefile::ShapeReader::from_path(path)
        .map_err(|e| input_error(path, format!("cannot read Shapefile: {e}")))?;
    let family = match reader.header().shape_type {
        ShapeType::Point
        | ShapeType::PointZ
        | ShapeType::PointM
        | ShapeType::Multipoint
        | ShapeType::MultipointZ
        | ShapeType::MultipointM => 1,
        ShapeType::Polyline | ShapeType::PolylineZ | ShapeType::PolylineM => 2,
        ShapeType::Polygon | ShapeType::PolygonZ | ShapeType::PolygonM => 3,
        _ => 0,
    };
    let dbf = sibling(path, "dbf");
    let places = decimals(&dbf).map_err(|e| input_error(&dbf, e))?;
    let table = open_dbf(path, encoding_rs::UTF_8)?;
    let columns = table
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let kind = match f.field_type() {
                FieldType::Numeric if places.get(i) == Some(&0) => ColumnType::Long,
                FieldType::Numeric | FieldType::Float | FieldType::Double | FieldType::Currency => {
                    ColumnType::Double
                }
                FieldType::Integer => ColumnType::Long,
                FieldType::Logical => ColumnType::Bool,
                FieldType::Date | FieldType::DateTime => ColumnType::DateTime,
                FieldType::Character | FieldType::Memo => ColumnType::String,
            };
            (f.name().to_string(), kind)
        })
        .collect();
    let prj = sibling(path, "prj");
    let crs = match std::fs::read_to_string(&prj) {
        Ok(text) => Some(
            Crs::parse(&text).map_err(|source| super::ImportError::Crs { path: prj, source })?,
        ),
        Err(_) => None,
    };
    Ok(Description {
        columns,
        crs,
        count: Some(table.header().num_records as u64),
        family,
        default_wgs84: false,
    })
}

fn value(v: FieldValue) -> Option<Value> {
    Some(match v {
        FieldValue::Character(s) => Value::Text(s?),
        FieldValue::Memo(s) => Value::Text(s),
        FieldValue::Numeric(n) => {
            let n = n?;
            if n.fract() == 0.0 && n.abs() < 9e15 {
                Value::Int(n as i64)
            } else {
                Value::Float(n)
            }
        }
        FieldValue::Float(f) => Value::Float(f? as f64),
        FieldValue::Double(f) | FieldValue::Currency(f) => Value::Float(f),
        FieldValue::Integer(i) => Value::Int(i as i64),
        FieldValue::Logical(b) => Value::Bool(b?),
        FieldValue::Date(d) => {
            let d = d?;
            Value::DateTime(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        FieldValue::DateTime(dt) => {
            let d = dt.date();
            Value::DateTime(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
    })
}

pub fn read(
    path: &Path,
    desc: &Description,
    flag: Option<&str>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let enc = encoding(path, flag)?;
    let mut shapes = shapefile::ShapeReader::from_path(path)
        .map_err(|e| input_error(path, format!("cannot read Shapefile: {e}")))?;
    let mut table = open_dbf(path, enc)?;
    let mut records = table.iter_records();
    for shape in shapes.iter_shapes() {
        let record = records.next();
        let shape = match shape {
            Ok(s) => s,
            // A record that does not parse ends the readable part of the
            // file: report the file as damaged.
            Err(e) => return Err(input_error(path, format!("damaged geometry record: {e}"))),
        };
        let geometry = match shape {
            shapefile::Shape::NullShape => None,
            s => match geo_types::Geometry::<f64>::try_from(s) {
                Ok(g) => Some(g),
                Err(e) => {
                    sink(Err(format!("unsupported shape: {e}")))?;
                    continue;
                }
            },
        };
        let mut props = vec![None; desc.columns.len()];
        match record {
            Some(Ok(r)) => {
                for (name, v) in r {
                    if let Some(i) = desc.columns.iter().position(|(n, _)| *n == name) {
                        props[i] = value(v);
                    }
                }
            }
            Some(Err(e)) => {
                return Err(input_error(path, format!("damaged attribute record: {e}")))
            }
            None => {
                return Err(input_error(
                    path,
                    "the .dbf has fewer records than the .shp",
                ))
            }
        }
        sink(Ok(InFeature { geometry, props }))?;
    }
    Ok(())
}
