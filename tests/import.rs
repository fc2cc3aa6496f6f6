//! `plantiles import` on small fixtures made with GDAL's ogr2ogr from
//! `zones_wgs84.geojson`, whose VN-2000 coordinates were computed with
//! PROJ's cs2cs and the explicit VN-2000 transformation: every format and
//! CRS family must come back to the WGS84 source within a centimetre.

mod common;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use geo_types::Geometry;
use geozero::ToGeo;
use plantiles::import::{import, ImportError, Options, Summary};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn run(
    inputs: &[&str],
    extra: impl FnOnce(&mut Options),
) -> (Result<Summary, ImportError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = Options {
        inputs: inputs.iter().map(|n| fixture(n)).collect(),
        out: dir.path().join("out.fgb"),
        ..Options::default()
    };
    extra(&mut opts);
    (import(&opts), dir)
}

type Features = Vec<(Geometry<f64>, HashMap<String, String>)>;

fn read(path: &Path) -> Features {
    read_fgb(path)
}

/// The source features by `so_thua`.
fn source() -> HashMap<String, Geometry<f64>> {
    let text = fs::read_to_string(fixture("zones_wgs84.geojson")).expect("source");
    let fc: serde_json::Value = serde_json::from_str(&text).expect("json");
    fc["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let g = geozero::geojson::GeoJson(&f["geometry"].to_string())
                .to_geo()
                .expect("geo");
            (f["properties"]["so_thua"].to_string(), g)
        })
        .collect()
}

fn coords(g: &Geometry<f64>) -> Vec<(f64, f64)> {
    use geo::CoordsIter;
    g.coords_iter().map(|c| (c.x, c.y)).collect()
}

