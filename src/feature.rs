//! A FlatGeobuf feature read straight from its bytes.
//!
//! The generated flatbuffers accessors are sound only on a buffer that
//! has passed the flatbuffers verifier, which walks every field of every
//! table before the first read; on a z14 tile of parcels that walk was
//! the largest single cost of rendering. This reader needs no verifier:
//! it follows only the fields a tile or a lookup uses (the geometry with
//! its ends, coordinates, type and parts, and the property bytes), and
//! every offset it follows is checked against the buffer, so a malformed
//! feature gives an error and never a panic or an out-of-bounds read.
//! Values are read as little-endian bytes, so alignment does not matter.
//!
//! The layout, from the flatbuffers format: the buffer starts with a u32
//! offset to the root table; a table starts with an i32 offset back to
//! its vtable; a vtable holds its own size and the table's (u16 each),
//! then one u16 per field: the field's position in the table, 0 when
//! absent. Tables, vectors and strings are reached through u32 offsets
//! relative to where the offset is stored; a vector is a u32 length and
//! its elements.

use flatgeobuf::GeometryType;

/// Vtable positions of the fields read (from the FlatGeobuf schema).
const FEATURE_GEOMETRY: usize = 4;
const FEATURE_PROPERTIES: usize = 6;
const GEOMETRY_ENDS: usize = 4;
const GEOMETRY_XY: usize = 6;
const GEOMETRY_TYPE: usize = 16;
const GEOMETRY_PARTS: usize = 18;

/// What is wrong with a feature's bytes, and where. Small and `Copy`, so
/// the reads of the hot path return it cheaply; made into a message
/// (`String::from`) only when a feature is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A value of `width` bytes at `at` is past the `len`-byte feature.
    Past { width: usize, at: usize, len: usize },
    /// The offset stored at `at` points past the feature.
    Offset { at: usize },
    /// The table at `at` has its vtable before the feature.
    VtableBefore { at: usize },
    /// The table at `at` has a vtable or fields that do not fit.
    Table {
        at: usize,
        vtable: usize,
        fields: usize,
    },
    /// A field at `offset` of the table at `at` runs past its `fields` bytes.
    Field {
        at: usize,
        offset: usize,
        fields: usize,
    },
    /// A vector of `n` elements at `at` runs past the feature.
    Vector { n: usize, at: usize },
    /// A coordinate vector whose length is not a multiple of 16.
    OddCoordinates,
    /// A part's end (a point count) is not after the last one, or is
    /// past the `points` points.
    PartEnd { end: usize, points: usize },
    /// The parts end at point `start` of `points`.
    PartsEnd { start: usize, points: usize },
    /// Collections within collections, too deep.
    TooDeep,
    /// More parts than the feature's bytes can hold: parts shared by
    /// their offsets.
    SharedParts,
    /// A geometry type that is not drawn.
    Unsupported(GeometryType),
    /// An index entry's offset does not fit this machine's addresses.
    Address(u64),
    /// A size prefix at `at` is past the end of the file.
    PrefixPast { at: usize },
    /// A size prefix claims more than the cap on one feature.
    TooLarge { size: usize, cap: usize },
    /// A feature of `size` bytes at `at` runs past the end of the file.
    FeaturePast { size: usize, at: usize },
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Malformed::Past { width, at, len } => {
                write!(
                    f,
                    "{width}-byte value at byte {at} is past the {len}-byte feature"
                )
            }
            Malformed::Offset { at } => write!(f, "offset at byte {at} points past the feature"),
            Malformed::VtableBefore { at } => {
                write!(f, "table at byte {at} has its vtable before the feature")
            }
            Malformed::Table { at, vtable, fields } => write!(
                f,
                "table at byte {at} has a vtable of {vtable} bytes for {fields} bytes of \
                 fields that do not fit the feature"
            ),
            Malformed::Field { at, offset, fields } => write!(
                f,
                "field at {offset} of a table at byte {at} runs past its {fields} bytes"
            ),
            Malformed::Vector { n, at } => {
                write!(
                    f,
                    "vector of {n} elements at byte {at} runs past the feature"
                )
            }
            Malformed::OddCoordinates => write!(f, "odd number of coordinate values"),
            Malformed::PartEnd { end, points } => {
                write!(f, "part end {end} out of order or past {points} points")
            }
            Malformed::PartsEnd { start, points } => {
                write!(f, "parts end at point {start} of {points}")
            }
            Malformed::TooDeep => write!(f, "geometry nested too deep"),
            Malformed::SharedParts => write!(
                f,
                "more geometry parts than the feature's bytes can hold (parts shared)"
            ),
            Malformed::Address(offset) => write!(f, "offset {offset} is too large"),
            Malformed::PrefixPast { at } => {
                write!(f, "size prefix at byte {at} is past the end of the file")
            }
            Malformed::TooLarge { size, cap } => {
                write!(
                    f,
                    "size prefix claims {size} bytes, over the {cap}-byte cap"
                )
            }
            Malformed::FeaturePast { size, at } => write!(
                f,
                "feature of {size} bytes at byte {at} runs past the end of the file"
            ),
            Malformed::Unsupported(kind) => write!(
                f,
                "geometry type {} is not supported",
                kind.variant_name().unwrap_or("unknown")
            ),
        }
    }
}

