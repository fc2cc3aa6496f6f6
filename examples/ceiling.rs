//! The ceiling for cached tiles: a bare hyper server that answers each
//! path with the tile bytes plantiles sent for it and the headers
//! plantiles sends for a cached gzip tile, doing no other work.
//! `benches/load.py` runs it beside plantiles to measure how close the
//! cache path comes.
//!
//!     cargo run --release --example ceiling -- 127.0.0.1:3999 DIR
//!
//! DIR holds `index.tsv` (path, tab, file name per line) and the files.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:3999".into());
    let dir = std::path::PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: ceiling ADDR DIR"))?,
    );
    let mut tiles = HashMap::new();
    for line in std::fs::read_to_string(dir.join("index.tsv"))?.lines() {
        if let Some((path, file)) = line.split_once('\t') {
            tiles.insert(
                path.to_string(),
                Bytes::from(std::fs::read(dir.join(file))?),
            );
        }
    }
    let tiles = Arc::new(tiles);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&bind).await?;
        println!("ceiling on http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let tiles = tiles.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let body = tiles.get(req.uri().path()).cloned().unwrap_or_default();
                        let mut r = Response::new(Full::new(body));
                        let h = r.headers_mut();
                        h.insert(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
                        );
                        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
                        h.insert(
                            header::ETAG,
                            HeaderValue::from_static("\"0123456789abcdef\""),
                        );
                        h.insert(
                            header::CACHE_CONTROL,
                            HeaderValue::from_static("public, max-age=300"),
                        );
                        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                        h.insert("x-cache", HeaderValue::from_static("HIT"));
                        h.insert(
                            header::ACCESS_CONTROL_ALLOW_ORIGIN,
                            HeaderValue::from_static("*"),
                        );
                        async move { Ok::<_, Infallible>(r) }
                    });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}
