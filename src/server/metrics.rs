//! Counters for `/metrics`, in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::cache::CacheStats;
use crate::tile::MAX_ZOOM;

const ZOOMS: usize = MAX_ZOOM as usize + 1;

/// The routes requests are counted by; anything else is "unknown".
pub const ROUTES: &[&str] = &[
    "index",
    "tilejson",
    "tile",
    "catalog",
    "style",
    "health",
    "metrics",
    "features",
    "conformance",
    "collections",
    "items",
    "unknown",
];
/// Statuses counted on their own; others fall in the last slot.
const STATUSES: &[u16] = &[200, 204, 304, 400, 404, 405, 500, 503];

/// Counters, lock-free so that counting costs a request nothing
/// measurable.
#[derive(Default)]
pub struct Metrics {
    requests: [[AtomicU64; STATUSES.len() + 1]; ROUTES.len()],
    render_count: [AtomicU64; ZOOMS],
    render_micros: [AtomicU64; ZOOMS],
    pub skipped_features: AtomicU64,
}

impl Metrics {
    pub fn request(&self, route: &'static str, status: u16) {
        let r = ROUTES
            .iter()
            .position(|x| *x == route)
            .unwrap_or(ROUTES.len() - 1);
        let s = STATUSES
            .iter()
            .position(|x| *x == status)
            .unwrap_or(STATUSES.len());
        self.requests[r][s].fetch_add(1, Ordering::Relaxed);
    }

    pub fn rendered(&self, zoom: u8, took: Duration, skipped: usize) {
        let z = (zoom as usize).min(ZOOMS - 1);
        self.render_count[z].fetch_add(1, Ordering::Relaxed);
        self.render_micros[z].fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        self.skipped_features
            .fetch_add(skipped as u64, Ordering::Relaxed);
    }

    /// Tiles rendered, all zooms.
    pub fn tiles_rendered(&self) -> u64 {
        self.render_count
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// The exposition text.
    pub fn text(&self, cache: &CacheStats) -> String {
        let mut out = String::new();
        let mut one = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        one(
            "plantiles_cache_hits_total",
            "counter",
            "Tile requests served from the cache.",
            load(&cache.hits),
        );
        one(
            "plantiles_cache_misses_total",
            "counter",
            "Tile requests not in the cache.",
            load(&cache.misses),
        );
        one(
            "plantiles_cache_evictions_total",
            "counter",
            "Tiles evicted from the cache.",
            load(&cache.evictions),
        );
        one(
            "plantiles_cache_bytes",
            "gauge",
            "Bytes held by the tile cache.",
            load(&cache.bytes),
        );
        one(
            "plantiles_tiles_rendered_total",
            "counter",
            "Tiles rendered.",
            self.tiles_rendered(),
        );
        one(
            "plantiles_features_skipped_total",
            "counter",
            "Features left out of tiles because they failed to decode.",
            load(&self.skipped_features),
        );
        let _ = writeln!(
            out,
            "# HELP plantiles_render_seconds Time spent rendering tiles, by zoom.\n\
             # TYPE plantiles_render_seconds summary"
        );
        for z in 0..ZOOMS {
            let n = load(&self.render_count[z]);
            if n > 0 {
                let secs = load(&self.render_micros[z]) as f64 / 1e6;
                let _ = writeln!(out, "plantiles_render_seconds_sum{{zoom=\"{z}\"}} {secs}");
                let _ = writeln!(out, "plantiles_render_seconds_count{{zoom=\"{z}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP plantiles_requests_total Requests by route and status.\n\
             # TYPE plantiles_requests_total counter"
        );
        for (route, counts) in ROUTES.iter().zip(&self.requests) {
            for (i, n) in counts.iter().enumerate() {
                let n = load(n);
                if n == 0 {
                    continue;
                }
                let status = STATUSES.get(i).map_or("other".to_string(), u16::to_string);
                let _ = writeln!(
                    out,
                    "plantiles_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out
    }
}
