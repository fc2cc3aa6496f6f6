//! A Mapbox Vector Tile 2.1 encoder, writing protobuf by hand.
//!
//! Hand-written because the tile's hot loop is here: features are encoded
//! once, straight into the output buffer, keys and values are deduplicated
//! per layer with borrowed strings (no copy of the attribute text), and
//! nothing is allocated per coordinate.
//!
//! Geometry arrives in integer tile units. The caller gives rings already
//! oriented (exterior clockwise on screen, i.e. positive area with y
//! down) and without repeated points; this module only encodes.

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

/// An attribute value. Strings borrow from the layer's file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    String(&'a str),
    Float(f32),
    Double(f64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

/// Hashable form of a value: text by its bytes, floats by their bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ValueKey<'a> {
    String(&'a [u8]),
    Float(u32),
    Double(u64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl<'a> Value<'a> {
    fn key(&self) -> ValueKey<'a> {
        match *self {
            Value::String(s) => ValueKey::String(s.as_bytes()),
            Value::Float(f) => ValueKey::Float(f.to_bits()),
            Value::Double(f) => ValueKey::Double(f.to_bits()),
            Value::Int(i) => ValueKey::Int(i),
            Value::Uint(u) => ValueKey::Uint(u),
            Value::Bool(b) => ValueKey::Bool(b),
        }
    }
}

/// MVT geometry types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomType {
    Point = 1,
    LineString = 2,
    Polygon = 3,
}

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

fn command(id: u32, count: u32) -> u32 {
    (id & 7) | (count << 3)
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// Geometry commands of one feature, already written as the packed
/// varints of the feature's geometry field, with the cursor they depend
/// on.
#[derive(Debug, Default)]
pub struct GeomWriter {
    bytes: Vec<u8>,
    cursor: (i32, i32),
}

impl GeomWriter {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.cursor = (0, 0);
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends commands that are already encoded (for benchmarks and
    /// for re-encoding decoded tiles).
    pub fn raw(&mut self, commands: &[u32]) {
        for &c in commands {
            put_varint32(&mut self.bytes, c);
        }
    }

    /// Points as one MoveTo with a count.
    pub fn points(&mut self, points: &[(i32, i32)]) {
        if points.is_empty() {
            return;
        }
        let mut w = self.writer(points.len());
        w.varint(command(MOVE_TO, points.len() as u32));
        for &p in points {
            w.point(p);
        }
        w.finish();
    }

    /// A line of at least two points.
    pub fn line(&mut self, line: &[(i32, i32)]) {
        debug_assert!(line.len() >= 2);
        let mut w = self.writer(line.len());
        w.path(line);
        w.finish();
    }

    /// A ring of at least three points, the first not repeated.
    pub fn ring(&mut self, ring: &[(i32, i32)]) {
        let mut w = self.writer(ring.len());
        w.path(ring);
        w.varint(command(CLOSE_PATH, 1));
        w.finish();
    }

    /// Room for the commands of `points` points: each point is two
    /// varints of at most five bytes, and a path has at most three
    /// commands.
    fn writer(&mut self, points: usize) -> Commands<'_> {
        let at = self.bytes.len();
        self.bytes.resize(at + 15 + points * 10, 0);
        Commands {
            at,
            cursor: self.cursor,
            geom: self,
        }
    }
}

/// Commands written into room made beforehand, by index: no capacity
/// check per byte.
struct Commands<'a> {
    geom: &'a mut GeomWriter,
    at: usize,
    cursor: (i32, i32),
}

impl Commands<'_> {
    #[inline]
    fn varint(&mut self, mut v: u32) {
        let out = &mut self.geom.bytes;
        while v >= 0x80 {
            out[self.at] = v as u8 | 0x80;
            self.at += 1;
            v >>= 7;
        }
        out[self.at] = v as u8;
        self.at += 1;
    }

    #[inline]
    fn point(&mut self, (x, y): (i32, i32)) {
        self.varint(zigzag(x.wrapping_sub(self.cursor.0)));
        self.varint(zigzag(y.wrapping_sub(self.cursor.1)));
        self.cursor = (x, y);
    }

    /// MoveTo the first point, LineTo the others.
    fn path(&mut self, path: &[(i32, i32)]) {
        self.varint(command(MOVE_TO, 1));
        self.point(path[0]);
        self.varint(command(LINE_TO, path.len() as u32 - 1));
        for &p in &path[1..] {
            self.point(p);
        }
    }

    /// Gives back the room not used.
    fn finish(self) {
        self.geom.bytes.truncate(self.at);
        self.geom.cursor = self.cursor;
    }
}

