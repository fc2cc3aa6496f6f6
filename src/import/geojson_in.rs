//! GeoJSON (a FeatureCollection, streamed feature by feature), GeoJSON
//! sequences (one feature a line, RFC 8142 separators allowed) and
//! FlatGeobuf inputs.
//!
//! GeoJSON has no schema: a first pass learns each property's type (a
//! property that is sometimes a number and sometimes text becomes text)
//! and the geometry family. RFC 7946 GeoJSON is WGS84; an older file may
//! name another CRS in a `crs` member, which is honoured.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flatgeobuf::{ColumnType, FallibleStreamingIterator, FgbReader, GeometryType};
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor, ToGeo};

use super::{input_error, Description, ImportError, InFeature, Sink, Value};
use crate::crs::Crs;

fn family_of(g: &geo_types::Geometry<f64>) -> u8 {
    use geo_types::Geometry as G;
    match g {
        G::Point(_) | G::MultiPoint(_) => 1,
        G::LineString(_) | G::MultiLineString(_) | G::Line(_) => 2,
        G::Polygon(_) | G::MultiPolygon(_) | G::Rect(_) | G::Triangle(_) => 3,
        G::GeometryCollection(_) => 0,
    }
}

fn kind_of(v: &serde_json::Value) -> Option<ColumnType> {
    use serde_json::Value as J;
    match v {
        J::Null => None,
        J::Bool(_) => Some(ColumnType::Bool),
        J::Number(n) if n.is_i64() => Some(ColumnType::Long),
        J::Number(_) => Some(ColumnType::Double),
        J::String(_) => Some(ColumnType::String),
        J::Array(_) | J::Object(_) => Some(ColumnType::Json),
    }
}

fn widen(a: ColumnType, b: ColumnType) -> ColumnType {
    match (a, b) {
        _ if a == b => a,
        (ColumnType::Long, ColumnType::Double) | (ColumnType::Double, ColumnType::Long) => {
            ColumnType::Double
        }
        _ => ColumnType::String,
    }
}

/// The CRS named by a (pre-RFC 7946) `crs` member near the start.
fn declared_crs(path: &Path) -> Result<Option<Crs>, ImportError> {
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .map_err(|e| input_error(path, e))?;
    let text = String::from_utf8_lossy(&head);
    let Some(at) = text.find("\"crs\"") else {
        return Ok(None);
    };
    let rest = &text[at..text.len().min(at + 400)];
    let Some(i) = rest.find("EPSG") else {
        return Ok(None);
    };
    let code: String = rest[i + 4..]
        .trim_start_matches(':')
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    match code.parse::<u32>() {
        Ok(c) => Crs::from_epsg(c)
            .map(Some)
            .map_err(|source| ImportError::Crs {
                path: path.to_path_buf(),
                source,
            }),
        Err(_) => Ok(None),
    }
}

/// Calls `each` with every feature of a GeoJSON file or sequence; a
/// broken sequence line is passed on as an error, a broken collection
/// ends the read with one.
fn features(
    path: &Path,
    seq: bool,
    mut each: impl FnMut(Result<geojson::Feature, String>) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|e| input_error(path, e))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    if seq {
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| input_error(path, e))?;
            let line = line.trim_matches(|c: char| c == '\u{1e}' || c.is_whitespace());
            if line.is_empty() {
                continue;
            }
            each(
                serde_json::from_str::<geojson::Feature>(line)
                    .map_err(|e| format!("line {}: {e}", n + 1)),
            )?;
        }
    } else {
        for f in geojson::FeatureReader::from_reader(reader).features() {
            let f = f.map_err(|e| input_error(path, format!("not readable GeoJSON: {e}")))?;
            each(Ok(f))?;
        }
    }
    Ok(())
}

pub fn describe(path: &Path, seq: bool) -> Result<Description, ImportError> {
    let mut columns: Vec<(String, ColumnType)> = Vec::new();
    let mut families: Vec<u8> = Vec::new();
    let mut count = 0u64;
    features(path, seq, |f| {
        count += 1;
        let Ok(f) = f else { return Ok(()) };
        for (k, v) in f.properties.iter().flatten() {
            if let Some(kind) = kind_of(v) {
                match columns.iter_mut().find(|(n, _)| n == k) {
                    Some((_, old)) => *old = widen(*old, kind),
                    None => columns.push((k.clone(), kind)),
                }
            }
        }
        if let Some(g) = f
            .geometry
            .and_then(|g| geo_types::Geometry::<f64>::try_from(g).ok())
        {
            let fam = family_of(&g);
            if !families.contains(&fam) {
                families.push(fam);
            }
        }
        Ok(())
    })?;
    Ok(Description {
        columns,
        crs: declared_crs(path)?,
        count: Some(count),
        family: if families.len() == 1 { families[0] } else { 0 },
        default_wgs84: true,
    })
}

fn json_value(v: &serde_json::Value, kind: ColumnType) -> Option<Value> {
    use serde_json::Value as J;
    Some(match (v, kind) {
        (J::Null, _) => return None,
        (J::Bool(b), ColumnType::Bool) => Value::Bool(*b),
        (J::Number(n), ColumnType::Long) => Value::Int(n.as_i64()?),
        (J::Number(n), ColumnType::Double) => Value::Float(n.as_f64()?),
        (J::String(s), _) => Value::Text(s.clone()),
        (other, ColumnType::Json) => Value::Json(other.to_string()),
        (other, _) => Value::Text(other.to_string()),
    })
}

