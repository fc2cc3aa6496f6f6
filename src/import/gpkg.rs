//! GeoPackage feature tables, read with SQLite in pages of rows (keyed
//! on the row id, so memory stays flat) and geometry blobs decoded by
//! geozero's GeoPackage WKB reader.

use std::path::Path;

use flatgeobuf::ColumnType;
use geozero::wkb::GpkgWkb;
use geozero::ToGeo;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{input_error, Description, ImportError, InFeature, Sink, Value};
use crate::crs::Crs;

/// Rows fetched per query.
const PAGE: i64 = 10_000;

struct Table {
    name: String,
    geometry: String,
    srs_id: i64,
    geometry_type: String,
}

fn open(path: &Path) -> Result<Connection, ImportError> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| input_error(path, format!("not a readable GeoPackage: {e}")))
}

fn sql_error(path: &Path) -> impl Fn(rusqlite::Error) -> ImportError + '_ {
    move |e| input_error(path, format!("not a readable GeoPackage: {e}"))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn table(conn: &Connection, path: &Path, layer: Option<&str>) -> Result<Table, ImportError> {
    let mut stmt = conn
        .prepare(
            "SELECT c.table_name, g.column_name, g.srs_id, g.geometry_type_name \
             FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name \
             WHERE c.data_type = 'features' ORDER BY c.table_name",
        )
        .map_err(sql_error(path))?;
    let tables: Vec<Table> = stmt
        .query_map([], |r| {
            Ok(Table {
                name: r.get(0)?,
                geometry: r.get(1)?,
                srs_id: r.get(2)?,
                geometry_type: r.get(3)?,
            })
        })
        .map_err(sql_error(path))?
        .collect::<Result<_, _>>()
        .map_err(sql_error(path))?;
    let names = || {
        tables
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match layer {
        Some(l) => {
            let listed = names();
            tables
                .into_iter()
                .find(|t| t.name == l)
                .ok_or_else(|| input_error(path, format!("no layer {l:?}; it has {listed}")))
        }
        None if tables.len() == 1 => Ok(tables
            .into_iter()
            .next()
            .ok_or_else(|| input_error(path, "no layer"))?),
        None if tables.is_empty() => Err(input_error(path, "has no feature layer")),
        None => Err(input_error(
            path,
            format!("has several layers ({}); pick one with --layer", names()),
        )),
    }
}

fn crs(conn: &Connection, path: &Path, srs_id: i64) -> Result<Option<Crs>, ImportError> {
    let row: Option<(Option<String>, Option<i64>, Option<String>)> = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok();
    let Some((org, code, definition)) = row else {
        return Ok(None);
    };
    let from_code = match (org.as_deref().map(str::to_ascii_uppercase).as_deref(), code) {
        (Some("EPSG"), Some(c)) if c > 0 => Crs::from_epsg(c as u32).ok(),
        _ => None,
    };
    if from_code.is_some() {
        return Ok(from_code);
    }
    match definition.filter(|d| d.trim() != "undefined" && !d.trim().is_empty()) {
        Some(d) => Crs::parse(&d).map(Some).map_err(|source| ImportError::Crs {
            path: path.to_path_buf(),
            source,
        }),
        None => Ok(None),
    }
}

fn column_kind(decl: &str) -> ColumnType {
    let d = decl.to_ascii_uppercase();
    if d.contains("INT") {
        ColumnType::Long
    } else if d.contains("REAL")
        || d.contains("FLOAT")
        || d.contains("DOUBLE")
        || d.contains("NUMERIC")
    {
        ColumnType::Double
    } else if d.contains("BOOL") {
        ColumnType::Bool
    } else if d.contains("DATE") {
        ColumnType::DateTime
    } else {
        ColumnType::String
    }
}

/// Attribute columns (name, type), without the id and geometry.
fn columns(
    conn: &Connection,
    path: &Path,
    t: &Table,
) -> Result<Vec<(String, ColumnType)>, ImportError> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({})", quote(&t.name)))
        .map_err(sql_error(path))?;
    let rows: Vec<(String, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(5)?)))
        .map_err(sql_error(path))?
        .collect::<Result<_, _>>()
        .map_err(sql_error(path))?;
    Ok(rows
        .into_iter()
        .filter(|(name, _, pk)| *pk == 0 && *name != t.geometry)
        .map(|(name, decl, _)| (name, column_kind(&decl)))
        .collect())
}

pub fn describe(path: &Path, layer: Option<&str>) -> Result<Description, ImportError> {
    let conn = open(path)?;
    let t = table(&conn, path, layer)?;
    let count: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {}", quote(&t.name)),
            [],
            |r| r.get(0),
        )
        .map_err(sql_error(path))?;
    let family = match t.geometry_type.to_ascii_uppercase().as_str() {
        "POINT" | "MULTIPOINT" => 1,
        "LINESTRING" | "MULTILINESTRING" => 2,
        "POLYGON" | "MULTIPOLYGON" => 3,
        _ => 0,
    };
    Ok(Description {
        columns: columns(&conn, path, &t)?,
        crs: crs(&conn, path, t.srs_id)?,
        count: Some(count as u64),
        family,
        default_wgs84: false,
    })
}

fn value(v: ValueRef<'_>, kind: ColumnType) -> Option<Value> {
    Some(match v {
        ValueRef::Null => return None,
        ValueRef::Integer(i) if kind == ColumnType::Bool => Value::Bool(i != 0),
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t).into_owned();
            if kind == ColumnType::DateTime {
                Value::DateTime(s)
            } else {
                Value::Text(s)
            }
        }
        ValueRef::Blob(b) => Value::Text(format!("{} bytes", b.len())),
    })
}

pub fn read(
    path: &Path,
    desc: &Description,
    layer: Option<&str>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let conn = open(path)?;
    let t = table(&conn, path, layer)?;
    let cols: Vec<String> = desc.columns.iter().map(|(n, _)| quote(n)).collect();
    let select = format!(
        "SELECT rowid, {}{}{} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT {PAGE}",
        quote(&t.geometry),
        if cols.is_empty() { "" } else { ", " },
        cols.join(", "),
        quote(&t.name)
    );
    let mut stmt = conn.prepare(&select).map_err(sql_error(path))?;
    let mut last = i64::MIN;
    loop {
        let mut rows = stmt.query([last]).map_err(sql_error(path))?;
        let mut got = 0;
        while let Some(row) = rows.next().map_err(sql_error(path))? {
            got += 1;
            last = row.get(0).map_err(sql_error(path))?;
            let geometry = match row.get_ref(1).map_err(sql_error(path))? {
                ValueRef::Null => None,
                ValueRef::Blob(b) => match GpkgWkb(b.to_vec()).to_geo() {
                    Ok(g) => Some(g),
                    Err(e) => {
                        sink(Err(format!("geometry: {e}")))?;
                        continue;
                    }
                },
                _ => {
                    sink(Err("geometry column holds no blob".into()))?;
                    continue;
                }
            };
            let mut props = Vec::with_capacity(desc.columns.len());
            for (i, (_, kind)) in desc.columns.iter().enumerate() {
                props.push(value(row.get_ref(i + 2).map_err(sql_error(path))?, *kind));
            }
            sink(Ok(InFeature { geometry, props }))?;
        }
        if got < PAGE {
            return Ok(());
        }
    }
}
