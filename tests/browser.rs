//! The README's MapLibre GL JS page, in headless Chromium, against a
//! server started here: the style loads, tiles decode, and planning
//! features render.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use plantiles::server::{serve, Catalog, ServerConfig, State};

/// Where `maplibre-gl` and `playwright-core` are installed.
fn node_modules() -> PathBuf {
    std::env::var_os("PLANTILES_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/node/node_modules"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium, node, maplibre-gl and playwright-core; .ci/run installs them"]
async fn maplibre_renders_the_planning_style() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = ServerConfig {
        tilesets: vec![root.join("tilesets")],
        styles: root.join("styles"),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = Arc::new(State::new(config.clone()));
    state.set_catalog(Catalog::open(&config.tilesets));
    tokio::spawn(serve(listener, state, std::future::pending()));

    let dir = tempfile::tempdir().expect("tempdir");
    let modules = node_modules();
    for f in ["maplibre-gl.js", "maplibre-gl.css"] {
        std::fs::copy(modules.join("maplibre-gl/dist").join(f), dir.path().join(f))
            .expect("maplibre-gl");
    }
    let page = std::fs::read_to_string(root.join("tests/browser/map.html")).expect("page");
    let page = page.replace("STYLE_URL", &format!("http://{addr}/styles/planning"));
    std::fs::write(dir.path().join("map.html"), page).expect("write");
    let shot = dir.path().join("map.png");
    let out = tokio::process::Command::new("node")
        .arg(root.join("tests/browser/probe.js"))
        .arg(format!("file://{}", dir.path().join("map.html").display()))
        .arg(&shot)
        .env("NODE_PATH", &modules)
        .output()
        .await
        .expect("node");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let probe: serde_json::Value = serde_json::from_str(text.trim()).expect("probe JSON");
    assert_eq!(probe["errors"], serde_json::json!([]), "{probe}");
    for layer in ["zones", "parcels", "roads", "rivers", "communes"] {
        assert!(
            probe[layer].as_u64().is_some_and(|n| n > 0),
            "{layer} did not render: {probe}"
        );
    }
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "screenshot"
    );
}
