//! The HTTP service, started on port 0 over the bundled sample and
//! spoken to with a minimal HTTP/1.1 client written here.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use common::http::*;
use common::*;
use plantiles::server::Catalog;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// A tile over the sample's centre at zoom z, as "z/x/y".
fn centre_tile(z: u8) -> String {
    let ts = plantiles::tileset::Tileset::open(&sample_dir()).expect("sample");
    let b = ts.bbox().expect("bbox");
    let (lon, lat) = ((b.min_x + b.max_x) / 2.0, (b.min_y + b.max_y) / 2.0);
    let n = (1u64 << z) as f64;
    let x = ((lon + 180.0) / 360.0 * n) as u64;
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u64;
    format!("{z}/{x}/{y}")
}

async fn metric(addr: SocketAddr, name: &str) -> f64 {
    let text = String::from_utf8(send(addr, "GET", "/metrics", &[]).await.body).expect("utf8");
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_gzip_identity_etag_and_headers() {
    let s = start(config(), true).await;
    let path = format!("/tiles/sample/{}", centre_tile(15));
    let plain = send(s.addr, "GET", &path, &[]).await;
    assert_eq!(plain.status, 200);
    assert_eq!(
        plain.header("content-type"),
        Some("application/vnd.mapbox-vector-tile")
    );
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    assert_eq!(plain.header("access-control-allow-origin"), Some("*"));
    assert_eq!(plain.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(plain.header("x-cache"), Some("MISS"));
    let tile = decode_tile(&plain.body);
    assert!(tile.layers.iter().any(|l| l.name == "parcels"));

    let gz = send(
        s.addr,
        "GET",
        &format!("{path}.pbf"),
        &[("Accept-Encoding", "br, gzip")],
    )
    .await;
    assert_eq!(gz.status, 200);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("x-cache"), Some("HIT"));
    assert_eq!(gunzip(&gz.body), plain.body, "same tile either way");
    let refused = send(s.addr, "GET", &path, &[("Accept-Encoding", "gzip;q=0")]).await;
    assert_eq!(refused.header("content-encoding"), None);

    let etag = plain.header("etag").expect("etag").to_string();
    let again = send(
        s.addr,
        "GET",
        &format!("{path}.mvt"),
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let other = send(s.addr, "GET", &path, &[("If-None-Match", "\"nope\"")]).await;
    assert_eq!(other.status, 200);
    let head = send(s.addr, "HEAD", &path, &[]).await;
    assert_eq!(head.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_with_the_right_status() {
    let s = start(config(), true).await;
    let cases = [
        ("GET", "/tiles/nope/14/1/1", 404),
        ("GET", "/tiles/nope", 404),
        ("GET", "/tiles/sample/14/99999/1", 400),
        ("GET", "/tiles/sample/31/0/0", 400),
        ("GET", "/tiles/sample/25/0/0", 404),
        ("GET", "/tiles/sample/a/b/c", 400),
        ("GET", "/tiles/sample/14/-1/2", 400),
        ("GET", "/tiles/sample/14/1", 400),
        ("GET", "/tiles/sample/14/1/2/3", 400),
        ("GET", "/tiles/sample,sample/14/1/2", 400),
        ("GET", "/nothing/here", 404),
        ("GET", "/styles/../Cargo", 404),
        ("GET", "/styles/nope", 404),
        ("POST", "/tiles/sample/14/1/1", 405),
        ("DELETE", "/catalog", 405),
    ];
    for (method, path, want) in cases {
        let r = send(s.addr, method, path, &[]).await;
        assert_eq!(r.status, want, "{method} {path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        let body = r.json();
        assert!(
            body["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {body}"
        );
    }
    let r = send(s.addr, "POST", "/catalog", &[]).await;
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    // An empty tile inside the zoom range is 204.
    let empty = send(s.addr, "GET", "/tiles/sample/14/0/0", &[]).await;
    assert_eq!(empty.status, 204);
    assert!(empty.body.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tilejson_catalog_styles_index_and_health() {
    let s = start(config(), true).await;
    let tj = send(s.addr, "GET", "/tiles/sample", &[]).await.json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["tiles"][0],
        format!("http://{}/tiles/sample/{{z}}/{{x}}/{{y}}", s.addr)
    );
    assert_eq!(tj["minzoom"], 0);
    assert_eq!(tj["maxzoom"], 24);
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert_eq!(
        layers,
        [
            "zones",
            "parcels",
            "rivers",
            "roads",
            "communes",
            "facilities"
        ]
    );
    assert_eq!(tj["vector_layers"][1]["fields"]["ma_dat"], "String");
    assert_eq!(tj["vector_layers"][1]["fields"]["dien_tich_ha"], "Number");
    assert_eq!(tj["vector_layers"][1]["fields"]["bi_anh_huong"], "Boolean");
    assert_eq!(tj["bounds"].as_array().map(Vec::len), Some(4));
    assert_eq!(tj["center"].as_array().map(Vec::len), Some(3));

    let forwarded = send(
        s.addr,
        "GET",
        "/tiles/sample",
        &[
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "maps.example.vn"),
        ],
    )
    .await
    .json();
    assert_eq!(
        forwarded["tiles"][0],
        "https://maps.example.vn/tiles/sample/{z}/{x}/{y}"
    );
    let hostile = send(
        s.addr,
        "GET",
        "/tiles/sample",
        &[("X-Forwarded-Host", "evil\"/<x>")],
    )
    .await
    .json();
    assert!(!hostile["tiles"][0].as_str().unwrap_or("").contains('<'));

    let catalog = send(s.addr, "GET", "/catalog", &[]).await.json();
    let sample = &catalog["tilesets"][0];
    assert_eq!(sample["id"], "sample");
    assert_eq!(
        sample["tilejson"],
        format!("http://{}/tiles/sample", s.addr)
    );
    assert_eq!(sample["layers"][1]["geometry_type"], "Unknown");
    assert_eq!(sample["layers"][1]["features"], 8000);
    assert_eq!(sample["layers"][4]["geometry_type"], "MultiPolygon");
    assert!(sample["layers"][0]["fields"]["ma_dat"].is_string());

    let styles = send(s.addr, "GET", "/styles", &[]).await.json();
    assert_eq!(styles["styles"][0]["id"], "planning");
    let style = send(s.addr, "GET", "/styles/planning", &[]).await.json();
    assert_eq!(
        style["sources"]["planning"]["url"],
        format!("http://{}/tiles/sample", s.addr)
    );
    assert_eq!(style["version"], 8);

    let index = send(s.addr, "GET", "/", &[]).await;
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8(index.body).expect("utf8");
    assert!(html.contains(&format!("http://{}/tiles/sample", s.addr)) && html.contains("planning"));

    let health = send(s.addr, "GET", "/health", &[]).await;
    assert_eq!(health.status, 200);
    let loading = start(config(), false).await;
    assert_eq!(send(loading.addr, "GET", "/health", &[]).await.status, 503);
    loading.state.set_catalog(Catalog::default());
    assert_eq!(send(loading.addr, "GET", "/health", &[]).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_tiles_hold_both_tilesets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::copy(sample_dir().join("roads.fgb"), other.join("roads.fgb")).expect("copy");
    std::fs::copy(sample_dir().join("zones.fgb"), other.join("landuse.fgb")).expect("copy");
    let mut c = config();
    c.tilesets.push(other);
    let s = start(c, true).await;
    let tile = centre_tile(15);
    let r = send(s.addr, "GET", &format!("/tiles/sample,other/{tile}"), &[]).await;
    assert_eq!(r.status, 200);
    let names: Vec<String> = decode_tile(&r.body)
        .layers
        .iter()
        .map(|l| l.name.clone())
        .collect();
    assert!(names.contains(&"parcels".to_string()), "{names:?}");
    assert!(names.contains(&"landuse".to_string()), "{names:?}");
    assert!(
        names.contains(&"other.roads".to_string()),
        "clashing names are qualified: {names:?}"
    );
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "layer names unique in a tile");
    let tj = send(s.addr, "GET", "/tiles/sample,other", &[]).await.json();
    assert!(tj["tiles"][0]
        .as_str()
        .is_some_and(|t| t.contains("/tiles/sample,other/")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_a_cold_tile_render_once() {
    let s = start(config(), true).await;
    let path = format!("/tiles/sample/{}", centre_tile(14));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (addr, path) = (s.addr, path.clone());
            tokio::spawn(async move { send(addr, "GET", &path, &[]).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let r = t.await.expect("task");
        assert_eq!(r.status, 200);
        bodies.push(r.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(metric(s.addr, "plantiles_tiles_rendered_total").await, 1.0);
    assert_eq!(
        metric(s.addr, "plantiles_cache_hits_total").await
            + metric(s.addr, "plantiles_cache_misses_total").await,
        32.0
    );
    let text = String::from_utf8(send(s.addr, "GET", "/metrics", &[]).await.body).expect("utf8");
    assert!(
        text.contains("plantiles_render_seconds_count{zoom=\"14\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("plantiles_requests_total{route=\"tile\",status=\"200\"} 32"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_is_bounded_by_bytes() {
    let mut c = config();
    c.cache_bytes = 200_000;
    let s = start(c, true).await;
    for z in 15..=17 {
        for d in 0..3 {
            let tile = centre_tile(z);
            let parts: Vec<u64> = tile.split('/').map(|p| p.parse().expect("n")).collect();
            let path = format!("/tiles/sample/{}/{}/{}", parts[0], parts[1] + d, parts[2]);
            send(s.addr, "GET", &path, &[]).await;
        }
    }
    assert!(metric(s.addr, "plantiles_cache_bytes").await <= 200_000.0);
    assert!(metric(s.addr, "plantiles_cache_evictions_total").await > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight() {
    let mut c = config();
    c.cache_bytes = 0;
    c.render_threads = 1;
    let mut s = start(c, true).await;
    // Distinct cold tiles over the sample queue behind one render thread.
    let ts = plantiles::tileset::Tileset::open(&sample_dir()).expect("sample");
    let b = ts.bbox().expect("bbox");
    let n = 65536.0;
    let tx = |lon: f64| ((lon + 180.0) / 360.0 * n) as u64;
    let ty = |lat: f64| {
        let r = f64::to_radians(lat);
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u64
    };
    let tiles: Vec<(u64, u64)> = (ty(b.max_y)..=ty(b.min_y))
        .flat_map(|y| (tx(b.min_x)..=tx(b.max_x)).map(move |x| (x, y)))
        .collect();
    assert!(tiles.len() >= 12, "{} tiles", tiles.len());
    let mut streams = Vec::new();
    for (x, y) in &tiles {
        let mut stream = TcpStream::connect(s.addr).await.expect("connect");
        let req = format!(
            "GET /tiles/sample/16/{x}/{y} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.expect("write");
        streams.push(stream);
    }
    // Wait until every request has reached the handler.
    let total = tiles.len() as f64;
    for _ in 0..500 {
        if s.state
            .cache
            .stats
            .misses
            .load(std::sync::atomic::Ordering::SeqCst) as f64
            >= total
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let in_flight = total - s.state.metrics.tiles_rendered() as f64;
    if let Some(stop) = s.stop.take() {
        let _ = stop.send(());
    }
    for mut stream in streams {
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let r = parse(&raw, false);
        assert!(r.status == 200 || r.status == 204, "{}", r.status);
    }
    tokio::time::timeout(Duration::from_secs(10), s.task)
        .await
        .expect("server stops")
        .expect("task");
    assert!(in_flight > 0.0, "requests were still in flight at shutdown");
    assert!(
        TcpStream::connect(s.addr).await.is_err(),
        "no longer accepting"
    );
}

/// h2c with prior knowledge, through curl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs curl; .ci/run runs it"]
async fn http2_without_tls() {
    let s = start(config(), true).await;
    let url = format!("http://{}/tiles/sample/{}", s.addr, centre_tile(15));
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
            "--http2-prior-knowledge",
        ])
        .arg(&url)
        .output()
        .await
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 200");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let s = start(config(), true).await;
    let mut stream = TcpStream::connect(s.addr).await.expect("connect");
    let req = "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off() {
    let mut c = config();
    c.header_timeout = Duration::from_millis(300);
    let s = start(c, true).await;
    let mut stream = TcpStream::connect(s.addr).await.expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw)).await;
    assert!(
        read.is_ok(),
        "the server must close a connection whose headers never end"
    );
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("200 OK"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let mut c = config();
    c.max_connections = 2;
    let s = start(c, true).await;
    // Two idle keep-alive connections hold both slots.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(s.addr).await.expect("connect");
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).await.expect("read");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let addr = s.addr;
    let third = tokio::spawn(async move { send(addr, "GET", "/health", &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served beyond the cap"
    );
    drop(held.pop());
    let r = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .expect("served")
        .expect("task");
    assert_eq!(r.status, 200);
}
