//! A layer: one FlatGeobuf file, memory-mapped, its header validated and
//! every feature's byte range known.
//!
//! File bytes are hostile. Every size read from the file is checked
//! against the file's length before it is used or allocated for, the
//! header is a verified flatbuffer, features are read by the
//! bounds-checked [`FeatureView`], and a feature that fails to decode is
//! skipped and counted by the caller, never fatal.
//!
//! Opening a layer builds its [`Index`]. When the file carries its packed
//! Hilbert R-tree, the envelopes come from the tree's leaves and no
//! geometry is decoded; otherwise every feature is decoded once.

use std::path::{Path, PathBuf};
use std::time::Instant;

use flatbuffers::VerifierOptions;
use flatgeobuf::{ColumnType, GeometryType};

use crate::feature::{FeatureView, Malformed};
use crate::geometry::{self, Bbox};
use crate::index::{Entry, Index};
use crate::mmap::MappedFile;

/// FlatGeobuf's magic bytes; the fourth is the major version.
const MAGIC: [u8; 3] = *b"fgb";
/// Largest header accepted. Real headers are a few kilobytes; the cap
/// stops a lying size prefix from making the verifier walk gigabytes.
const MAX_HEADER: usize = 16 << 20;
/// Largest single feature accepted (a national boundary with millions of
/// vertices fits with room to spare).
const MAX_FEATURE: usize = 256 << 20;
/// Size prefixes checked against the index when a layer opens: each
/// costs a random read of the file when it is not in the page cache.
const CHECKED_PREFIXES: usize = 10_000;
/// Bytes of one packed R-tree node: four f64 and a u64 offset.
const NODE_BYTES: usize = 40;

/// Why a layer could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: missing magic bytes; is this a FlatGeobuf (.fgb) file?")]
    Magic { path: PathBuf },
    #[error("{path}: FlatGeobuf major version {version} is not supported (3 is)")]
    Version { path: PathBuf, version: u8 },
    #[error("{path}: corrupt header: {problem}")]
    Header { path: PathBuf, problem: String },
    #[error(
        "{path}: coordinates are in {crs}; plantiles serves EPSG:4326 or EPSG:3857. \
         Convert it with `plantiles import {path} --out converted.fgb`"
    )]
    Crs { path: PathBuf, crs: String },
    #[error("{path}: corrupt spatial index: {problem}")]
    Index { path: PathBuf, problem: String },
    #[error("{path}: corrupt feature {feature} at byte {offset}: {problem}")]
    Feature {
        path: PathBuf,
        feature: u64,
        offset: usize,
        problem: String,
    },
}

/// The reference system of a layer's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// Longitude and latitude in degrees, WGS84.
    Wgs84,
    /// Web Mercator metres.
    WebMercator,
}

/// One attribute column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnType,
}

/// An open layer.
pub struct Layer {
    /// The layer's name: the file name without extension.
    pub name: String,
    pub path: PathBuf,
    pub geometry_type: GeometryType,
    pub columns: Vec<Column>,
    pub crs: Crs,
    /// Bounds of all features in EPSG:4326.
    pub bbox: Option<Bbox>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Features that could not be decoded while indexing.
    pub skipped: u64,
    map: MappedFile,
    /// Byte offset of the first feature.
    features_start: usize,
    index: Index,
}

/// What the header says, copied out of the map.
struct HeaderInfo {
    geometry_type: GeometryType,
    columns: Vec<Column>,
    crs: Crs,
    features: u64,
    node_size: u16,
    title: Option<String>,
    description: Option<String>,
    /// Bytes of magic, size prefix and header.
    len: usize,
}