impl From<Malformed> for String {
    fn from(m: Malformed) -> String {
        m.to_string()
    }
}

type Read<T> = Result<T, Malformed>;

/// The `N` bytes at `at`.
#[inline]
fn bytes_at<const N: usize>(buf: &[u8], at: usize) -> Read<[u8; N]> {
    buf.get(at..at.saturating_add(N))
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or(Malformed::Past {
            width: N,
            at,
            len: buf.len(),
        })
}

#[inline]
fn u16_at(buf: &[u8], at: usize) -> Read<u16> {
    bytes_at(buf, at).map(u16::from_le_bytes)
}

#[inline]
fn u32_at(buf: &[u8], at: usize) -> Read<u32> {
    bytes_at(buf, at).map(u32::from_le_bytes)
}

/// Follows the u32 offset stored at `at`.
#[inline]
fn follow(buf: &[u8], at: usize) -> Read<usize> {
    at.checked_add(u32_at(buf, at)? as usize)
        .filter(|&t| t < buf.len())
        .ok_or(Malformed::Offset { at })
}

/// A table: its position and its vtable's.
#[derive(Debug, Clone, Copy)]
struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    /// Sizes of the vtable and of the table's inline part.
    vtable_len: usize,
    table_len: usize,
}

impl<'a> Table<'a> {
    #[inline]
    fn at(buf: &'a [u8], pos: usize) -> Read<Table<'a>> {
        let back = u32_at(buf, pos)? as i32 as i64;
        let vtable =
            usize::try_from(pos as i64 - back).map_err(|_| Malformed::VtableBefore { at: pos })?;
        let vtable_len = u16_at(buf, vtable)? as usize;
        let table_len = u16_at(buf, vtable + 2)? as usize;
        if vtable_len < 4 || vtable + vtable_len > buf.len() || pos + table_len > buf.len() {
            return Err(Malformed::Table {
                at: pos,
                vtable: vtable_len,
                fields: table_len,
            });
        }
        Ok(Table {
            buf,
            pos,
            vtable,
            vtable_len,
            table_len,
        })
    }

    /// Where field `slot` (a vtable position) of `width` bytes is, or
    /// None when the table does not have it.
    #[inline]
    fn field(&self, slot: usize, width: usize) -> Read<Option<usize>> {
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let offset = u16_at(self.buf, self.vtable + slot)? as usize;
        if offset == 0 {
            return Ok(None);
        }
        if offset < 4 || offset + width > self.table_len {
            return Err(Malformed::Field {
                at: self.pos,
                offset,
                fields: self.table_len,
            });
        }
        Ok(Some(self.pos + offset))
    }

    #[inline]
    fn u8_field(&self, slot: usize) -> Read<Option<u8>> {
        Ok(self.field(slot, 1)?.map(|at| self.buf[at]))
    }

    /// The bytes of a vector field whose elements are `size` bytes.
    #[inline]
    fn vector(&self, slot: usize, size: usize) -> Read<Option<&'a [u8]>> {
        let Some(at) = self.field(slot, 4)? else {
            return Ok(None);
        };
        vector_at(self.buf, follow(self.buf, at)?, size).map(Some)
    }

