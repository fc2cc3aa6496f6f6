//! A dBASE (`.dbf`) reader for Shapefile attributes.
//!
//! Written here rather than taken from a crate because deliverables carry
//! values that strict readers reject and stop at: dates of "00000000",
//! numbers of asterisks, stray bytes. Here a value that does not parse is
//! a null, and the record goes on. Text is decoded with the encoding of
//! the `.cpg`. Every length read from the file is checked against it.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flatgeobuf::ColumnType;

use super::Value;

/// One field of the table.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    kind: u8,
    length: usize,
    decimals: u8,
}

impl Field {
    /// The output column type of this field.
    pub fn column_type(&self) -> ColumnType {
        match self.kind {
            b'N' if self.decimals == 0 && self.length < 19 => ColumnType::Long,
            b'N' | b'F' | b'O' | b'B' | b'Y' => ColumnType::Double,
            b'I' | b'+' => ColumnType::Long,
            b'L' => ColumnType::Bool,
            b'D' | b'T' | b'@' => ColumnType::DateTime,
            _ => ColumnType::String,
        }
    }
}

/// One record.
pub struct Record {
    /// Marked deleted: its shape is skipped too.
    pub deleted: bool,
    pub values: Vec<Option<Value>>,
}

/// An open table.
pub struct Dbf {
    reader: BufReader<File>,
    pub fields: Vec<Field>,
    pub records: u32,
    record_len: usize,
    read: u32,
    encoding: &'static encoding_rs::Encoding,
}

impl Dbf {
    pub fn open(path: &Path, encoding: &'static encoding_rs::Encoding) -> Result<Dbf, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut head = [0u8; 32];
        reader
            .read_exact(&mut head)
            .map_err(|_| "shorter than a dBASE header".to_string())?;
        let records = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let header_len = u16::from_le_bytes([head[8], head[9]]) as usize;
        let record_len = u16::from_le_bytes([head[10], head[11]]) as usize;
        if header_len < 33 || record_len == 0 || header_len as u64 > len {
            return Err(format!(
                "header of {header_len} bytes and records of {record_len} do not fit the file"
            ));
        }
        let mut rest = vec![0u8; header_len - 32];
        reader
            .read_exact(&mut rest)
            .map_err(|_| "header runs past the end".to_string())?;
        let mut fields = Vec::new();
        let mut width = 1; // the deletion flag
        for d in rest.chunks_exact(32).take_while(|d| d[0] != 0x0d) {
            let name_end = d[..11].iter().position(|&b| b == 0).unwrap_or(11);
            let field = Field {
                name: encoding.decode(&d[..name_end]).0.trim().to_string(),
                kind: d[11].to_ascii_uppercase(),
                length: d[16] as usize,
                decimals: d[17],
            };
            width += field.length;
            fields.push(field);
        }
        if width > record_len {
            return Err(format!(
                "fields take {width} bytes but records have {record_len}"
            ));
        }
        Ok(Dbf {
            reader,
            fields,
            records,
            record_len,
            read: 0,
            encoding,
        })
    }

    fn value(&self, field: &Field, raw: &[u8]) -> Option<Value> {
        let text = || {
            self.encoding
                .decode(raw)
                .0
                .trim()
                .trim_end_matches('\0')
                .to_string()
        };
        match field.kind {
            b'C' | b'V' | b'W' => Some(text()).filter(|s| !s.is_empty()).map(Value::Text),
            b'N' | b'F' => {
                let s = text();
                let n: f64 = s.parse().ok().filter(|v: &f64| v.is_finite())?;
                Some(
                    if field.column_type() == ColumnType::Long && n.fract() == 0.0 {
                        Value::Int(n as i64)
                    } else {
                        Value::Float(n)
                    },
                )
            }
            b'L' => match raw.first()? {
                b'T' | b't' | b'Y' | b'y' => Some(Value::Bool(true)),
                b'F' | b'f' | b'N' | b'n' => Some(Value::Bool(false)),
                _ => None,
            },
            b'D' => {
                let s = text();
                let (y, m, d) = (s.get(0..4)?, s.get(4..6)?, s.get(6..8)?);
                let (yy, mm, dd): (u32, u32, u32) =
                    (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
                ((1..=12).contains(&mm) && (1..=31).contains(&dd) && yy > 0)
                    .then(|| Value::DateTime(format!("{y}-{m}-{d}")))
            }
            b'I' | b'+' => Some(Value::Int(
                i32::from_le_bytes(raw.get(..4)?.try_into().ok()?) as i64,
            )),
            b'O' | b'B' if raw.len() == 8 => {
                Some(Value::Float(f64::from_le_bytes(raw.try_into().ok()?)))
            }
            _ => Some(text()).filter(|s| !s.is_empty()).map(Value::Text),
        }
    }

    /// The next record, or None at the end. Values follow the fields,
    /// None for nulls; a deleted record has none.
    pub fn next_record(&mut self) -> Result<Option<Record>, String> {
        if self.read >= self.records {
            return Ok(None);
        }
        let mut buf = vec![0u8; self.record_len];
        self.reader
            .read_exact(&mut buf)
            .map_err(|_| format!("record {} of {} is cut short", self.read + 1, self.records))?;
        self.read += 1;
        if buf[0] == b'*' {
            return Ok(Some(Record {
                deleted: true,
                values: Vec::new(),
            }));
        }
        let mut at = 1;
        let mut values = Vec::with_capacity(self.fields.len());
        for f in &self.fields {
            values.push(self.value(f, &buf[at..at + f.length]));
            at += f.length;
        }
        Ok(Some(Record {
            deleted: false,
            values,
        }))
    }
}
