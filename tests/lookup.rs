//! The planning lookup and OGC API - Features, checked against brute
//! force: every feature of the sample read with the flatgeobuf crate's
//! reader and tested with geo, without the index.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::http::*;
use common::*;
use geo::{Area, Contains, Distance, Euclidean, Intersects};
use geo_types::{Coord, Geometry, LineString, Point, Rect};
use geozero::ToGeo;
use serde_json::Value;

type Source = Vec<(Geometry<f64>, HashMap<String, String>)>;

fn source() -> BTreeMap<&'static str, Source> {
    SAMPLE_LAYERS
        .iter()
        .map(|&name| (name, read_fgb(&sample_dir().join(format!("{name}.fgb")))))
        .collect()
}

/// Brute-force "what is at this point": polygons containing it; lines and
/// points within `tol` metres, measured in a local metric frame.
fn brute_point(
    src: &BTreeMap<&str, Source>,
    lon: f64,
    lat: f64,
    tol: f64,
) -> BTreeMap<String, usize> {
    let kx = 111_320.0 * lat.to_radians().cos();
    let local = |c: Coord<f64>| Coord {
        x: (c.x - lon) * kx,
        y: (c.y - lat) * 110_574.0,
    };
    let origin = Point::new(0.0, 0.0);
    let mut out = BTreeMap::new();
    for (name, features) in src {
        let n = features
            .iter()
            .filter(|(g, _)| match g {
                Geometry::Polygon(_) | Geometry::MultiPolygon(_) => {
                    g.contains(&Point::new(lon, lat))
                }
                Geometry::LineString(l) => {
                    let l = LineString(l.0.iter().map(|&c| local(c)).collect());
                    Euclidean.distance(&origin, &l) <= tol
                }
                Geometry::Point(p) => Euclidean.distance(&origin, &Point(local(p.0))) <= tol,
                other => panic!("{other:?}"),
            })
            .count();
        if n > 0 {
            out.insert(name.to_string(), n);
        }
    }
    out
}

fn lcg(s: &mut u64) -> f64 {
    *s = s
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*s >> 11) as f64 / (1u64 << 53) as f64
}

fn sample_bbox() -> (f64, f64, f64, f64) {
    let b = plantiles::tileset::Tileset::open(&sample_dir())
        .expect("sample")
        .bbox()
        .expect("bbox");
    (b.min_x, b.min_y, b.max_x, b.max_y)
}

