//! Attribute values read from a feature's property bytes: a sequence of
//! (u16 column index, value) with the value encoded by the column's type,
//! little-endian, strings as u32 length and UTF-8 bytes.

use flatgeobuf::ColumnType;

use crate::layer::Column;

/// A property value; text and bytes borrow from the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropValue<'a> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f32),
    Double(f64),
    /// String, JSON and DateTime columns.
    Text(&'a str),
    Binary(&'a [u8]),
}

/// A property not yet decoded: column index, column type, value bytes.
pub type RawProperty<'a> = (usize, ColumnType, &'a [u8]);

/// Iterates over the properties of one feature. Yields an error (and
/// then stops) on a truncated value, an unknown column or bad UTF-8.
pub struct Properties<'a, 'c> {
    bytes: &'a [u8],
    columns: &'c [Column],
    at: usize,
    failed: bool,
}

impl<'a, 'c> Properties<'a, 'c> {
    pub fn new(bytes: &'a [u8], columns: &'c [Column]) -> Properties<'a, 'c> {
        Properties {
            bytes,
            columns,
            at: 0,
            failed: false,
        }
    }

    /// The next property: its column, the column's type and the bytes of
    /// its value (a string's or a blob's without the length before it),
    /// not yet decoded. Rendering deduplicates values by these bytes and
    /// decodes each distinct one once.
    #[inline]
    pub fn next_raw(&mut self) -> Option<Result<RawProperty<'a>, String>> {
        if self.failed {
            return None;
        }
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        if rest.is_empty() {
            return None;
        }
        match raw_property(rest, self.columns) {
            Some((property, used)) => {
                self.at += used;
                Some(Ok(property))
            }
            None => {
                self.failed = true;
                Some(Err(problem(rest, self.columns)))
            }
        }
    }
}

/// Calls `found` with each property of `bytes` (column, column type and
/// value bytes, as [`Properties::next_raw`] gives them), stopping at the
/// first error of the bytes or of `found`. The loop of rendering: no
/// item is built per property.
#[inline]
pub fn for_each_raw<'a>(
    bytes: &'a [u8],
    columns: &[Column],
    mut found: impl FnMut(usize, ColumnType, &'a [u8]) -> Result<(), String>,
) -> Result<(), String> {
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(((column, kind, raw), used)) = raw_property(rest, columns) else {
            return Err(problem(rest, columns));
        };
        found(column, kind, raw)?;
        rest = &rest[used..];
    }
    Ok(())
}

/// The property at the start of `rest` and the bytes it takes; None when
/// it is malformed (`problem` says how).
#[inline]
fn raw_property<'a>(rest: &'a [u8], columns: &[Column]) -> Option<(RawProperty<'a>, usize)> {
    let column = u16::from_le_bytes([*rest.first()?, *rest.get(1)?]) as usize;
    let kind = columns.get(column)?.kind;
    match fixed_width(kind) {
        Some(n) => Some(((column, kind, rest.get(2..2 + n)?), 2 + n)),
        None if is_sized(kind) => {
            let n = rest.get(2..6)?;
            let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize;
            let value = rest.get(6..6usize.checked_add(n)?)?;
            Some(((column, kind, value), 6 + n))
        }
        None => None,
    }
}

/// Why `raw_property` found no property at the start of `rest`.
#[cold]
fn problem(rest: &[u8], columns: &[Column]) -> String {
    let past = |n: usize| format!("property value of {n} bytes runs past the feature");
    if rest.len() < 2 {
        return past(2);
    }
    let column = u16::from_le_bytes([rest[0], rest[1]]) as usize;
    let Some(kind) = columns.get(column).map(|c| c.kind) else {
        return format!(
            "property names column {column}; the layer has {}",
            columns.len()
        );
    };
    match fixed_width(kind) {
        Some(n) => past(n),
        None if is_sized(kind) => match rest.get(2..6) {
            Some(n) => past(u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize),
            None => past(4),
        },
        None => format!("column type {} is not supported", kind.0),
    }
}

/// Bytes of a value of a fixed-width type; None for sized types.
fn fixed_width(kind: ColumnType) -> Option<usize> {
    Some(match kind {
        ColumnType::Bool | ColumnType::Byte | ColumnType::UByte => 1,
        ColumnType::Short | ColumnType::UShort => 2,
        ColumnType::Int | ColumnType::UInt | ColumnType::Float => 4,
        ColumnType::Long | ColumnType::ULong | ColumnType::Double => 8,
        _ => return None,
    })
}

