//! The tile cache: an LRU bounded by bytes, and single flight for misses.
//!
//! A cached tile holds both its plain and its gzip bytes, so clients with
//! and without gzip share one render. Concurrent requests for one missing
//! tile wait for the same render; a failed render is not cached, and the
//! next request tries again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use lru::LruCache;
use tokio::sync::OnceCell;

/// `bytes` as gzip at zlib's fastest level (zlib-rs). On a z14 tile of
/// parcels it takes more CPU than rendering the tile did; libdeflate's
/// fastest level is no faster on tiles and stores some of them whole.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 64),
        flate2::Compression::fast(),
    );
    gz.write_all(bytes)
        .map_err(|e| format!("gzip failed: {e}"))?;
    gz.finish().map_err(|e| format!("gzip failed: {e}"))
}

/// A strong ETag of a tile's bytes: 64 bits of a word-at-a-time hash,
/// quoted. It names one version of one URL's bytes, so it needs speed
/// more than resistance to crafted collisions: 14 µs for a 270 KB tile,
/// against 300 µs for FNV-1a a byte at a time (`cargo bench --bench
/// engine -- etag`).
pub fn etag(bytes: &[u8]) -> String {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(bytes);
    h.write_usize(bytes.len());
    format!("\"{:016x}\"", h.finish())
}

/// Everything that changes a tile's bytes: the tileset ids (one, or the
/// composed list) and the tile address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub tilesets: Arc<str>,
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// A rendered tile, ready to send.
#[derive(Debug)]
pub struct CachedTile {
    /// MVT bytes; empty for a tile with no features.
    pub plain: Bytes,
    pub gzip: Bytes,
    /// Strong validator: a hash of the plain bytes, quoted.
    pub etag: String,
}

impl CachedTile {
    /// A tile ready to send from its MVT bytes: compressed once, for
    /// every client that accepts gzip, and given its ETag.
    pub fn from_plain(plain: Vec<u8>) -> Result<CachedTile, String> {
        let gzip = gzip(&plain)?;
        Ok(CachedTile {
            etag: etag(&plain),
            plain: Bytes::from(plain),
            gzip: Bytes::from(gzip),
        })
    }

    fn cost(&self) -> usize {
        self.plain.len() + self.gzip.len() + self.etag.len() + 64
    }
}

type Flight = Arc<OnceCell<Result<Arc<CachedTile>, String>>>;

/// Counters the metrics endpoint reports.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evictions: AtomicU64,
    pub bytes: AtomicU64,
}

struct Lru {
    map: LruCache<CacheKey, Arc<CachedTile>>,
    bytes: usize,
}

pub struct TileCache {
    capacity: usize,
    lru: Mutex<Lru>,
    flights: Mutex<HashMap<CacheKey, Flight>>,
    pub stats: CacheStats,
}

impl TileCache {
    /// A cache of at most `capacity` bytes; 0 turns caching off (single
    /// flight still applies).
    pub fn new(capacity: usize) -> TileCache {
        TileCache {
            capacity,
            lru: Mutex::new(Lru {
                map: LruCache::unbounded(),
                bytes: 0,
            }),
            flights: Mutex::new(HashMap::new()),
            stats: CacheStats::default(),
        }
    }

    fn lookup(&self, key: &CacheKey) -> Option<Arc<CachedTile>> {
        let mut lru = self.lru.lock().unwrap_or_else(|e| e.into_inner());
        lru.map.get(key).cloned()
    }

    fn insert(&self, key: CacheKey, tile: Arc<CachedTile>) {
        let cost = tile.cost();
        if self.capacity == 0 || cost > self.capacity {
            return;
        }
        let mut lru = self.lru.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = lru.map.put(key, tile) {
            lru.bytes -= old.cost();
        }
        lru.bytes += cost;
        while lru.bytes > self.capacity {
            match lru.map.pop_lru() {
                Some((_, old)) => {
                    lru.bytes -= old.cost();
                    self.stats.evictions.fetch_add(1, Ordering::Relaxed);
                }
                None => break,
            }
        }
        self.stats.bytes.store(lru.bytes as u64, Ordering::Relaxed);
    }