/// One MVT layer being built.
///
/// Values are deduplicated across the layer (the specification asks for
/// no two byte-identical values of one type); each key slot remembers
/// the last value it was given, so runs of features with the same
/// attribute (neighbours in a spatially sorted file) skip the hash
/// table.
pub struct LayerBuilder<'a> {
    name: &'a str,
    extent: u32,
    keys: Vec<&'a str>,
    /// Per caller's key slot (a column number): the key's index and the
    /// slot's last value with its index.
    slots: Vec<Slot<'a>>,
    values: Vec<Value<'a>>,
    value_index: ValueIndex<'a>,
    features: Vec<u8>,
    /// The tags of the feature being built, as packed varints.
    tags: Vec<u8>,
    count: usize,
}

/// Where each distinct value is in the layer's table, one map per type:
/// small keys, and numbers hashed as one word.
#[derive(Default)]
struct ValueIndex<'a> {
    text: FxHashMap<&'a [u8], u32>,
    floats: FxHashMap<u32, u32>,
    doubles: FxHashMap<u64, u32>,
    ints: FxHashMap<i64, u32>,
    uints: FxHashMap<u64, u32>,
    bools: FxHashMap<bool, u32>,
}

/// The index of `key` in `values`, adding the value (from `decode`) the
/// first time.
#[inline]
fn index_of<'a, K: std::hash::Hash + Eq, E>(
    map: &mut FxHashMap<K, u32>,
    key: K,
    values: &mut Vec<Value<'a>>,
    decode: impl FnOnce() -> Result<Value<'a>, E>,
) -> Result<u32, E> {
    Ok(match map.entry(key) {
        Entry::Occupied(e) => *e.get(),
        Entry::Vacant(e) => {
            let next = values.len() as u32;
            values.push(decode()?);
            e.insert(next);
            next
        }
    })
}

#[derive(Clone, Copy)]
struct Slot<'a> {
    key: u32,
    last: Option<(ValueKey<'a>, u32)>,
}

