//! Server settings: `plantiles.toml` read into a struct that rejects
//! unknown keys, then merged with command-line flags into a validated
//! [`ServerConfig`] with no options left open.
//!
//! ```toml
//! bind = "0.0.0.0:3000"
//! tilesets = ["tilesets"]          # folders, .fgb files, folders of those
//! styles = "styles"                # folder of MapLibre style JSON
//! cache_mb = 512                   # 0 turns the tile cache off
//! cache_control = "public, max-age=300"
//! cors = "*"                       # "" sends no CORS header
//! public_url = "https://maps.example.vn"   # default: from each request
//! max_connections = 10000
//! header_timeout_secs = 10
//! render_threads = 2               # default: the number of cores
//! lookup_tolerance_m = 5           # lines and points this near a point match
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub tilesets: Vec<PathBuf>,
    pub styles: PathBuf,
    /// Tile cache size in bytes; 0 turns the cache off.
    pub cache_bytes: usize,
    /// `Cache-Control` of tiles.
    pub cache_control: String,
    /// `Access-Control-Allow-Origin`; None sends no CORS header.
    pub cors: Option<String>,
    /// Base URL of public links, without a trailing slash; None derives
    /// it from each request's Host and X-Forwarded-* headers.
    pub public_url: Option<String>,
    pub max_connections: usize,
    /// Time a client has to send its request headers.
    pub header_timeout: Duration,
    /// Tiles rendered (and lookups answered) at once, each on a blocking
    /// thread.
    pub render_threads: usize,
    /// How near a line or point must pass to a looked-up point, metres.
    pub lookup_tolerance_m: f64,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            bind: ([127, 0, 0, 1], 3000).into(),
            tilesets: vec![PathBuf::from("tilesets")],
            styles: PathBuf::from("styles"),
            cache_bytes: 512 << 20,
            cache_control: "public, max-age=300".into(),
            cors: Some("*".into()),
            public_url: None,
            max_connections: 10_000,
            header_timeout: Duration::from_secs(10),
            render_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            lookup_tolerance_m: 5.0,
        }
    }
}

/// The file's keys; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<SocketAddr>,
    pub tilesets: Option<Vec<PathBuf>>,
    pub styles: Option<PathBuf>,
    pub cache_mb: Option<usize>,
    pub cache_control: Option<String>,
    pub cors: Option<String>,
    pub public_url: Option<String>,
    pub max_connections: Option<usize>,
    pub header_timeout_secs: Option<u64>,
    pub render_threads: Option<usize>,
    pub lookup_tolerance_m: Option<f64>,
}

/// Flags given on the command line; they override the file.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub bind: Option<SocketAddr>,
    pub tilesets: Vec<PathBuf>,
    pub cache_mb: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl ServerConfig {
    /// Reads `file` (when given) and applies `flags` over it.
    pub fn load(file: Option<&Path>, flags: Flags) -> Result<ServerConfig, ConfigError> {
        let (raw, path) = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Io {
                    path: p.to_path_buf(),
                    source,
                })?;
                let raw: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                    path: p.to_path_buf(),
                    message: e.to_string(),
                })?;
                (raw, p.to_path_buf())
            }
            None => (FileConfig::default(), PathBuf::from("(flags)")),
        };
        Self::merge(raw, flags).map_err(|message| ConfigError::Invalid { path, message })
    }

    fn merge(raw: FileConfig, flags: Flags) -> Result<ServerConfig, String> {
        let d = ServerConfig::default();
        let public_url = raw.public_url.map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!(
                    "public_url {u:?} must start with http:// or https://"
                ));
            }
        }
        let render_threads = raw.render_threads.unwrap_or(d.render_threads);
        if render_threads == 0 || render_threads > 1024 {
            return Err(format!(
                "render_threads {render_threads} must be between 1 and 1024"
            ));
        }
        let cache_mb = flags.cache_mb.or(raw.cache_mb).unwrap_or(512);
        Ok(ServerConfig {
            bind: flags.bind.or(raw.bind).unwrap_or(d.bind),
            tilesets: if flags.tilesets.is_empty() {
                raw.tilesets.unwrap_or(d.tilesets)
            } else {
                flags.tilesets
            },
            styles: raw.styles.unwrap_or(d.styles),
            cache_bytes: cache_mb
                .checked_mul(1 << 20)
                .ok_or("cache_mb is too large")?,
            cache_control: raw.cache_control.unwrap_or(d.cache_control),
            cors: match raw.cors {
                Some(c) if c.is_empty() => None,
                Some(c) => Some(c),
                None => d.cors,
            },
            public_url,
            max_connections: raw.max_connections.unwrap_or(d.max_connections).max(1),
            header_timeout: raw
                .header_timeout_secs
                .map_or(d.header_timeout, Duration::from_secs),
            render_threads,
            lookup_tolerance_m: match raw.lookup_tolerance_m {
                Some(t) if !(0.0..=1000.0).contains(&t) => {
                    return Err(format!("lookup_tolerance_m {t} must be 0 to 1000"))
                }
                Some(t) => t,
                None => d.lookup_tolerance_m,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, flags: Flags) -> Result<ServerConfig, String> {
        let dir = std::env::temp_dir().join(format!("plantiles-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join(format!("{}.toml", text.len()));
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        ServerConfig::load(Some(&path), flags).map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = load("bind = \"127.0.0.1:1\"\ncache_size = 3\n", Flags::default()).unwrap_err();
        assert!(e.contains("cache_size"), "{e}");
    }

    #[test]
    fn flags_override_the_file() {
        let flags = Flags {
            cache_mb: Some(7),
            ..Flags::default()
        };
        let c = load(
            "cache_mb = 100\ncors = \"\"\npublic_url = \"https://x.vn/\"\n",
            flags,
        )
        .unwrap();
        assert_eq!(c.cache_bytes, 7 << 20);
        assert_eq!(c.cors, None);
        assert_eq!(c.public_url.as_deref(), Some("https://x.vn"));
        assert!(load("public_url = \"x.vn\"\n", Flags::default()).is_err());
    }
}
