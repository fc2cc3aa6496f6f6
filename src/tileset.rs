//! A tileset: layers served together in one tile, with their settings
//! from an optional `tileset.toml`.
//!
//! ```toml
//! id = "hanoi-2030"           # default: the folder's name
//! name = "Hà Nội 2021-2030"
//! description = "..."
//! attribution = "..."
//! extent = 4096               # tile grid, default 4096
//! buffer = 64                 # tile units around the tile, default 64
//!
//! [[layers]]                  # in drawing order
//! name = "zones"              # the MVT layer's name
//! file = "zones.fgb"          # default: "<name>.fgb"
//! minzoom = 8                 # default 0
//! maxzoom = 24                # default 24
//! properties = ["ma_dat"]     # default: every column
//! simplify = 1.0              # tolerance in tile units, default 1 (tippecanoe's)
//! buffer = 64                 # default: the tileset's
//! id_column = "id"            # default: an integer column named id or fid
//! ```
//!
//! `.fgb` files of the folder that no `[[layers]]` entry names are served
//! too, after the named ones, with default settings. Unknown keys are
//! errors. A layer that fails to open is reported and left out; the other
//! layers are served.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use flatgeobuf::ColumnType;
use serde::Deserialize;

use crate::geometry::Bbox;
use crate::layer::{Layer, LayerError};
use crate::tile::MAX_ZOOM;

pub const DEFAULT_EXTENT: u32 = 4096;
pub const DEFAULT_BUFFER: u32 = 64;
pub const DEFAULT_MAXZOOM: u8 = 24;
/// Douglas–Peucker tolerance in tile units, as tippecanoe's default.
pub const DEFAULT_SIMPLIFY: f64 = 1.0;