fn per_layer(fc: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for f in fc["features"].as_array().expect("features") {
        *out.entry(f["layer"].as_str().expect("layer").to_string())
            .or_default() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_lookups_equal_brute_force() {
    let src = source();
    let s = start(config(), true).await;
    let (x0, y0, x1, y1) = sample_bbox();
    let mut seed = 11u64;
    let mut seen_lines = 0;
    for _ in 0..60 {
        let lon = x0 + lcg(&mut seed) * (x1 - x0);
        let lat = y0 + lcg(&mut seed) * (y1 - y0);
        let tol = 30.0;
        let r = send(
            s.addr,
            "GET",
            &format!("/features/sample?lon={lon}&lat={lat}&tolerance={tol}"),
            &[],
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/geo+json"));
        let fc = r.json();
        let got = per_layer(&fc);
        let want = brute_point(&src, lon, lat, tol);
        assert_eq!(got, want, "at {lon},{lat}");
        seen_lines += want.get("roads").copied().unwrap_or(0);
        // Layer order, then area smallest first.
        let features = fc["features"].as_array().expect("features");
        let order: Vec<usize> = features
            .iter()
            .map(|f| {
                SAMPLE_LAYERS
                    .iter()
                    .position(|l| f["layer"] == *l)
                    .expect("layer")
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
        for w in features.windows(2) {
            if w[0]["layer"] == w[1]["layer"] {
                let area = |f: &Value| -> f64 {
                    let text = f["geometry"].to_string();
                    geozero::geojson::GeoJson(&text)
                        .to_geo()
                        .expect("geometry")
                        .unsigned_area()
                };
                assert!(
                    area(&w[0]) <= area(&w[1]) * 1.000_001,
                    "area order at {lon},{lat}"
                );
            }
        }
    }
    assert!(seen_lines > 0, "some points fall near roads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_properties_and_geometry_options() {
    let s = start(config(), true).await;
    let (x0, y0, x1, y1) = sample_bbox();
    let (lon, lat) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let fc = send(
        s.addr,
        "GET",
        &format!("/features/sample?lon={lon}&lat={lat}&layers=parcels&properties=ma_dat,id&geometry=false"),
        &[],
    )
    .await
    .json();
    let features = fc["features"].as_array().expect("features");
    assert_eq!(features.len(), 1, "{fc}");
    assert_eq!(features[0]["layer"], "parcels");
    assert!(features[0]["geometry"].is_null());
    let keys: Vec<&String> = features[0]["properties"]
        .as_object()
        .expect("props")
        .keys()
        .collect();
    assert_eq!(keys, ["id", "ma_dat"]);
    let with_geometry = send(
        s.addr,
        "GET",
        &format!("/features/sample?lon={lon}&lat={lat}&layers=parcels"),
        &[],
    )
    .await
    .json();
    let ring = &with_geometry["features"][0]["geometry"]["coordinates"][0];
    let x = ring[0][0].as_f64().expect("x");
    assert_eq!((x * 1e7).round() / 1e7, x, "7 decimals");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bbox_paging_and_filters_equal_brute_force() {
    let src = source();
    let s = start(config(), true).await;
    let (x0, y0, x1, y1) = sample_bbox();
    let (w, h) = (x1 - x0, y1 - y0);
    let b = (x0 + w * 0.3, y0 + h * 0.3, x0 + w * 0.45, y0 + h * 0.42);
    let rect = Rect::new(Coord { x: b.0, y: b.1 }, Coord { x: b.2, y: b.3 }).to_polygon();
    let want_parcels: Vec<String> = src["parcels"]
        .iter()
        .filter(|(g, _)| g.intersects(&rect))
        .map(|(_, p)| p["id"].clone())
        .collect();
    let want_ont = src["parcels"]
        .iter()
        .filter(|(g, p)| g.intersects(&rect) && p["ma_dat"] == "ONT")
        .count();
    let bbox = format!("{},{},{},{}", b.0, b.1, b.2, b.3);
    let mut got = Vec::new();
    let mut url = format!("/features/sample?bbox={bbox}&layers=parcels&limit=37&geometry=false");
    let mut pages = 0;
    loop {
        let fc = send(s.addr, "GET", &url, &[]).await.json();
        assert_eq!(
            fc["numberMatched"].as_u64(),
            Some(want_parcels.len() as u64)
        );
        let features = fc["features"].as_array().expect("features");
        assert_eq!(fc["numberReturned"].as_u64(), Some(features.len() as u64));
        got.extend(features.iter().map(|f| f["properties"]["id"].to_string()));
        pages += 1;
        let next = fc["links"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["rel"] == "next"));
        match next {
            Some(n) => {
                let href = n["href"].as_str().expect("href");
                url = href[href.find("/features").expect("path")..].to_string();
            }
            None => break,
        }
        assert!(pages < 100);
    }
    let mut want = want_parcels.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(pages > 1, "paged");

    let ont = send(
        s.addr,
        "GET",
        &format!("/features/sample?bbox={bbox}&layers=parcels&ma_dat=ONT&limit=10000"),
        &[],
    )
    .await
    .json();
    assert_eq!(ont["numberMatched"].as_u64(), Some(want_ont as u64));
    assert!(ont["features"]
        .as_array()
        .expect("f")
        .iter()
        .all(|f| f["properties"]["ma_dat"] == "ONT"));
    let all = send(
        s.addr,
        "GET",
        &format!("/features/sample?bbox={bbox}&limit=10000&geometry=false"),
        &[],
    )
    .await
    .json();
    let brute: usize = src
        .values()
        .map(|f| f.iter().filter(|(g, _)| g.intersects(&rect)).count())
        .sum();
    assert_eq!(all["numberMatched"].as_u64(), Some(brute as u64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400_with_a_message() {
    let s = start(config(), true).await;
    for q in [
        "lon=abc&lat=21",
        "lon=105.6&lat=91",
        "lon=181&lat=20",
        "lon=105.6",
        "",
        "bbox=106,21,105,20",
        "bbox=1,2,3",
        "bbox=105,20,106,21&limit=10001",
        "bbox=105,20,106,21&limit=-1",
        "bbox=105,20,106,21&colour=red",
        "bbox=105,20,106,21&lon=105&lat=20",
        "lon=105.6&lat=20.8&layers=nope",
        "lon=105.6&lat=20.8&geometry=maybe",
        "lon=105.6&lat=20.8&tolerance=5000",
    ] {
        let r = send(s.addr, "GET", &format!("/features/sample?{q}"), &[]).await;
        assert_eq!(r.status, 400, "{q}");
        assert!(
            r.json()["error"].as_str().is_some_and(|m| m.len() > 10),
            "{q}"
        );
    }
    assert_eq!(
        send(s.addr, "GET", "/features/nope?lon=1&lat=2", &[])
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ogc_api_features_core() {
    let src = source();
    let s = start(config(), true).await;
    let landing = send(s.addr, "GET", "/", &[("Accept", "application/json")])
        .await
        .json();
    let rels: Vec<&str> = landing["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l["rel"].as_str())
        .collect();
    for rel in ["self", "conformance", "data", "service-doc"] {
        assert!(rels.contains(&rel), "{rels:?}");
    }
    let conf = send(s.addr, "GET", "/conformance", &[]).await.json();
    assert!(conf["conformsTo"]
        .to_string()
        .contains("ogcapi-features-1/1.0/conf/core"));
    let cols = send(s.addr, "GET", "/collections", &[]).await.json();
    let ids: Vec<&str> = cols["collections"]
        .as_array()
        .expect("c")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"sample.parcels") && ids.contains(&"sample.zones"),
        "{ids:?}"
    );
    let one = send(s.addr, "GET", "/collections/sample.roads", &[])
        .await
        .json();
    assert_eq!(
        one["extent"]["spatial"]["bbox"][0].as_array().map(Vec::len),
        Some(4)
    );

    // Follow `next` through all roads; they must be every road, once.
    let mut url = "/collections/sample.roads/items?limit=10".to_string();
    let mut names = Vec::new();
    loop {
        let r = send(s.addr, "GET", &url, &[]).await;
        assert_eq!(r.header("content-type"), Some("application/geo+json"));
        let fc = r.json();
        assert_eq!(
            fc["numberMatched"].as_u64(),
            Some(src["roads"].len() as u64)
        );
        names.extend(
            fc["features"]
                .as_array()
                .expect("f")
                .iter()
                .map(|f| f["id"].as_u64().expect("id")),
        );
        match fc["links"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["rel"] == "next"))
        {
            Some(n) => {
                let href = n["href"].as_str().expect("href");
                url = href[href.find("/collections").expect("path")..].to_string();
            }
            None => break,
        }
    }
    assert_eq!(names.len(), src["roads"].len());
    let first = names[0];
    let item = send(
        s.addr,
        "GET",
        &format!("/collections/sample.roads/items/{first}"),
        &[],
    )
    .await;
    assert_eq!(item.status, 200);
    assert_eq!(item.json()["id"].as_u64(), Some(first));
    assert_eq!(
        send(
            s.addr,
            "GET",
            &format!("/collections/sample.roads/items/{}", first + 1),
            &[]
        )
        .await
        .status,
        404
    );
    assert_eq!(
        send(s.addr, "GET", "/collections/sample.roads/items/x", &[])
            .await
            .status,
        404
    );
    assert_eq!(
        send(s.addr, "GET", "/collections/nope/items", &[])
            .await
            .status,
        404
    );
    let filtered = send(
        s.addr,
        "GET",
        "/collections/sample.parcels/items?ma_dat=ODT&limit=5",
        &[],
    )
    .await
    .json();
    let want = src["parcels"]
        .iter()
        .filter(|(_, p)| p["ma_dat"] == "ODT")
        .count();
    assert_eq!(filtered["numberMatched"].as_u64(), Some(want as u64));
    assert_eq!(filtered["numberReturned"], 5);
}
