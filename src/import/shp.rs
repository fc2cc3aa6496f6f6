//! Shapefiles: `.shp` geometry, `.dbf` attributes decoded with the
//! encoding of the `.cpg` (UTF-8 when there is none, or `--encoding`),
//! and the CRS of the `.prj`.

use std::path::{Path, PathBuf};

use shapefile::ShapeType;

use super::dbf::Dbf;
use super::{input_error, Description, ImportError, InFeature, Sink};
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

fn open_dbf(path: &Path, enc: &'static encoding_rs::Encoding) -> Result<Dbf, ImportError> {
    let dbf = sibling(path, "dbf");
    Dbf::open(&dbf, enc).map_err(|e| input_error(&dbf, format!("cannot read attributes: {e}")))
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
    let table = open_dbf(path, encoding_rs::UTF_8)?;
    let columns = table
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.column_type()))
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
        count: Some(table.records as u64),
        family,
        default_wgs84: false,
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
    for shape in shapes.iter_shapes() {
        let record = table
            .next_record()
            .map_err(|e| input_error(&sibling(path, "dbf"), e))?
            .ok_or_else(|| input_error(path, "the .dbf has fewer records than the .shp"))?;
        let shape = match shape {
            Ok(s) => s,
            // A record that does not parse ends the readable part of the
            // file: report the file as damaged.
            Err(e) => return Err(input_error(path, format!("damaged geometry record: {e}"))),
        };
        if record.deleted {
            continue;
        }
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
        let mut props = record.values;
        props.resize(desc.columns.len(), None);
        sink(Ok(InFeature { geometry, props }))?;
    }
    Ok(())
}