    /// The cached tile, or the result of `render`, run once however many
    /// callers ask for the same missing key at once. The bool is true on
    /// a cache hit.
    pub async fn get_or_render<F, Fut>(
        &self,
        key: CacheKey,
        render: F,
    ) -> (Result<Arc<CachedTile>, String>, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<CachedTile, String>>,
    {
        if let Some(tile) = self.lookup(&key) {
            self.stats.hits.fetch_add(1, Ordering::Relaxed);
            return (Ok(tile), true);
        }
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            flights.entry(key.clone()).or_default().clone()
        };
        let result = flight
            .get_or_init(|| async {
                let result = render().await.map(Arc::new);
                if let Ok(tile) = &result {
                    self.insert(key.clone(), tile.clone());
                }
                result
            })
            .await
            .clone();
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(&key);
        }
        (result, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(x: u32) -> CacheKey {
        CacheKey {
            tilesets: "t".into(),
            z: 1,
            x,
            y: 0,
        }
    }

    fn tile(n: usize) -> CachedTile {
        CachedTile {
            plain: Bytes::from(vec![1; n]),
            gzip: Bytes::new(),
            etag: String::new(),
        }
    }

    #[tokio::test]
    async fn evicts_by_bytes_and_counts() {
        let cache = TileCache::new(1000);
        for x in 0..5 {
            let (r, hit) = cache
                .get_or_render(key(x), || async { Ok(tile(300)) })
                .await;
            assert!(r.is_ok() && !hit);
        }
        assert!(cache.stats.bytes.load(Ordering::Relaxed) <= 1000);
        assert_eq!(cache.stats.evictions.load(Ordering::Relaxed), 3);
        let (_, hit) = cache.get_or_render(key(4), || async { Ok(tile(1)) }).await;
        assert!(hit);
        let (_, hit) = cache.get_or_render(key(0), || async { Ok(tile(1)) }).await;
        assert!(!hit, "the oldest was evicted");
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_zero_turns_caching_off() {
        let cache = TileCache::new(1 << 20);
        let (r, _) = cache
            .get_or_render(key(1), || async { Err("boom".to_string()) })
            .await;
        assert!(r.is_err());
        let (r, hit) = cache.get_or_render(key(1), || async { Ok(tile(10)) }).await;
        assert!(r.is_ok() && !hit);
        let off = TileCache::new(0);
        let (first, _) = off.get_or_render(key(1), || async { Ok(tile(10)) }).await;
        assert!(first.is_ok());
        let (_, hit) = off.get_or_render(key(1), || async { Ok(tile(10)) }).await;
        assert!(!hit);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_share_one_render() {
        let cache = Arc::new(TileCache::new(0));
        let renders = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (cache, renders) = (cache.clone(), renders.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_render(key(7), || async {
                            renders.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            Ok(tile(5))
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.expect("task").0.is_ok());
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
    }
}

#[cfg(test)]
mod compression_tests {
    use std::io::Read;

    #[test]
    fn gzip_round_trips_through_another_decoder() {
        let mut s = 9u64;
        let mut bytes = Vec::new();
        for i in 0..300_000u32 {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            // Tile-like: runs of repeated tags among varying varints.
            bytes.push(if i % 7 < 3 {
                (i % 5) as u8
            } else {
                (s >> 56) as u8
            });
        }
        for input in [&[][..], &b"x"[..], &bytes[..]] {
            let packed = super::gzip(input).expect("gzip");
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&packed[..])
                .read_to_end(&mut back)
                .expect("flate2 reads it");
            assert_eq!(back, input);
            if input.len() > 1000 {
                assert!(
                    packed.len() < input.len(),
                    "{} of {}",
                    packed.len(),
                    input.len()
                );
            }
        }
    }

    #[test]
    fn etags_differ_by_content_and_length() {
        let a = super::etag(b"abc");
        assert_eq!(a, super::etag(b"abc"));
        assert_ne!(a, super::etag(b"abd"));
        assert_ne!(super::etag(b""), super::etag(b"\0"));
        assert!(
            a.starts_with('"') && a.ends_with('"') && a.len() == 18,
            "{a}"
        );
    }
}
