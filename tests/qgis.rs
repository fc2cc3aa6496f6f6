//! QGIS (through PyQGIS, as a GIS officer would add the server) reads the
//! vector tiles with the planning style and the OGC API - Features
//! collections. The script is `tests/qgis/check.py`.

mod common;

use std::path::PathBuf;

use common::http::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs QGIS's Python bindings (python3-qgis); .ci/run installs them"]
async fn qgis_reads_tiles_style_and_features() {
    let s = start(config(), true).await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out_dir = tempfile::tempdir().expect("tempdir");
    let python =
        std::env::var("PLANTILES_QGIS_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let out = tokio::process::Command::new(python)
        .arg(root.join("tests/qgis/check.py"))
        .arg(format!("http://{}", s.addr))
        .arg(out_dir.path())
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON line");
    assert!(seen["styles"].as_u64().is_some_and(|n| n > 20), "{seen}");
    assert!(
        seen["luc_pixels"].as_u64().is_some_and(|n| n > 500),
        "rice land not painted: {seen}"
    );
    assert!(
        seen["ont_pixels"].as_u64().is_some_and(|n| n > 100),
        "housing not painted: {seen}"
    );
    assert_eq!(seen["oapif_features"], 8000, "{seen}");
    assert!(
        seen["oapif_fields"].to_string().contains("ma_dat"),
        "{seen}"
    );
}