impl<'a> LayerBuilder<'a> {
    pub fn new(name: &'a str, extent: u32) -> LayerBuilder<'a> {
        LayerBuilder {
            name,
            extent,
            keys: Vec::new(),
            slots: Vec::new(),
            values: Vec::new(),
            value_index: ValueIndex::default(),
            features: Vec::new(),
            tags: Vec::new(),
            count: 0,
        }
    }

    /// Makes room for about `features` more features with `tags` tags
    /// each, so the value table does not grow by rehashing (for at most
    /// a few thousand: low zooms find many features and draw few).
    pub fn reserve(&mut self, features: usize, tags: usize) {
        let features = features.min(4096);
        self.value_index.text.reserve(features * tags / 4);
        self.value_index.doubles.reserve(features);
        self.value_index.uints.reserve(features);
        self.values.reserve(features * tags / 2);
        self.features.reserve(features * (tags * 2 + 48));
    }

    /// Features added so far.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds a property to the feature being built (call before
    /// `finish_feature`). `slot` identifies the key without hashing it:
    /// one slot, one key, for the life of the builder (a column number).
    #[inline]
    pub fn tag(&mut self, slot: usize, key: &'a str, value: Value<'a>) {
        let k = value.key();
        let _ = self.tag_key(slot, key, k, || Ok::<_, ()>(value));
    }

    /// Adds a text property given as bytes not yet checked: they are
    /// checked as UTF-8 only the first time the layer sees them. On an
    /// error nothing is added.
    #[inline]
    pub fn tag_text(
        &mut self,
        slot: usize,
        key: &'a str,
        text: &'a [u8],
    ) -> Result<(), std::str::Utf8Error> {
        self.tag_key(slot, key, ValueKey::String(text), || {
            std::str::from_utf8(text).map(Value::String)
        })
    }

    #[inline]
    fn tag_key<E>(
        &mut self,
        slot: usize,
        key: &'a str,
        value: ValueKey<'a>,
        decode: impl FnOnce() -> Result<Value<'a>, E>,
    ) -> Result<(), E> {
        if slot >= self.slots.len() {
            self.slots.resize(
                slot + 1,
                Slot {
                    key: u32::MAX,
                    last: None,
                },
            );
        }
        let s = &mut self.slots[slot];
        if s.key == u32::MAX {
            s.key = self.keys.len() as u32;
            self.keys.push(key);
        }
        let v = match s.last {
            Some((last, v)) if last == value => v,
            _ => {
                let values = &mut self.values;
                let index = &mut self.value_index;
                let v = match value {
                    ValueKey::String(b) => index_of(&mut index.text, b, values, decode)?,
                    ValueKey::Float(f) => index_of(&mut index.floats, f, values, decode)?,
                    ValueKey::Double(f) => index_of(&mut index.doubles, f, values, decode)?,
                    ValueKey::Int(i) => index_of(&mut index.ints, i, values, decode)?,
                    ValueKey::Uint(u) => index_of(&mut index.uints, u, values, decode)?,
                    ValueKey::Bool(b) => index_of(&mut index.bools, b, values, decode)?,
                };
                s.last = Some((value, v));
                v
            }
        };
        put_varint32(&mut self.tags, s.key);
        put_varint32(&mut self.tags, v);
        Ok(())
    }

    /// Drops the tags of a feature that turned out empty or bad.
    pub fn discard_tags(&mut self) {
        self.tags.clear();
    }

    /// Writes the feature with the tags given since the last one.
    pub fn finish_feature(&mut self, id: Option<u64>, kind: GeomType, geometry: &GeomWriter) {
        self.finish_feature_sharing_tags(id, kind, geometry);
        self.tags.clear();
    }

    /// Writes a feature and keeps its tags for the next one: one source
    /// feature drawn as several MVT features (a geometry collection).
    pub fn finish_feature_sharing_tags(
        &mut self,
        id: Option<u64>,
        kind: GeomType,
        geometry: &GeomWriter,
    ) {
        let g = &geometry.bytes;
        let mut len = 2 + 1 + varint_len(g.len() as u64) + g.len();
        if let Some(id) = id {
            len += 1 + varint_len(id);
        }
        if !self.tags.is_empty() {
            len += 1 + varint_len(self.tags.len() as u64) + self.tags.len();
        }
        let out = &mut self.features;
        out.reserve(len + 6);
        put_key(out, 2, 2);
        put_varint(out, len as u64);
        if let Some(id) = id {
            put_varint_field(out, 1, id);
        }
        if !self.tags.is_empty() {
            put_bytes_field(out, 2, &self.tags);
        }
        put_varint_field(out, 3, kind as u64);
        put_bytes_field(out, 4, g);
        self.count += 1;
    }

    /// Appends the layer as field 3 of a Tile message to `out`, writing
    /// the features straight after the layer's header (no copy of them
    /// into a body first).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut tail = Vec::with_capacity(32 * (self.keys.len() + self.values.len()) + 16);
        for key in &self.keys {
            put_bytes_field(&mut tail, 3, key.as_bytes());
        }
        for v in &self.values {
            write_value(&mut tail, v);
        }
        put_varint_field(&mut tail, 5, self.extent as u64);
        put_varint_field(&mut tail, 15, 2);
        let name = self.name.len();
        let len = 1 + varint_len(name as u64) + name + self.features.len() + tail.len();
        out.reserve(len + 6);
        put_key(out, 3, 2);
        put_varint(out, len as u64);
        put_bytes_field(out, 1, self.name.as_bytes());
        out.extend_from_slice(&self.features);
        out.extend_from_slice(&tail);
    }
}

