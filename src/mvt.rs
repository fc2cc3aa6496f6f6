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

/// Hashable form of a value: floats by their bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ValueKey<'a> {
    String(&'a str),
    Float(u32),
    Double(u64),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl<'a> Value<'a> {
    fn key(&self) -> ValueKey<'a> {
        match *self {
            Value::String(s) => ValueKey::String(s),
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

/// Geometry commands of one feature, with the cursor they depend on.
#[derive(Debug, Default)]
pub struct GeomWriter {
    commands: Vec<u32>,
    cursor: (i32, i32),
}

impl GeomWriter {
    pub fn clear(&mut self) {
        self.commands.clear();
        self.cursor = (0, 0);
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    fn push_point(&mut self, (x, y): (i32, i32)) {
        self.commands.push(zigzag(x.wrapping_sub(self.cursor.0)));
        self.commands.push(zigzag(y.wrapping_sub(self.cursor.1)));
        self.cursor = (x, y);
    }

    /// Appends commands that are already encoded (for benchmarks and
    /// for re-encoding decoded tiles).
    pub fn raw(&mut self, commands: &[u32]) {
        self.commands.extend_from_slice(commands);
    }

    /// Points as one MoveTo with a count.
    pub fn points(&mut self, points: &[(i32, i32)]) {
        if points.is_empty() {
            return;
        }
        self.commands.push(command(MOVE_TO, points.len() as u32));
        for &p in points {
            self.push_point(p);
        }
    }

    /// A line of at least two points.
    pub fn line(&mut self, line: &[(i32, i32)]) {
        debug_assert!(line.len() >= 2);
        self.commands.push(command(MOVE_TO, 1));
        self.push_point(line[0]);
        self.commands.push(command(LINE_TO, line.len() as u32 - 1));
        for &p in &line[1..] {
            self.push_point(p);
        }
    }

    /// A ring of at least three points, the first not repeated.
    pub fn ring(&mut self, ring: &[(i32, i32)]) {
        self.line(ring);
        self.commands.push(command(CLOSE_PATH, 1));
    }
}

/// One MVT layer being built.
pub struct LayerBuilder<'a> {
    name: &'a str,
    extent: u32,
    keys: Vec<&'a str>,
    /// Key index by the caller's key slot (a column number).
    key_slots: Vec<u32>,
    values: Vec<Value<'a>>,
    value_index: FxHashMap<ValueKey<'a>, u32>,
    features: Vec<u8>,
    tags: Vec<u32>,
    count: usize,
}

impl<'a> LayerBuilder<'a> {
    pub fn new(name: &'a str, extent: u32) -> LayerBuilder<'a> {
        LayerBuilder {
            name,
            extent,
            keys: Vec::new(),
            key_slots: Vec::new(),
            values: Vec::new(),
            value_index: FxHashMap::default(),
            features: Vec::new(),
            tags: Vec::new(),
            count: 0,
        }
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
    pub fn tag(&mut self, slot: usize, key: &'a str, value: Value<'a>) {
        if slot >= self.key_slots.len() {
            self.key_slots.resize(slot + 1, u32::MAX);
        }
        if self.key_slots[slot] == u32::MAX {
            self.key_slots[slot] = self.keys.len() as u32;
            self.keys.push(key);
        }
        let k = self.key_slots[slot];
        let next = self.values.len() as u32;
        let v = *self.value_index.entry(value.key()).or_insert(next);
        if v == next {
            self.values.push(value);
        }
        self.tags.push(k);
        self.tags.push(v);
    }

    /// Drops the tags of a feature that turned out empty.
    pub fn discard_tags(&mut self) {
        self.tags.clear();
    }

    /// Writes the feature with the tags given since the last one.
    pub fn finish_feature(&mut self, id: Option<u64>, kind: GeomType, geometry: &GeomWriter) {
        let mut body = Vec::with_capacity(16 + 5 * (self.tags.len() + geometry.commands.len()));
        if let Some(id) = id {
            put_varint_field(&mut body, 1, id);
        }
        if !self.tags.is_empty() {
            put_packed(&mut body, 2, &self.tags);
        }
        put_varint_field(&mut body, 3, kind as u64);
        put_packed(&mut body, 4, &geometry.commands);
        put_bytes_field(&mut self.features, 2, &body);
        self.tags.clear();
        self.count += 1;
    }

    /// Appends the layer as field 3 of a Tile message to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut body =
            Vec::with_capacity(self.features.len() + 64 * (self.keys.len() + self.values.len()));
        put_bytes_field(&mut body, 1, self.name.as_bytes());
        body.extend_from_slice(&self.features);
        for key in &self.keys {
            put_bytes_field(&mut body, 3, key.as_bytes());
        }
        let mut value = Vec::with_capacity(32);
        for v in &self.values {
            value.clear();
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
            put_bytes_field(&mut body, 4, &value);
        }
        put_varint_field(&mut body, 5, self.extent as u64);
        put_varint_field(&mut body, 15, 2);
        put_bytes_field(out, 3, &body);
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

fn put_bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    let len: usize = values.iter().map(|&v| varint_len(v as u64)).sum();
    put_key(out, field, 2);
    put_varint(out, len as u64);
    for &v in values {
        put_varint(out, v as u64);
    }
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
    fn zigzag_matches_the_spec() {
        assert_eq!([0, -1, 1, -2, 2].map(zigzag), [0, 1, 2, 3, 4]);
        assert_eq!(zigzag(i32::MIN), u32::MAX);
    }

    #[test]
    fn spec_example_polygon_commands() {
        // The spec's example polygon: MoveTo(3,6) LineTo(8,12) (20,34) ClosePath.
        let mut g = GeomWriter::default();
        g.ring(&[(3, 6), (8, 12), (20, 34)]);
        assert_eq!(g.commands, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }
}