impl Layer {
    /// Opens, validates and indexes a FlatGeobuf file.
    pub fn open(path: &Path) -> Result<Layer, LayerError> {
        let started = Instant::now();
        let map = MappedFile::open(path).map_err(|source| LayerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let header = read_header(path, &map)?;
        let mut layer = Layer {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.to_path_buf(),
            geometry_type: header.geometry_type,
            columns: header.columns,
            crs: header.crs,
            bbox: None,
            title: header.title,
            description: header.description,
            skipped: 0,
            map,
            features_start: 0,
            index: Index::default(),
        };
        let entries = if header.node_size > 0 && header.features > 0 {
            layer.entries_from_tree(header.len, header.features, header.node_size)?
        } else {
            layer.features_start = header.len;
            layer.entries_by_scan(header.features)?
        };
        layer.bbox = entries.iter().map(|e| e.bbox()).reduce(|a, b| a.union(&b));
        layer.index = Index::bulk_load(entries);
        tracing::info!(
            layer = %layer.name,
            features = layer.index.len(),
            skipped = layer.skipped,
            ms = started.elapsed().as_millis() as u64,
            index_mb = layer.index.memory_bytes() as f64 / 1e6,
            "indexed layer"
        );
        Ok(layer)
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Features in the layer.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// The feature whose size prefix starts at `offset` (an index entry's
    /// offset).
    #[inline]
    pub fn feature(&self, offset: u64) -> Result<FeatureView<'_>, Malformed> {
        let at = usize::try_from(offset).map_err(|_| Malformed::Address(offset))?;
        FeatureView::new(feature_bytes(&self.map, at)?)
    }

    /// Envelopes and offsets from the leaves of the file's packed
    /// R-tree; checks that they point at the features in file order.
    fn entries_from_tree(
        &mut self,
        header_len: usize,
        features: u64,
        node_size: u16,
    ) -> Result<Vec<Entry>, LayerError> {
        let bad = |problem: String| LayerError::Index {
            path: self.path.clone(),
            problem,
        };
        let len = self.map.len();
        // Each feature takes at least a size prefix, and each leaf 40
        // bytes: a count beyond that is a lie, caught before allocating.
        if node_size < 2 || features > (len / (NODE_BYTES + 4)) as u64 {
            return Err(bad(format!(
                "header claims {features} features with node size {node_size}, \
                 more than a {len}-byte file can hold"
            )));
        }
        let n = features as usize;
        let index_len = tree_bytes(n, node_size as usize);
        let features_start = header_len
            .checked_add(index_len)
            .filter(|&end| end <= len)
            .ok_or_else(|| {
                bad(format!(
                    "index of {index_len} bytes runs past the end of the file"
                ))
            })?;
        self.features_start = features_start;
        let leaves = &self.map[features_start - n * NODE_BYTES..features_start];
        let feature_bytes_len = (len - features_start) as u64;
        // Reading every feature's size prefix would page in the whole
        // file; checking a spread of them (all, for small files) catches
        // an index that does not match its features, and every feature is
        // bounds-checked again when a tile reads it. Read-ahead is off
        // for the features meanwhile: each check needs one page, and
        // reading ahead of every one would fill gigabytes of page cache
        // (and of the process's resident size) for nothing.
        let stride = (n / CHECKED_PREFIXES).max(1);
        let sampled = stride > 1;
        if sampled {
            self.map.expect_random_reads(features_start..len, true);
        }
        let mut entries = Vec::with_capacity(n);
        let mut previous: Option<u64> = None;
        for (k, node) in leaves.chunks_exact(NODE_BYTES).enumerate() {
            let f = |i: usize| {
                f64::from_le_bytes(node[i * 8..i * 8 + 8].try_into().unwrap_or_default())
            };
            let offset = u64::from_le_bytes(node[32..40].try_into().unwrap_or_default());
            let in_order = match previous {
                None => offset == 0,
                Some(p) => offset > p,
            };
            if !in_order || offset >= feature_bytes_len {
                return Err(bad(format!(
                    "leaf {k} points at feature byte {offset}, out of order or past \
                     the {feature_bytes_len} bytes of features"
                )));
            }
            let next = match leaves.get((k + 1) * NODE_BYTES + 32..(k + 2) * NODE_BYTES) {
                Some(b) => u64::from_le_bytes(b.try_into().unwrap_or_default()),
                None => feature_bytes_len,
            };
            let at = features_start as u64 + offset;
            if k % stride == 0 || k + 1 == n {
                let size = feature_bytes(&self.map, at as usize).map_err(|problem| {
                    LayerError::Feature {
                        path: self.path.clone(),
                        feature: k as u64,
                        offset: at as usize,
                        problem: problem.into(),
                    }
                })?;
                if offset + 4 + size.len() as u64 != next {
                    let gap = match next.checked_sub(offset) {
                        Some(gap) => format!("{gap} bytes later"),
                        None => "before it".to_string(),
                    };
                    return Err(bad(format!(
                        "feature {k} at byte {at} is {} bytes long but the index puts \
                         the next one {gap}",
                        4 + size.len(),
                    )));
                }
            }
            previous = Some(offset);
            let bbox = Bbox::new(f(0), f(1), f(2), f(3));
            if !bbox.is_sane() {
                return Err(bad(format!("leaf {k} has an invalid envelope {bbox:?}")));
            }
            entries.push(Entry::new(self.to_lonlat_bbox(bbox), at));
        }
        if sampled {
            // Tiles read runs of neighbouring features: read-ahead helps.
            self.map.expect_random_reads(features_start..len, false);
        }
        Ok(entries)
    }

    /// Decodes every feature once for its envelope. `features` is the
    /// header's count, or 0 when unknown (read to the end).
    fn entries_by_scan(&mut self, features: u64) -> Result<Vec<Entry>, LayerError> {
        let len = self.map.len();
        let mut entries = Vec::new();
        let mut at = self.features_start;
        let mut k = 0u64;
        while at < len && (features == 0 || k < features) {
            let bytes = feature_bytes(&self.map, at).map_err(|problem| LayerError::Feature {
                path: self.path.clone(),
                feature: k,
                offset: at,
                problem: problem.into(),
            })?;
            let next = at + 4 + bytes.len();
            let decoded = FeatureView::new(bytes)
                .map_err(String::from)
                .and_then(|f| geometry::bbox(&f, self.geometry_type));
            match decoded {
                Ok(Some(bbox)) => entries.push(Entry::new(self.to_lonlat_bbox(bbox), at as u64)),
                Ok(None) => {}
                Err(problem) => {
                    self.skipped += 1;
                    tracing::debug!(layer = %self.name, feature = k, %problem, "skipped feature");
                }
            }
            at = next;
            k += 1;
        }
        if features != 0 && k < features {
            return Err(LayerError::Feature {
                path: self.path.clone(),
                feature: k,
                offset: at,
                problem: format!(
                    "file ends after {k} of the {features} features the header announces"
                ),
            });
        }
        Ok(entries)
    }

    fn to_lonlat_bbox(&self, b: Bbox) -> Bbox {
        match self.crs {
            Crs::Wgs84 => b,
            Crs::WebMercator => {
                let (x0, y0) = crate::tile::mercator_to_lonlat(b.min_x, b.min_y);
                let (x1, y1) = crate::tile::mercator_to_lonlat(b.max_x, b.max_y);
                Bbox::new(x0, y0, x1, y1)
            }
        }
    }
}

/// Bytes of a packed R-tree of `n` leaves. The tree always has a root
/// above its leaves, even for a single feature.
fn tree_bytes(n: usize, node_size: usize) -> usize {
    let (mut level, mut nodes) = (n, n);
    loop {
        level = level.div_ceil(node_size);
        nodes += level;
        if level == 1 {
            return nodes * NODE_BYTES;
        }
    }
}

/// The bytes of the feature whose u32 size prefix is at `at`.
#[inline]
fn feature_bytes(map: &[u8], at: usize) -> Result<&[u8], Malformed> {
    let prefix = map
        .get(at..at.saturating_add(4))
        .ok_or(Malformed::PrefixPast { at })?;
    let size = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if size > MAX_FEATURE {
        return Err(Malformed::TooLarge {
            size,
            cap: MAX_FEATURE,
        });
    }
    map.get(at + 4..at + 4 + size)
        .ok_or(Malformed::FeaturePast { size, at })
}

fn read_header(path: &Path, map: &[u8]) -> Result<HeaderInfo, LayerError> {
    let bad = |problem: String| LayerError::Header {
        path: path.to_path_buf(),
        problem,
    };
    if map.len() < 12 || map[0..3] != MAGIC || map[4..7] != MAGIC {
        return Err(LayerError::Magic {
            path: path.to_path_buf(),
        });
    }
    if map[3] != 3 {
        return Err(LayerError::Version {
            path: path.to_path_buf(),
            version: map[3],
        });
    }
    let size = u32::from_le_bytes([map[8], map[9], map[10], map[11]]) as usize;
    if size > MAX_HEADER || 12 + size > map.len() {
        return Err(bad(format!(
            "size prefix claims {size} bytes; the file has {} after it (cap {MAX_HEADER})",
            map.len() - 12
        )));
    }
    let opts = VerifierOptions {
        max_depth: 64,
        max_tables: 10_000_000,
        max_apparent_size: MAX_HEADER,
        ignore_missing_null_terminator: false,
    };
    // Verified with its size prefix: flatbuffers align relative to it.
    let header = flatgeobuf::size_prefixed_root_as_header_with_opts(&opts, &map[8..12 + size])
        .map_err(|e| bad(e.to_string()))?;
    let geometry_type = header.geometry_type();
    if geometry_type.0 > GeometryType::GeometryCollection.0 {
        return Err(bad(format!(
            "geometry type {} is not supported (points, lines, polygons, their multi forms \
             and collections are)",
            geometry_type
                .variant_name()
                .unwrap_or("unknown to FlatGeobuf")
        )));
    }
    let columns: Vec<Column> = header
        .columns()
        .map(|cols| {
            cols.iter()
                .map(|c| Column {
                    name: c.name().to_string(),
                    kind: c.type_(),
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(c) = columns.iter().find(|c| c.kind.0 > ColumnType::ENUM_MAX) {
        return Err(bad(format!(
            "column `{}` has type {}, which FlatGeobuf does not define",
            c.name, c.kind.0
        )));
    }
    let crs = match header.crs() {
        None => Crs::Wgs84,
        Some(c) => match (
            c.org().unwrap_or("EPSG").to_ascii_uppercase().as_str(),
            c.code(),
        ) {
            ("EPSG", 4326) | ("EPSG", 0) | ("OGC", _) => Crs::Wgs84,
            ("EPSG", 3857) | ("EPSG", 900913) => Crs::WebMercator,
            (org, code) => {
                return Err(LayerError::Crs {
                    path: path.to_path_buf(),
                    crs: format!(
                        "{org}:{code}{}",
                        c.name().map(|n| format!(" ({n})")).unwrap_or_default()
                    ),
                })
            }
        },
    };
    Ok(HeaderInfo {
        geometry_type,
        columns,
        crs,
        features: header.features_count(),
        node_size: header.index_node_size(),
        title: header.title().map(str::to_string),
        description: header.description().map(str::to_string),
        len: 12 + size,
    })
}