pub fn read(
    path: &Path,
    desc: &Description,
    seq: bool,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let index: HashMap<&str, usize> = desc
        .columns
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.as_str(), i))
        .collect();
    features(path, seq, |f| {
        let f = match f {
            Ok(f) => f,
            Err(e) => return sink(Err(e)),
        };
        let geometry = match f
            .geometry
            .map(geo_types::Geometry::<f64>::try_from)
            .transpose()
        {
            Ok(g) => g,
            Err(e) => return sink(Err(format!("geometry: {e}"))),
        };
        let mut props = vec![None; desc.columns.len()];
        for (k, v) in f.properties.iter().flatten() {
            if let Some(&i) = index.get(k.as_str()) {
                props[i] = json_value(v, desc.columns[i].1);
            }
        }
        sink(Ok(InFeature { geometry, props }))
    })
}

fn fgb_kind(kind: ColumnType) -> Option<ColumnType> {
    use ColumnType as C;
    Some(match kind {
        C::Byte | C::UByte | C::Short | C::UShort | C::Int | C::UInt | C::Long | C::ULong => {
            C::Long
        }
        C::Float | C::Double => C::Double,
        C::Bool => C::Bool,
        C::String => C::String,
        C::Json => C::Json,
        C::DateTime => C::DateTime,
        _ => return None,
    })
}

fn open_fgb(path: &Path) -> Result<FgbReader<BufReader<File>>, ImportError> {
    let file = File::open(path).map_err(|e| input_error(path, e))?;
    FgbReader::open(BufReader::new(file))
        .map_err(|e| input_error(path, format!("not readable FlatGeobuf: {e}")))
}

pub fn describe_fgb(path: &Path) -> Result<Description, ImportError> {
    let reader = open_fgb(path)?;
    let header = reader.header();
    let columns = header
        .columns()
        .map(|cols| {
            cols.iter()
                .filter_map(|c| Some((c.name().to_string(), fgb_kind(c.type_())?)))
                .collect()
        })
        .unwrap_or_default();
    let crs = match header.crs() {
        None => None,
        Some(c) if c.code() > 0 => {
            Some(
                Crs::from_epsg(c.code() as u32).map_err(|source| ImportError::Crs {
                    path: path.to_path_buf(),
                    source,
                })?,
            )
        }
        Some(c) => match c.wkt() {
            Some(w) => Some(Crs::parse(w).map_err(|source| ImportError::Crs {
                path: path.to_path_buf(),
                source,
            })?),
            None => None,
        },
    };
    let family = match header.geometry_type() {
        GeometryType::Point | GeometryType::MultiPoint => 1,
        GeometryType::LineString | GeometryType::MultiLineString => 2,
        GeometryType::Polygon | GeometryType::MultiPolygon => 3,
        _ => 0,
    };
    Ok(Description {
        columns,
        crs,
        count: Some(header.features_count()).filter(|&n| n > 0),
        family,
        default_wgs84: false,
    })
}

/// Collects a feature's properties by column name.
struct Collect<'a> {
    desc: &'a Description,
    props: Vec<Option<Value>>,
}

impl PropertyProcessor for Collect<'_> {
    fn property(&mut self, _i: usize, name: &str, v: &ColumnValue) -> geozero::error::Result<bool> {
        if let Some(i) = self.desc.columns.iter().position(|(n, _)| n == name) {
            self.props[i] = match v {
                ColumnValue::Byte(x) => Some(Value::Int(*x as i64)),
                ColumnValue::UByte(x) => Some(Value::Int(*x as i64)),
                ColumnValue::Short(x) => Some(Value::Int(*x as i64)),
                ColumnValue::UShort(x) => Some(Value::Int(*x as i64)),
                ColumnValue::Int(x) => Some(Value::Int(*x as i64)),
                ColumnValue::UInt(x) => Some(Value::Int(*x as i64)),
                ColumnValue::Long(x) => Some(Value::Int(*x)),
                ColumnValue::ULong(x) => Some(Value::Int(*x as i64)),
                ColumnValue::Float(x) => Some(Value::Float(*x as f64)),
                ColumnValue::Double(x) => Some(Value::Float(*x)),
                ColumnValue::Bool(b) => Some(Value::Bool(*b)),
                ColumnValue::String(s) => Some(Value::Text(s.to_string())),
                ColumnValue::Json(s) => Some(Value::Json(s.to_string())),
                ColumnValue::DateTime(s) => Some(Value::DateTime(s.to_string())),
                ColumnValue::Binary(_) => None,
            };
        }
        Ok(false)
    }
}

pub fn read_fgb(path: &Path, desc: &Description, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    let mut it = open_fgb(path)?
        .select_all_seq()
        .map_err(|e| input_error(path, format!("not readable FlatGeobuf: {e}")))?;
    loop {
        let feature = match it.next() {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(()),
            Err(e) => return Err(input_error(path, format!("damaged feature: {e}"))),
        };
        let geometry = match feature.to_geo() {
            Ok(g) => Some(g),
            Err(e) => {
                sink(Err(format!("geometry: {e}")))?;
                continue;
            }
        };
        let mut collect = Collect {
            desc,
            props: vec![None; desc.columns.len()],
        };
        if let Err(e) = feature.process_properties(&mut collect) {
            sink(Err(format!("properties: {e}")))?;
            continue;
        }
        sink(Ok(InFeature {
            geometry,
            props: collect.props,
        }))?;
    }
}
