//! Helpers shared by the integration tests: an MVT geometry decoder
//! written from the specification, independent of the encoder, on top of
//! geozero's protobuf types.

#![allow(dead_code)]

pub mod http;

use geozero::mvt::{tile, Message, Tile};

/// A decoded feature: type, id, properties as text, geometry.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub kind: i32,
    pub id: Option<u64>,
    pub props: Vec<(String, String)>,
    /// MoveTo-started paths; rings are not closed.
    pub paths: Vec<Vec<(i64, i64)>>,
}

impl Decoded {
    pub fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub fn decode_tile(bytes: &[u8]) -> Tile {
    Tile::decode(bytes).expect("tile decodes as MVT protobuf")
}

/// The value as text, with its type's name: "string:x", "double:1.5".
pub fn value_text(v: &tile::Value) -> String {
    if let Some(s) = &v.string_value {
        format!("string:{s}")
    } else if let Some(f) = v.float_value {
        format!("float:{f}")
    } else if let Some(f) = v.double_value {
        format!("double:{f}")
    } else if let Some(i) = v.int_value {
        format!("int:{i}")
    } else if let Some(u) = v.uint_value {
        format!("uint:{u}")
    } else if let Some(i) = v.sint_value {
        format!("sint:{i}")
    } else if let Some(b) = v.bool_value {
        format!("bool:{b}")
    } else {
        "none".into()
    }
}

fn unzigzag(v: u32) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Decodes geometry commands per the MVT 2.1 specification.
pub fn decode_geometry(commands: &[u32]) -> Vec<Vec<(i64, i64)>> {
    let mut paths: Vec<Vec<(i64, i64)>> = Vec::new();
    let (mut x, mut y) = (0i64, 0i64);
    let mut i = 0;
    while i < commands.len() {
        let (id, count) = (commands[i] & 7, commands[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    x += unzigzag(commands[i]);
                    y += unzigzag(commands[i + 1]);
                    i += 2;
                    if id == 1 {
                        paths.push(vec![(x, y)]);
                    } else {
                        paths.last_mut().expect("LineTo after MoveTo").push((x, y));
                    }
                }
            }
            7 => assert_eq!(count, 1, "ClosePath count"),
            other => panic!("unknown command {other}"),
        }
    }
    paths
}

pub fn features(layer: &tile::Layer) -> Vec<Decoded> {
    layer
        .features
        .iter()
        .map(|f| Decoded {
            kind: f.r#type.unwrap_or(0),
            id: f.id,
            props: f
                .tags
                .chunks(2)
                .map(|kv| {
                    (
                        layer.keys[kv[0] as usize].clone(),
                        value_text(&layer.values[kv[1] as usize]),
                    )
                })
                .collect(),
            paths: decode_geometry(&f.geometry),
        })
        .collect()
}

/// Twice the signed area by the surveyor's formula (y down in tiles).
pub fn area2(ring: &[(i64, i64)]) -> i64 {
    (0..ring.len())
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Every feature of a FlatGeobuf file, read with the flatgeobuf crate's
/// own reader: geometry and properties as text.
pub fn read_fgb(
    path: &std::path::Path,
) -> Vec<(
    geo_types::Geometry<f64>,
    std::collections::HashMap<String, String>,
)> {
    use flatgeobuf::FallibleStreamingIterator;
    use geozero::{FeatureProperties, ToGeo};
    let file = std::fs::File::open(path).expect("open");
    let mut it = flatgeobuf::FgbReader::open(std::io::BufReader::new(file))
        .expect("header")
        .select_all()
        .expect("select");
    let mut out = Vec::new();
    while let Some(f) = it.next().expect("feature") {
        out.push((
            f.to_geo().expect("geometry"),
            f.properties().expect("properties"),
        ));
    }
    out
}

/// The sample's layers, in drawing order.
pub const SAMPLE_LAYERS: &[&str] = &[
    "zones",
    "parcels",
    "rivers",
    "roads",
    "communes",
    "facilities",
];

pub fn sample_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tilesets/sample")
}