/// Checks the valid features (so_thua 101-103) against the source,
/// vertex by vertex, within `tolerance` metres.
fn assert_matches_source(out: &Features, tolerance: f64) {
    let src = source();
    let mut checked = 0;
    for (g, props) in out {
        let id = props["so_thua"].clone();
        if id == "104" {
            continue; // the bowtie, rebuilt by the repair
        }
        let want = coords(&src[&id]);
        let got = coords(g);
        assert_eq!(got.len(), want.len(), "feature {id}");
        // Formats differ in where a ring starts and which way it turns:
        // every vertex must have its source vertex within the tolerance.
        let metres = |a: &(f64, f64), b: &(f64, f64)| {
            let kx = 111_320.0 * b.1.to_radians().cos();
            (((a.0 - b.0) * kx).powi(2) + ((a.1 - b.1) * 110_574.0).powi(2)).sqrt()
        };
        for a in &got {
            let d = want
                .iter()
                .map(|b| metres(a, b))
                .fold(f64::INFINITY, f64::min);
            assert!(
                d < tolerance,
                "feature {id}: {a:?} is {d} m from the nearest source vertex"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn shapefile_in_a_provincial_zone_with_an_esri_prj() {
    let (r, dir) = run(&["zones_tm.shp"], |_| {});
    let s = r.expect("import");
    assert_eq!((s.read, s.written), (4, 4));
    assert_eq!(s.repaired, vec![4], "the bowtie is repaired");
    assert!(s.skipped.is_empty() && s.warnings.is_empty(), "{s:?}");
    let out = read(&dir.path().join("out.fgb"));
    assert_matches_source(&out, 0.01);
    let ont = out.iter().find(|(_, p)| p["ma_dat"] == "ONT").expect("ONT");
    assert_eq!(ont.1["ten_dat"], "Đất ở tại nông thôn");
    assert_eq!(ont.1["dien_tich"], "1.25");
    assert!(!dir.path().join("out.fgb.partial").exists());
}

#[test]
fn windows_1258_attributes_are_decoded() {
    let (r, dir) = run(&["zones_1258.shp"], |_| {});
    r.expect("import");
    let out = read(&dir.path().join("out.fgb"));
    let luc = out.iter().find(|(_, p)| p["ma_dat"] == "LUC").expect("LUC");
    // Windows-1258 stores some tones as combining marks: compare without them.
    let base = |s: &str| {
        s.chars()
            .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
            .count()
    };
    let text = &luc.1["ten_dat"];
    assert!(text.starts_with("Đ"), "{text}");
    assert!(
        text.contains("lúa") || text.contains("lu\u{301}a"),
        "{text}"
    );
    assert_eq!(base(text), base("Đất chuyên trồng lúa nước"), "{text}");
}

#[test]
fn geopackage_in_utm_48n() {
    let (r, dir) = run(&["zones_utm48.gpkg"], |_| {});
    let s = r.expect("import");
    assert_eq!(s.written, 4);
    assert_matches_source(&read(&dir.path().join("out.fgb")), 0.01);
}

#[test]
fn geojson_and_flatgeobuf_in_wgs84() {
    for name in ["zones_wgs84.geojson", "zones_wgs84.fgb"] {
        let (r, dir) = run(&[name], |_| {});
        assert_eq!(r.expect(name).written, 4, "{name}");
        assert_matches_source(&read(&dir.path().join("out.fgb")), 1e-6);
    }
}

#[test]
fn geojson_sequence_skips_a_broken_line_and_says_which() {
    let (r, dir) = run(&["roads.geojsonl"], |_| {});
    let s = r.expect("import");
    assert_eq!((s.read, s.written), (4, 3));
    assert_eq!(s.skipped.len(), 1);
    assert_eq!(s.skipped[0].0, 4, "{:?}", s.skipped);
    let out = read(&dir.path().join("out.fgb"));
    assert_eq!(
        out[0].1["lo_gioi_m"].parse::<i64>().ok().map(|v| v % 4),
        Some(0)
    );
}

#[test]
fn swapped_axes_are_flagged_and_fixed() {
    let (r, _) = run(&["zones_swapped.shp"], |_| {});
    let s = r.expect("import");
    assert!(
        s.warnings.iter().any(|w| w.contains("swapped")),
        "{:?}",
        s.warnings
    );
    let (r, dir) = run(&["zones_swapped.shp"], |o| o.swap_xy = true);
    let s = r.expect("import");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_matches_source(&read(&dir.path().join("out.fgb")), 0.01);
}

#[test]
fn a_wrong_prj_is_warned_about() {
    let (r, _) = run(&["wrongprj.shp"], |_| {});
    let s = r.expect("import runs");
    assert!(
        s.warnings.iter().any(|w| w.contains("outside Vietnam")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn from_crs_names_the_crs_of_files_that_declare_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    for ext in ["shp", "shx", "dbf", "cpg"] {
        fs::copy(
            fixture(&format!("zones_tm.{ext}")),
            dir.path().join(format!("noprj.{ext}")),
        )
        .expect("copy");
    }
    let input = dir.path().join("noprj.shp");
    let mut opts = Options {
        inputs: vec![input.clone()],
        out: dir.path().join("out.fgb"),
        ..Options::default()
    };
    let e = import(&opts).expect_err("no CRS");
    assert!(e.to_string().contains("--from-crs"), "{e}");
    assert!(!opts.out.exists());
    for crs in ["EPSG:9210", "+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 +units=m +no_defs"] {
        opts.from_crs = Some(crs.into());
        import(&opts).expect("import");
        assert_matches_source(&read(&opts.out), 0.01);
    }
}

#[test]
fn mixed_geometry_types_give_an_unknown_typed_layer_that_serves() {
    let (r, dir) = run(&["mixed.geojson"], |_| {});
    let s = r.expect("import");
    assert_eq!(s.written, 2);
    assert!(
        s.warnings.iter().any(|w| w.contains("Unknown")),
        "{:?}",
        s.warnings
    );
    let layer = plantiles::layer::Layer::open(&dir.path().join("out.fgb")).expect("serves");
    assert_eq!(layer.geometry_type, flatgeobuf::GeometryType::Unknown);
    assert_eq!(layer.len(), 2);
}

#[test]
fn unreadable_inputs_fail_clearly_and_leave_nothing() {
    for (name, needle) in [
        ("truncated.shp", "truncated.shp"),
        ("broken.gpkg", "broken.gpkg"),
        ("nope.shp", "nope.shp"),
    ] {
        let (r, dir) = run(&[name], |_| {});
        let e = r.expect_err(name).to_string();
        assert!(e.contains(needle), "{name}: {e}");
        let left: Vec<_> = fs::read_dir(dir.path()).expect("list").collect();
        assert!(left.is_empty(), "{name} left {left:?}");
    }
}

#[test]
fn round_trip_import_serve_tile() {
    let (r, dir) = run(&["zones_tm.shp"], |_| {});
    r.expect("import");
    let ts = plantiles::tileset::Tileset::open(&dir.path().join("out.fgb")).expect("tileset");
    // The z16 tile over the first zone, 106.701 E 10.781 N.
    let (lon, lat, z) = (106.701f64, 10.781f64, 16u32);
    let n = (1u64 << z) as f64;
    let x = ((lon + 180.0) / 360.0 * n) as u64;
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u64;
    let tile = plantiles::tile::TileCoord::new(z, x, y).expect("tile");
    let layers: Vec<_> = ts.layers.iter().collect();
    let bytes = plantiles::render::render(&layers, tile, 4096).bytes;
    let decoded = decode_tile(&bytes);
    let feats = features(&decoded.layers[0]);
    assert!(
        feats.iter().any(|f| f.prop("ma_dat") == Some("string:ONT")),
        "{feats:?}"
    );
}
