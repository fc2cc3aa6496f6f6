//! The HTTP service: hyper 1.x over tokio, HTTP/1.1 and h2c on one port.
//!
//! The accept loop caps concurrent connections with a semaphore, gives
//! every connection a header-read timeout, skips failed accepts (sleeping
//! briefly, as when file descriptors run out), and on shutdown stops
//! accepting and lets open connections finish. Tiles render on tokio's
//! blocking pool behind a semaphore of `render_threads`, never on the
//! async workers.
//!
//! The loaded tilesets live in one [`Catalog`] behind a lock that is held
//! only to clone an `Arc`: a request works on the catalog it started
//! with, and a reload can swap in a new one while requests are in flight.

mod config;
mod features;
mod metrics;
mod routes;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use config::{ConfigError, FileConfig, Flags, ServerConfig};
pub use metrics::Metrics;
pub use routes::tilejson;

use crate::cache::TileCache;
use crate::tileset::Tileset;

/// The loaded tilesets, by id.
#[derive(Default)]
pub struct Catalog {
    pub tilesets: BTreeMap<String, Arc<Tileset>>,
}

impl Catalog {
    /// Opens every tileset under `paths` (see [`discover`]). A tileset
    /// that fails is logged and left out; the others are served.
    pub fn open(paths: &[PathBuf]) -> Catalog {
        let mut catalog = Catalog::default();
        for path in discover(paths) {
            match Tileset::open(&path) {
                Ok(ts) if catalog.tilesets.contains_key(&ts.id) => {
                    tracing::error!(id = %ts.id, path = %path.display(), "duplicate tileset id; left out");
                }
                Ok(ts) => {
                    catalog.tilesets.insert(ts.id.clone(), Arc::new(ts));
                }
                Err(e) => tracing::error!(error = %e, "tileset left out"),
            }
        }
        catalog
    }
}

/// Tileset paths: a folder holding `.fgb` files is one tileset, a `.fgb`
/// file is a tileset of one layer, and any other folder holds tilesets
/// (its sub-folders with `.fgb` files, and its `.fgb` files each alone).
pub fn discover(paths: &[PathBuf]) -> Vec<PathBuf> {
    let is_fgb = |p: &Path| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("fgb"));
    let children = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|it| it.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() || children(p).iter().any(|c| is_fgb(c)) {
            out.push(p.clone());
            continue;
        }
        for c in children(p) {
            if c.is_dir() && children(&c).iter().any(|g| is_fgb(g)) {
                out.push(c);
            }
        }
    }
    out
}

/// Header values fixed by the configuration, parsed once.
pub struct FixedHeaders {
    pub cors: Option<hyper::header::HeaderValue>,
    pub cache_control: Option<hyper::header::HeaderValue>,
}

/// Everything a request handler needs.
pub struct State {
    pub headers: FixedHeaders,
    catalog: RwLock<Arc<Catalog>>,
    ready: AtomicBool,
    pub cache: TileCache,
    pub metrics: Metrics,
    /// Slots for CPU-heavy work (rendering, lookups) on blocking threads.
    renders: Semaphore,
    pub config: ServerConfig,
}

impl State {
    /// A state with no tilesets yet: `/health` answers 503 until
    /// [`State::set_catalog`] is called.
    pub fn new(config: ServerConfig) -> State {
        let header = |v: &str| hyper::header::HeaderValue::from_str(v).ok();
        State {
            headers: FixedHeaders {
                cors: config.cors.as_deref().and_then(header),
                cache_control: header(&config.cache_control),
            },
            catalog: RwLock::new(Arc::new(Catalog::default())),
            ready: AtomicBool::new(false),
            cache: TileCache::new(config.cache_bytes),
            metrics: Metrics::default(),
            renders: Semaphore::new(config.render_threads.max(1)),
            config,
        }
    }

    /// The current set of tilesets.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Installs a set of tilesets and marks the server ready; requests in
    /// flight keep the set they started with.
    pub fn set_catalog(&self, catalog: Catalog) {
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
        self.ready.store(true, Ordering::Release);
    }

    /// Runs CPU-heavy `work` on a blocking thread, at most
    /// `render_threads` at a time.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let _slot = self.renders.acquire().await.map_err(|e| e.to_string())?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| format!("worker failed: {e}"))
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

/// Serves until `shutdown` completes, then lets open connections finish.
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let connections = Arc::new(Semaphore::new(state.config.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout);
    builder.http2().timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let service = hyper::service::service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(routes::handle(&state, req).await) }
        });
        let conn = graceful.watch(
            builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned(),
        );
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    tracing::info!("stopped accepting; finishing open connections");
    graceful.shutdown().await;
}