    #[inline]
    fn table(&self, slot: usize) -> Read<Option<Table<'a>>> {
        let Some(at) = self.field(slot, 4)? else {
            return Ok(None);
        };
        Table::at(self.buf, follow(self.buf, at)?).map(Some)
    }
}

/// The elements of the vector at `at`, `size` bytes each.
#[inline]
fn vector_at(buf: &[u8], at: usize, size: usize) -> Read<&[u8]> {
    let n = u32_at(buf, at)? as usize;
    n.checked_mul(size)
        .and_then(|len| buf.get(at + 4..(at + 4).checked_add(len)?))
        .ok_or(Malformed::Vector { n, at })
}

/// One feature: the bytes after its size prefix.
#[derive(Debug, Clone, Copy)]
pub struct FeatureView<'a> {
    root: Table<'a>,
}

impl<'a> FeatureView<'a> {
    #[inline]
    pub fn new(buf: &'a [u8]) -> Read<FeatureView<'a>> {
        let root = u32_at(buf, 0)? as usize;
        Ok(FeatureView {
            root: Table::at(buf, root)?,
        })
    }

    #[inline]
    pub fn geometry(&self) -> Read<Option<GeometryView<'a>>> {
        Ok(self
            .root
            .table(FEATURE_GEOMETRY)?
            .map(|table| GeometryView { table }))
    }

    /// The property bytes; empty when the feature has none.
    #[inline]
    pub fn properties(&self) -> Read<&'a [u8]> {
        Ok(self.root.vector(FEATURE_PROPERTIES, 1)?.unwrap_or_default())
    }
}

/// A geometry table of a feature.
#[derive(Debug, Clone, Copy)]
pub struct GeometryView<'a> {
    table: Table<'a>,
}

impl<'a> GeometryView<'a> {
    /// Bytes of the feature the geometry is in.
    pub fn buffer_len(&self) -> usize {
        self.table.buf.len()
    }