/// Why a tileset could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TilesetError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path}: no layer could be opened ({problems})")]
    NoLayers { path: PathBuf, problems: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTileset {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    attribution: Option<String>,
    extent: Option<u32>,
    buffer: Option<u32>,
    #[serde(default)]
    layers: Vec<RawLayer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    name: String,
    file: Option<String>,
    minzoom: Option<u8>,
    maxzoom: Option<u8>,
    properties: Option<Vec<String>>,
    simplify: Option<f64>,
    buffer: Option<u32>,
    id_column: Option<String>,
}

/// How one layer is rendered.
#[derive(Debug, Clone)]
pub struct LayerSettings {
    pub minzoom: u8,
    pub maxzoom: u8,
    /// Tile units of buffer around the tile.
    pub buffer: u32,
    /// Douglas–Peucker tolerance, tile units.
    pub simplify: f64,
    /// Per column of the layer: whether it goes into tiles.
    pub included: Vec<bool>,
    /// The column whose value is the MVT feature id.
    pub id_column: Option<usize>,
}

/// A layer with its settings.
pub struct TilesetLayer {
    pub layer: Layer,
    pub settings: LayerSettings,
}

/// An open tileset.
pub struct Tileset {
    pub id: String,
    pub name: String,
    pub description: String,
    pub attribution: String,
    pub extent: u32,
    pub layers: Vec<TilesetLayer>,
    /// Layers that failed to open, with the reason.
    pub problems: Vec<String>,
}

impl Tileset {
    /// Opens a folder of `.fgb` files or a single `.fgb` file.
    pub fn open(path: &Path) -> Result<Tileset, TilesetError> {
        if path.is_dir() {
            Self::open_dir(path)
        } else {
            Self::open_file(path)
        }
    }

    fn open_file(path: &Path) -> Result<Tileset, TilesetError> {
        let id = stem(path);
        let layer = Layer::open(path).map_err(|e| TilesetError::NoLayers {
            path: path.to_path_buf(),
            problems: e.to_string(),
        })?;
        let settings =
            settings_for(&layer, None, DEFAULT_BUFFER).map_err(|message| TilesetError::Config {
                path: path.to_path_buf(),
                message,
            })?;
        Ok(Tileset {
            name: layer.title.clone().unwrap_or_else(|| id.clone()),
            description: layer.description.clone().unwrap_or_default(),
            id,
            attribution: String::new(),
            extent: DEFAULT_EXTENT,
            layers: vec![TilesetLayer { layer, settings }],
            problems: Vec::new(),
        })
    }

    fn open_dir(dir: &Path) -> Result<Tileset, TilesetError> {
        let config_path = dir.join("tileset.toml");
        let raw: RawTileset = match fs::read_to_string(&config_path) {
            Ok(text) => toml::from_str(&text).map_err(|e| TilesetError::Config {
                path: config_path.clone(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => RawTileset::default(),
            Err(source) => {
                return Err(TilesetError::Io {
                    path: config_path,
                    source,
                })
            }
        };
        let config_error = |message: String| TilesetError::Config {
            path: config_path.clone(),
            message,
        };
        let extent = raw.extent.unwrap_or(DEFAULT_EXTENT);
        if !(256..=1 << 16).contains(&extent) {
            return Err(config_error(format!(
                "extent {extent} must be between 256 and 65536"
            )));
        }
        let buffer = raw.buffer.unwrap_or(DEFAULT_BUFFER);
        if buffer > extent {
            return Err(config_error(format!(
                "buffer {buffer} is larger than the extent {extent}"
            )));
        }
        let mut wanted: Vec<(PathBuf, Option<RawLayer>)> = Vec::new();
        let mut names = HashSet::new();
        for l in raw.layers {
            if !names.insert(l.name.clone()) {
                return Err(config_error(format!("layer {:?} is listed twice", l.name)));
            }
            let file = dir.join(l.file.clone().unwrap_or_else(|| format!("{}.fgb", l.name)));
            wanted.push((file, Some(l)));
        }
        for file in fgb_files(dir)? {
            if !wanted.iter().any(|(f, _)| f == &file) && names.insert(stem(&file)) {
                wanted.push((file, None));
            }
        }
        let mut layers = Vec::new();
        let mut problems = Vec::new();
        for (file, raw_layer) in wanted {
            match open_layer(&file, raw_layer, buffer) {
                Ok(l) => layers.push(l),
                Err(problem) => {
                    tracing::error!(%problem, "layer left out");
                    problems.push(problem);
                }
            }
        }
        if layers.is_empty() {
            return Err(TilesetError::NoLayers {
                path: dir.to_path_buf(),
                problems: if problems.is_empty() {
                    "the folder has no .fgb files".into()
                } else {
                    problems.join("; ")
                },
            });
        }
        let id = raw.id.unwrap_or_else(|| stem(dir));
        Ok(Tileset {
            name: raw.name.unwrap_or_else(|| id.clone()),
            id,
            description: raw.description.unwrap_or_default(),
            attribution: raw.attribution.unwrap_or_default(),
            extent,
            layers,
            problems,
        })
    }

    /// Bounds of all layers, EPSG:4326.
    pub fn bbox(&self) -> Option<Bbox> {
        self.layers
            .iter()
            .filter_map(|l| l.layer.bbox)
            .reduce(|a, b| a.union(&b))
    }

    pub fn minzoom(&self) -> u8 {
        self.layers
            .iter()
            .map(|l| l.settings.minzoom)
            .min()
            .unwrap_or(0)
    }

    pub fn maxzoom(&self) -> u8 {
        self.layers
            .iter()
            .map(|l| l.settings.maxzoom)
            .max()
            .unwrap_or(DEFAULT_MAXZOOM)
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn fgb_files(dir: &Path) -> Result<Vec<PathBuf>, TilesetError> {
    let entries = fs::read_dir(dir).map_err(|source| TilesetError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("fgb")))
        .collect();
    files.sort();
    Ok(files)
}

fn open_layer(file: &Path, raw: Option<RawLayer>, buffer: u32) -> Result<TilesetLayer, String> {
    let mut layer = Layer::open(file).map_err(|e: LayerError| e.to_string())?;
    if let Some(name) = raw.as_ref().map(|r| r.name.clone()) {
        layer.name = name;
    }
    let settings =
        settings_for(&layer, raw, buffer).map_err(|m| format!("{}: {m}", file.display()))?;
    Ok(TilesetLayer { layer, settings })
}

fn settings_for(
    layer: &Layer,
    raw: Option<RawLayer>,
    buffer: u32,
) -> Result<LayerSettings, String> {
    let raw = raw.unwrap_or(RawLayer {
        name: layer.name.clone(),
        file: None,
        minzoom: None,
        maxzoom: None,
        properties: None,
        simplify: None,
        buffer: None,
        id_column: None,
    });
    let minzoom = raw.minzoom.unwrap_or(0);
    let maxzoom = raw.maxzoom.unwrap_or(DEFAULT_MAXZOOM);
    if minzoom > maxzoom || maxzoom > MAX_ZOOM {
        return Err(format!(
            "zoom range {minzoom}-{maxzoom} is not within 0-{MAX_ZOOM}"
        ));
    }
    let simplify = raw.simplify.unwrap_or(DEFAULT_SIMPLIFY);
    if !(0.0..=64.0).contains(&simplify) {
        return Err(format!(
            "simplify {simplify} must be between 0 and 64 tile units"
        ));
    }
    let column = |name: &str| {
        layer
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = layer.columns.iter().map(|c| c.name.as_str()).collect();
                format!(
                    "layer {} has no column {name:?} (it has {})",
                    layer.name,
                    known.join(", ")
                )
            })
    };
    let included = match &raw.properties {
        None => vec![true; layer.columns.len()],
        Some(list) => {
            let mut inc = vec![false; layer.columns.len()];
            for name in list {
                inc[column(name)?] = true;
            }
            inc
        }
    };
    let is_integer = |i: usize| {
        matches!(
            layer.columns[i].kind,
            ColumnType::Byte
                | ColumnType::UByte
                | ColumnType::Short
                | ColumnType::UShort
                | ColumnType::Int
                | ColumnType::UInt
                | ColumnType::Long
                | ColumnType::ULong
        )
    };
    let id_column = match &raw.id_column {
        Some(name) => {
            let i = column(name)?;
            if !is_integer(i) {
                return Err(format!("id_column {name:?} is not an integer column"));
            }
            Some(i)
        }
        None => ["id", "fid"]
            .iter()
            .filter_map(|n| layer.columns.iter().position(|c| c.name == *n))
            .find(|&i| is_integer(i)),
    };
    Ok(LayerSettings {
        minzoom,
        maxzoom,
        buffer: raw.buffer.unwrap_or(buffer),
        simplify,
        included,
        id_column,
    })
}