/// Types whose values are a u32 length and that many bytes.
fn is_sized(kind: ColumnType) -> bool {
    matches!(
        kind,
        ColumnType::String | ColumnType::Json | ColumnType::DateTime | ColumnType::Binary
    )
}

/// True for the types whose values are text (checked UTF-8 on decoding).
pub fn is_text(kind: ColumnType) -> bool {
    matches!(
        kind,
        ColumnType::String | ColumnType::Json | ColumnType::DateTime
    )
}

/// The value's bytes as an array. The raw reader gives exactly the
/// type's width; any other length (never produced) gives zeros rather
/// than a panic. An exact-size conversion, not a copy of a slice of
/// variable length, which would be a call to `memcpy` per value.
#[inline]
fn array<const N: usize>(raw: &[u8]) -> [u8; N] {
    <[u8; N]>::try_from(raw).unwrap_or([0u8; N])
}

impl<'a> PropValue<'a> {
    /// Decodes a value from the bytes `Properties::next_raw` gave for it.
    pub fn decode(kind: ColumnType, raw: &'a [u8]) -> Result<PropValue<'a>, String> {
        if let Some(v) = PropValue::fixed(kind, raw) {
            return Ok(v);
        }
        Ok(match kind {
            ColumnType::String | ColumnType::Json | ColumnType::DateTime => PropValue::Text(
                std::str::from_utf8(raw).map_err(|e| format!("text is not UTF-8: {e}"))?,
            ),
            ColumnType::Binary => PropValue::Binary(raw),
            other => return Err(format!("column type {} is not supported", other.0)),
        })
    }

    /// Decodes a value of a fixed-width type (numbers and booleans),
    /// which cannot fail; None for the other types.
    #[inline]
    pub fn fixed(kind: ColumnType, raw: &'a [u8]) -> Option<PropValue<'a>> {
        Some(match kind {
            ColumnType::Bool => PropValue::Bool(array::<1>(raw)[0] != 0),
            ColumnType::Byte => PropValue::Int(i8::from_le_bytes(array(raw)) as i64),
            ColumnType::UByte => PropValue::Uint(array::<1>(raw)[0] as u64),
            ColumnType::Short => PropValue::Int(i16::from_le_bytes(array(raw)) as i64),
            ColumnType::UShort => PropValue::Uint(u16::from_le_bytes(array(raw)) as u64),
            ColumnType::Int => PropValue::Int(i32::from_le_bytes(array(raw)) as i64),
            ColumnType::UInt => PropValue::Uint(u32::from_le_bytes(array(raw)) as u64),
            ColumnType::Long => PropValue::Int(i64::from_le_bytes(array(raw))),
            ColumnType::ULong => PropValue::Uint(u64::from_le_bytes(array(raw))),
            ColumnType::Float => PropValue::Float(f32::from_le_bytes(array(raw))),
            ColumnType::Double => PropValue::Double(f64::from_le_bytes(array(raw))),
            _ => return None,
        })
    }
}

impl<'a> Iterator for Properties<'a, '_> {
    /// Column index and value.
    type Item = Result<(usize, PropValue<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self
            .next_raw()?
            .and_then(|(column, kind, raw)| Ok((column, PropValue::decode(kind, raw)?)));
        self.failed = item.is_err();
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<Column> {
        [
            ("a", ColumnType::Int),
            ("b", ColumnType::String),
            ("c", ColumnType::Double),
        ]
        .iter()
        .map(|(n, k)| Column {
            name: n.to_string(),
            kind: *k,
        })
        .collect()
    }

    #[test]
    fn decodes_each_type() {
        let mut b = vec![0, 0];
        b.extend((-5i32).to_le_bytes());
        b.extend([1, 0]);
        b.extend(4u32.to_le_bytes());
        b.extend("Hà".as_bytes().iter().chain(b"!"));
        b.extend([2, 0]);
        b.extend(2.5f64.to_le_bytes());
        let c = cols();
        let got: Vec<_> = Properties::new(&b, &c).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            got,
            vec![
                (0, PropValue::Int(-5)),
                (1, PropValue::Text("Hà!")),
                (2, PropValue::Double(2.5))
            ]
        );
    }

    #[test]
    fn hostile_bytes_give_errors_not_panics() {
        let c = cols();
        for b in [
            vec![9, 0, 1, 2, 3, 4],
            vec![1, 0, 255, 255, 255, 255, 1],
            vec![0],
            vec![0, 0, 1],
        ] {
            let results: Vec<_> = Properties::new(&b, &c).collect();
            assert!(
                results.last().is_some_and(|r| r.is_err()),
                "{b:?}: {results:?}"
            );
        }
    }
}