    /// Point counts at which parts end, as little-endian u32s.
    #[inline]
    pub fn ends(&self) -> Read<Option<&'a [u8]>> {
        self.table.vector(GEOMETRY_ENDS, 4)
    }

    /// Interleaved x, y as little-endian f64s; empty when absent.
    #[inline]
    pub fn xy(&self) -> Read<&'a [u8]> {
        Ok(self.table.vector(GEOMETRY_XY, 8)?.unwrap_or_default())
    }

    #[inline]
    pub fn kind(&self) -> Read<GeometryType> {
        Ok(GeometryType(
            self.table.u8_field(GEOMETRY_TYPE)?.unwrap_or(0),
        ))
    }

    /// The sub-geometries of a multi-polygon or a collection.
    pub fn parts(&self) -> Read<Vec<GeometryView<'a>>> {
        let Some(offsets) = self.table.vector(GEOMETRY_PARTS, 4)? else {
            return Ok(Vec::new());
        };
        // Each element is an offset relative to its own position.
        let buf = self.table.buf;
        let start = offsets.as_ptr() as usize - buf.as_ptr() as usize;
        (0..offsets.len() / 4)
            .map(|i| {
                Table::at(buf, follow(buf, start + 4 * i)?).map(|table| GeometryView { table })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of one feature written by the flatgeobuf crate's own
    /// writer, and the feature's bytes with and without size prefix.
    fn written(kind: GeometryType, geometry: geo_types::Geometry<f64>) -> Vec<u8> {
        use flatgeobuf::{FgbWriter, FgbWriterOptions};
        use geozero::{ColumnValue, PropertyProcessor};
        let options = FgbWriterOptions {
            write_index: false,
            ..Default::default()
        };
        let mut w = FgbWriter::create_with_options("t", kind, options).unwrap();
        w.add_column("name", flatgeobuf::ColumnType::String, |_, _| {});
        w.add_feature_geom(geometry, |f| {
            f.property(0, "name", &ColumnValue::String("Hà Nội"))
                .unwrap();
        })
        .unwrap();
        let mut out = Vec::new();
        w.write(&mut out).unwrap();
        let header_len = u32::from_le_bytes(out[8..12].try_into().unwrap()) as usize;
        out.split_off(12 + header_len)
    }

    fn square(x: f64) -> geo_types::Polygon<f64> {
        geo_types::Polygon::new(
            vec![(x, 0.0), (x + 4.0, 0.0), (x + 4.0, 3.0), (x, 0.0)].into(),
            vec![vec![
                (x + 1.0, 1.0),
                (x + 2.0, 1.0),
                (x + 2.0, 2.0),
                (x + 1.0, 1.0),
            ]
            .into()],
        )
    }

    #[test]
    fn reads_what_the_flatgeobuf_crate_reads() {
        let cases = [
            (GeometryType::Polygon, square(0.0).into()),
            (
                GeometryType::Unknown,
                geo_types::MultiPolygon(vec![square(0.0), square(10.0)]).into(),
            ),
        ];
        for (kind, geometry) in cases {
            let prefixed = written(kind, geometry);
            let theirs = flatgeobuf::size_prefixed_root_as_feature(&prefixed).unwrap();
            let ours = FeatureView::new(&prefixed[4..]).unwrap();
            assert_eq!(
                ours.properties().unwrap(),
                theirs.properties().unwrap().bytes()
            );
            let (g, tg) = (
                ours.geometry().unwrap().unwrap(),
                theirs.geometry().unwrap(),
            );
            assert_eq!(g.kind().unwrap(), tg.type_());
            assert_eq!(g.xy().unwrap(), tg.xy().map_or(&[][..], |v| v.bytes()));
            assert_eq!(g.ends().unwrap(), tg.ends().map(|v| v.bytes()));
            let parts = g.parts().unwrap();
            let their_parts: Vec<_> = tg.parts().into_iter().flatten().collect();
            assert_eq!(parts.len(), their_parts.len());
            for (p, tp) in parts.iter().zip(&their_parts) {
                assert_eq!(p.xy().unwrap(), tp.xy().unwrap().bytes());
                assert_eq!(p.ends().unwrap(), tp.ends().map(|v| v.bytes()));
            }
            if kind == GeometryType::Unknown {
                assert_eq!(parts.len(), 2);
            } else {
                assert!(!g.xy().unwrap().is_empty());
            }
        }
    }

    #[test]
    fn every_truncation_and_byte_flip_is_an_error_or_a_value() {
        let multi = geo_types::MultiPolygon(vec![square(0.0), square(10.0)]);
        let bytes = written(GeometryType::Unknown, multi.into())[4..].to_vec();
        assert!(read_all(&bytes).is_ok());
        for n in 0..bytes.len() {
            let _ = read_all(&bytes[..n]);
        }
        for i in 0..bytes.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = read_all(&b);
            }
        }
    }

    fn read_all(b: &[u8]) -> Result<usize, String> {
        let f = FeatureView::new(b)?;
        let mut n = f.properties()?.len();
        if let Some(g) = f.geometry()? {
            n += g.xy()?.len() + g.ends()?.map_or(0, <[u8]>::len);
            g.kind()?;
            for p in g.parts()? {
                n += p.xy()?.len();
            }
        }
        Ok(n)
    }
}