/// A Value message as field 4 of a layer, written in place: its length
/// is known from the value, so no buffer is filled and copied.
fn write_value(out: &mut Vec<u8>, v: &Value<'_>) {
    // Every value field number is below 16: its key is one byte.
    match *v {
        Value::String(s) => {
            let n = s.len();
            put_key(out, 4, 2);
            put_varint(out, (1 + varint_len(n as u64) + n) as u64);
            put_bytes_field(out, 1, s.as_bytes());
        }
        Value::Float(f) => {
            out.extend_from_slice(&[4 << 3 | 2, 5, 2 << 3 | 5]);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Double(f) => {
            out.extend_from_slice(&[4 << 3 | 2, 9, 3 << 3 | 1]);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Int(i) => write_varint_value(out, 4, i as u64),
        Value::Uint(u) => write_varint_value(out, 5, u),
        Value::Bool(b) => write_varint_value(out, 7, b as u64),
    }
}

fn write_varint_value(out: &mut Vec<u8>, field: u32, v: u64) {
    out.extend_from_slice(&[4 << 3 | 2, 1 + varint_len(v) as u8, (field << 3) as u8]);
    put_varint(out, v);
}

/// A varint of a u32 (geometry commands and tags): one byte for most.
#[inline]
fn put_varint32(out: &mut Vec<u8>, v: u32) {
    if v < 0x80 {
        out.push(v as u8);
    } else if v < 0x4000 {
        out.extend_from_slice(&[(v as u8) | 0x80, (v >> 7) as u8]);
    } else {
        put_varint(out, v as u64);
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A field key: number and wire type (0 varint, 1 fixed64, 2 bytes, 5 fixed32).
fn put_key(out: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(out, ((field << 3) | wire) as u64);
}

fn put_varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    put_key(out, field, 0);
    put_varint(out, v);
}

#[inline]
fn put_bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
    }

    #[test]
    fn values_are_shared_across_keys_and_checked_once() {
        let mut b = LayerBuilder::new("l", 4096);
        b.tag_text(0, "approved", b"2023-05-01").unwrap();
        b.tag_text(1, "effective", b"2023-05-01").unwrap();
        b.tag(2, "name", Value::String("2023-05-01"));
        b.tag(3, "n", Value::Int(7));
        b.tag(4, "m", Value::Uint(7));
        assert_eq!(b.values.len(), 3, "one text, an int and a uint");
        assert_eq!(b.tags, vec![0, 0, 1, 0, 2, 0, 3, 1, 4, 2]);
        // Bad UTF-8 is refused and adds no value and no tag.
        assert!(b.tag_text(0, "approved", &[0xff, 0xfe]).is_err());
        assert_eq!((b.values.len(), b.tags.len()), (3, 10));
        // The slot's last value is not trusted across a different one.
        b.tag_text(0, "approved", b"2024-01-01").unwrap();
        b.tag_text(0, "approved", b"2023-05-01").unwrap();
        assert_eq!(&b.tags[10..], &[0, 3, 0, 0]);
    }

    #[test]
    fn short_varints_match_the_general_writer() {
        for v in [0u32, 1, 127, 128, 300, 16383, 16384, 1 << 21, u32::MAX] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            put_varint32(&mut a, v);
            put_varint(&mut b, v as u64);
            assert_eq!(a, b, "{v}");
        }
    }

    /// A Value message built as a message of its own, then wrapped.
    fn value_by_message(v: &Value<'_>) -> Vec<u8> {
        let mut value = Vec::new();
        match *v {
            Value::String(s) => put_bytes_field(&mut value, 1, s.as_bytes()),
            Value::Float(f) => {
                put_key(&mut value, 2, 5);
                value.extend_from_slice(&f.to_le_bytes());
            }
            Value::Double(f) => {
                put_key(&mut value, 3, 1);
                value.extend_from_slice(&f.to_le_bytes());
            }
            Value::Int(i) => put_varint_field(&mut value, 4, i as u64),
            Value::Uint(u) => put_varint_field(&mut value, 5, u),
            Value::Bool(b) => put_varint_field(&mut value, 7, b as u64),
        }
        let mut out = Vec::new();
        put_bytes_field(&mut out, 4, &value);
        out
    }

    #[test]
    fn values_written_in_place_match_wrapped_messages() {
        let long = "đất ở tại nông thôn ".repeat(20);
        let values = [
            Value::String(""),
            Value::String("ONT"),
            Value::String(&long),
            Value::Float(1.5),
            Value::Double(-0.1),
            Value::Int(-1),
            Value::Int(i64::MAX),
            Value::Uint(0),
            Value::Uint(300),
            Value::Uint(u64::MAX),
            Value::Bool(true),
            Value::Bool(false),
        ];
        for v in values {
            let mut out = Vec::new();
            write_value(&mut out, &v);
            assert_eq!(out, value_by_message(&v), "{v:?}");
        }
    }

    #[test]
    fn zigzag_matches_the_spec() {
        assert_eq!([0, -1, 1, -2, 2].map(zigzag), [0, 1, 2, 3, 4]);
        assert_eq!(zigzag(i32::MIN), u32::MAX);
    }

    #[test]
    fn spec_example_polygon_commands() {
        // The spec's example polygon: MoveTo(3,6) LineTo(8,12) (20,34) ClosePath.
        let mut g = GeomWriter::default();
        g.ring(&[(3, 6), (8, 12), (20, 34)]);
        assert_eq!(g.bytes, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
        let mut r = GeomWriter::default();
        r.raw(&[9, 6, 12, 18, 10, 12, 24, 44, 15]);
        assert_eq!(r.bytes, g.bytes);
    }
}
