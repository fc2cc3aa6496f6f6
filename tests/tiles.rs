//! Tiles rendered from the bundled sample, decoded with geozero's
//! protobuf types and the spec-written decoder in `common`, and checked
//! against the source read by the flatgeobuf crate's own reader.

mod common;

use std::collections::HashMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use flatgeobuf::{FgbCrs, FgbReader, FgbWriter, FgbWriterOptions, GeometryType};
use geo::{Area, BooleanOps, BoundingRect};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Polygon};
use geozero::GeozeroDatasource;
use plantiles::layer::Layer;
use plantiles::render::render;
use plantiles::tile::TileCoord;
use plantiles::tileset::Tileset;

fn sample() -> &'static Tileset {
    static SAMPLE: OnceLock<Tileset> = OnceLock::new();
    SAMPLE.get_or_init(|| Tileset::open(&sample_dir()).expect("sample opens"))
}

/// The tile holding (lon, lat) at zoom z: the OSM formula, written here
/// independently of the crate.
fn tile_at(lon: f64, lat: f64, z: u8) -> TileCoord {
    let n = (1u64 << z) as f64;
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    TileCoord::new(z as u32, x as u64, y as u64).expect("tile in matrix")
}

/// Degrees to tile units of `tile`, independently of the crate.
fn to_tile(tile: TileCoord, lon: f64, lat: f64) -> (f64, f64) {
    let n = (1u64 << tile.z) as f64;
    let r = lat.to_radians();
    let wx = (lon + 180.0) / 360.0;
    let wy = (1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0;
    (
        (wx * n - tile.x as f64) * 4096.0,
        (wy * n - tile.y as f64) * 4096.0,
    )
}

fn centre() -> (f64, f64) {
    let b = sample().bbox().expect("bbox");
    ((b.min_x + b.max_x) / 2.0, (b.min_y + b.max_y) / 2.0)
}

fn all_layers(ts: &Tileset) -> Vec<&plantiles::tileset::TilesetLayer> {
    ts.layers.iter().collect()
}

fn decoded(ts: &Tileset, tile: TileCoord) -> HashMap<String, Vec<Decoded>> {
    let out = render(&all_layers(ts), tile, ts.extent);
    let t = decode_tile(&out.bytes);
    for l in &t.layers {
        assert_eq!(l.version, 2, "layer {} version", l.name);
        assert_eq!(l.extent, Some(4096));
    }
    t.layers
        .iter()
        .map(|l| (l.name.clone(), features(l)))
        .collect()
}

/// Source features of a sample layer by their id column.
fn source(layer: &str) -> HashMap<u64, (Geometry<f64>, HashMap<String, String>)> {
    read_fgb(&sample_dir().join(format!("{layer}.fgb")))
        .into_iter()
        .map(|(g, props)| (props["id"].parse().expect("id"), (g, props)))
        .collect()
}

#[test]
fn layers_follow_the_config_with_version_2_and_extent() {
    let (lon, lat) = centre();
    let t = decode_tile(&render(&all_layers(sample()), tile_at(lon, lat, 15), 4096).bytes);
    let names: Vec<&str> = t.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"zones"), "{names:?}");
    assert!(
        names.contains(&"parcels") && names.contains(&"communes"),
        "{names:?}"
    );
    let order = SAMPLE_LAYERS;
    let pos: Vec<usize> = names
        .iter()
        .map(|n| order.iter().position(|o| o == n).expect("known"))
        .collect();
    assert!(
        pos.windows(2).all(|w| w[0] < w[1]),
        "drawing order {names:?}"
    );
    // Below the parcels' minzoom of 14 there are none.
    let t = decode_tile(&render(&all_layers(sample()), tile_at(lon, lat, 13), 4096).bytes);
    assert!(t.layers.iter().all(|l| l.name != "parcels"));
    // Zoomed out, the province is drawn as its commune boundaries alone.
    let t = decode_tile(&render(&all_layers(sample()), tile_at(lon, lat, 5), 4096).bytes);
    let names: Vec<&str> = t.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["communes"]);
}

#[test]
fn polygons_are_wound_closed_and_inside_the_buffer() {
    let (lon, lat) = centre();
    let mut polygons = 0;
    for z in [8, 11, 14, 16, 19] {
        for (name, feats) in decoded(sample(), tile_at(lon, lat, z)) {
            for f in feats.iter().filter(|f| f.kind == 3) {
                assert!(
                    area2(&f.paths[0]) > 0,
                    "{name} z{z}: first ring must be exterior"
                );
                for ring in &f.paths {
                    assert!(
                        ring.len() >= 3,
                        "{name} z{z}: ring of {} points",
                        ring.len()
                    );
                    assert_ne!(area2(ring), 0, "{name} z{z}: zero-area ring");
                    assert!(ring.windows(2).all(|w| w[0] != w[1]), "repeated point");
                    assert_ne!(ring.first(), ring.last(), "ring repeats its first point");
                    for &(x, y) in ring {
                        assert!(
                            (-64..=4160).contains(&x) && (-64..=4160).contains(&y),
                            "{x},{y}"
                        );
                    }
                }
                polygons += 1;
            }
            for f in feats.iter().filter(|f| f.kind == 2) {
                assert!(f.paths.iter().all(|p| p.len() >= 2), "{name}: short line");
            }
        }
    }
    assert!(polygons > 100, "only {polygons} polygons seen");
}

#[test]
fn attributes_types_and_ids_match_the_source() {
    let (lon, lat) = centre();
    let src = source("parcels");
    let tile = decoded(sample(), tile_at(lon, lat, 16));
    let parcels = &tile["parcels"];
    assert!(parcels.len() > 20);
    for f in parcels {
        let id = f.id.expect("parcels carry their id");
        let (_, props) = &src[&id];
        assert_eq!(f.prop("id"), Some(format!("uint:{id}").as_str()));
        assert_eq!(
            f.prop("ma_dat"),
            Some(format!("string:{}", props["ma_dat"]).as_str())
        );
        assert_eq!(
            f.prop("ten_dat"),
            Some(format!("string:{}", props["ten_dat"]).as_str())
        );
        assert_eq!(
            f.prop("so_to"),
            Some(format!("int:{}", props["so_to"]).as_str())
        );
        let area: f64 = props["dien_tich_ha"].parse().expect("area");
        assert_eq!(
            f.prop("dien_tich_ha"),
            Some(format!("double:{area}").as_str())
        );
        assert!(f
            .prop("bi_anh_huong")
            .is_some_and(|v| v.starts_with("bool:")));
        assert!(f
            .prop("ngay_phe_duyet")
            .is_some_and(|v| v.starts_with("string:20")));
        match props.get("chieu_cao_toi_da_m") {
            Some(v) => {
                let v: f32 = v.parse().expect("height");
                assert_eq!(
                    f.prop("chieu_cao_toi_da_m"),
                    Some(format!("float:{v}").as_str())
                );
            }
            None => assert_eq!(f.prop("chieu_cao_toi_da_m"), None, "nulls stay out"),
        }
        assert_eq!(f.props.len(), props.len(), "every non-null property, once");
    }
    assert!(
        tile["communes"].iter().all(|f| f.id.is_none()),
        "communes have no id column"
    );
}

#[test]
fn clipped_areas_match_the_exact_intersection() {
    let (lon, lat) = centre();
    let src = source("parcels");
    for z in [15, 17] {
        let tile = tile_at(lon, lat, z);
        let square = Polygon::new(
            LineString::from(vec![
                (-64.0, -64.0),
                (4160.0, -64.0),
                (4160.0, 4160.0),
                (-64.0, 4160.0),
                (-64.0, -64.0),
            ]),
            vec![],
        );
        let (mut want_total, mut got_total) = (0.0, 0.0);
        for f in &decoded(sample(), tile)["parcels"] {
            let (geometry, _) = &src[&f.id.expect("id")];
            let projected: MultiPolygon<f64> = match geometry {
                Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
                Geometry::MultiPolygon(m) => m.clone(),
                other => panic!("{other:?}"),
            };
            let projected = MultiPolygon(
                projected
                    .0
                    .iter()
                    .map(|p| {
                        let ring = |r: &LineString<f64>| {
                            LineString(
                                r.0.iter()
                                    .map(|c| {
                                        let (x, y) = to_tile(tile, c.x, c.y);
                                        Coord { x, y }
                                    })
                                    .collect(),
                            )
                        };
                        Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
                    })
                    .collect(),
            );
            let exact = projected.intersection(&MultiPolygon(vec![square.clone()]));
            let want = exact.unsigned_area();
            let got = f.paths.iter().map(|r| area2(r) as f64).sum::<f64>() / 2.0;
            let perimeter = exact
                .bounding_rect()
                .map_or(0.0, |r| 2.0 * (r.width() + r.height()));
            assert!(
                (got - want).abs() <= perimeter + 4.0,
                "z{z} parcel {:?}: tile area {got}, exact {want}",
                f.id
            );
            want_total += want;
            got_total += got;
        }
        assert!(
            (got_total - want_total).abs() < 0.01 * want_total,
            "z{z}: total {got_total} vs {want_total}"
        );
    }
}

#[test]
fn a_polygon_covering_the_tile_becomes_its_square() {
    let (lon, lat) = centre();
    let tile = decoded(sample(), tile_at(lon, lat, 20));
    let communes = &tile["communes"];
    let covering: Vec<_> = communes
        .iter()
        .filter(|f| f.paths.len() == 1 && f.paths[0].len() == 4)
        .collect();
    assert!(!covering.is_empty(), "{communes:?}");
    let mut square = covering[0].paths[0].clone();
    square.sort();
    assert_eq!(
        square,
        vec![(-64, -64), (-64, 4160), (4160, -64), (4160, 4160)]
    );
}

fn copy_sample(to: &Path) {
    for e in fs::read_dir(sample_dir()).expect("list") {
        let p = e.expect("entry").path();
        fs::copy(&p, to.join(p.file_name().expect("name"))).expect("copy");
    }
}

#[test]
fn property_selection_and_zoom_range_from_tileset_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(dir.path());
    fs::write(
        dir.path().join("tileset.toml"),
        "id = \"picked\"\n[[layers]]\nname = \"parcels\"\nminzoom = 15\nproperties = [\"ma_dat\"]\n",
    )
    .expect("write");
    let ts = Tileset::open(dir.path()).expect("open");
    assert_eq!(ts.id, "picked");
    assert_eq!(ts.layers[0].layer.name, "parcels");
    assert_eq!(ts.layers.len(), 6, "unlisted files are served too");
    let (lon, lat) = centre();
    assert!(!decoded(&ts, tile_at(lon, lat, 14)).contains_key("parcels"));
    let tile = decoded(&ts, tile_at(lon, lat, 15));
    for f in &tile["parcels"] {
        assert!(f.id.is_some());
        assert_eq!(f.props.len(), 1);
        assert_eq!(f.props[0].0, "ma_dat");
    }
}

#[test]
fn config_mistakes_are_errors_that_name_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(dir.path());
    let cases = [
        ("colour = 1\n", "colour"),
        (
            "[[layers]]\nname = \"parcels\"\nproperties = [\"nope\"]\n",
            "nope",
        ),
        (
            "[[layers]]\nname = \"parcels\"\nminzoom = 9\nmaxzoom = 3\n",
            "9-3",
        ),
    ];
    for (text, needle) in cases {
        fs::write(dir.path().join("tileset.toml"), text).expect("write");
        let message = match Tileset::open(dir.path()) {
            Err(e) => e.to_string(),
            Ok(ts) => ts.problems.join("; "),
        };
        assert!(message.contains(needle), "{text:?} gave {message:?}");
    }
}

/// Rewrites a layer through the flatgeobuf crate's writer, with or
/// without its spatial index.
fn rewrite(from: &Path, to: &Path, index: bool) {
    let file = fs::File::open(from).expect("open");
    let mut reader = FgbReader::open(BufReader::new(file))
        .expect("header")
        .select_all()
        .expect("select");
    let options = FgbWriterOptions {
        write_index: index,
        detect_type: false,
        promote_to_multi: false,
        crs: FgbCrs {
            code: 4326,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut w =
        FgbWriter::create_with_options("parcels", GeometryType::Unknown, options).expect("writer");
    reader.process(&mut w).expect("copy");
    w.write(std::io::BufWriter::new(
        fs::File::create(to).expect("create"),
    ))
    .expect("write");
}

#[test]
fn a_file_without_index_renders_the_same_features() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("parcels.fgb");
    rewrite(&sample_dir().join("parcels.fgb"), &plain, false);
    let ts = Tileset::open(&plain).expect("open");
    assert_eq!(ts.layers[0].layer.len(), 8000);
    let (lon, lat) = centre();
    let tile = tile_at(lon, lat, 16);
    let by_id = |m: HashMap<String, Vec<Decoded>>| -> HashMap<u64, Vec<Vec<(i64, i64)>>> {
        m["parcels"]
            .iter()
            .map(|f| (f.id.expect("id"), f.paths.clone()))
            .collect()
    };
    let a = by_id(decoded(&ts, tile));
    let b = by_id(decoded(sample(), tile));
    assert!(a.len() > 20);
    assert_eq!(a, b);
}

#[test]
fn index_queries_equal_brute_force_over_the_sample() {
    let layer = &sample()
        .layers
        .iter()
        .find(|l| l.layer.name == "parcels")
        .expect("parcels")
        .layer;
    let boxes: Vec<geo_types::Rect<f64>> = source("parcels")
        .values()
        .map(|(g, _)| g.bounding_rect().expect("bbox"))
        .collect();
    let b = layer.bbox.expect("bbox");
    let mut s = 7u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..200 {
        let x = b.min_x + next() * (b.max_x - b.min_x);
        let y = b.min_y + next() * (b.max_y - b.min_y);
        let q = plantiles::geometry::Bbox::new(x, y, x + next() * 0.005, y + next() * 0.005);
        let mut got = 0;
        layer.index().intersecting(&q, |_| got += 1);
        // A metre of f32 rounding may add a candidate, never lose one.
        let slack = 2e-5;
        let exact = boxes
            .iter()
            .filter(|r| {
                r.min().x <= q.max_x
                    && q.min_x <= r.max().x
                    && r.min().y <= q.max_y
                    && q.min_y <= r.max().y
            })
            .count();
        let loose = boxes
            .iter()
            .filter(|r| {
                r.min().x <= q.max_x + slack
                    && q.min_x - slack <= r.max().x
                    && r.min().y <= q.max_y + slack
                    && q.min_y - slack <= r.max().y
            })
            .count();
        assert!(
            exact <= got && got <= loose,
            "query {q:?}: {got} hits, exact {exact}, loose {loose}"
        );
    }
}

fn write_polygons(path: &Path, code: i32, polygons: &[Polygon<f64>]) {
    let options = FgbWriterOptions {
        crs: FgbCrs {
            code,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut w =
        FgbWriter::create_with_options("shapes", GeometryType::Polygon, options).expect("writer");
    for p in polygons {
        w.add_feature_geom(Geometry::Polygon(p.clone()), |_| {})
            .expect("add");
    }
    w.write(std::io::BufWriter::new(
        fs::File::create(path).expect("create"),
    ))
    .expect("write");
}

fn to_mercator(c: Coord<f64>) -> Coord<f64> {
    let r = 6_378_137.0;
    Coord {
        x: c.x.to_radians() * r,
        y: (std::f64::consts::FRAC_PI_4 + c.y.to_radians() / 2.0)
            .tan()
            .ln()
            * r,
    }
}

#[test]
fn web_mercator_layers_render_like_wgs84() {
    let dir = tempfile::tempdir().expect("tempdir");
    let square = |x: f64, y: f64, d: f64| {
        Polygon::new(
            LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]),
            vec![],
        )
    };
    let shapes: Vec<Polygon<f64>> = (0..10)
        .map(|i| square(105.8 + i as f64 * 0.001, 21.0, 0.0007))
        .collect();
    let merc: Vec<Polygon<f64>> = shapes
        .iter()
        .map(|p| {
            Polygon::new(
                LineString(p.exterior().0.iter().map(|&c| to_mercator(c)).collect()),
                vec![],
            )
        })
        .collect();
    write_polygons(&dir.path().join("a.fgb"), 4326, &shapes);
    write_polygons(&dir.path().join("b.fgb"), 3857, &merc);
    let a = Tileset::open(&dir.path().join("a.fgb")).expect("a");
    let b = Tileset::open(&dir.path().join("b.fgb")).expect("b");
    let tile = tile_at(105.804, 21.0003, 16);
    let pa = &decoded(&a, tile)["a"];
    let pb = &decoded(&b, tile)["b"];
    assert_eq!(pa.len(), pb.len());
    assert!(!pa.is_empty());
    for (fa, fb) in pa.iter().zip(pb) {
        for (ra, rb) in fa.paths.iter().zip(&fb.paths) {
            for (p, q) in ra.iter().zip(rb) {
                assert!(
                    (p.0 - q.0).abs() <= 1 && (p.1 - q.1).abs() <= 1,
                    "{p:?} vs {q:?}"
                );
            }
        }
    }
}

#[test]
fn other_reference_systems_are_refused_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vn2000.fgb");
    let p = Polygon::new(
        LineString::from(vec![
            (500000.0, 2300000.0),
            (500100.0, 2300000.0),
            (500000.0, 2300100.0),
            (500000.0, 2300000.0),
        ]),
        vec![],
    );
    write_polygons(&path, 5897, &[p]);
    let message = Layer::open(&path).err().expect("refused").to_string();
    assert!(message.contains("vn2000.fgb"), "{message}");
    assert!(message.contains("EPSG:5897"), "{message}");
    assert!(message.contains("plantiles import"), "{message}");
}

fn corrupt(name: &str, bytes: &[u8], dir: &Path) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).expect("write");
    p
}

#[test]
fn hostile_files_give_errors_that_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = fs::read(sample_dir().join("roads.fgb")).expect("read");
    let header_len = 12 + u32::from_le_bytes(good[8..12].try_into().expect("4")) as usize;
    let mut lying_header = good.clone();
    lying_header[8..12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let mut bad_leaf = good.clone();
    // The first leaf's offset sits 40 bytes per leaf before the features;
    // point it elsewhere.
    let layer = Layer::open(&sample_dir().join("roads.fgb")).expect("good");
    let leaves_start = {
        let n = layer.len();
        let mut nodes = n;
        let mut level = n;
        while level > 1 {
            level = level.div_ceil(16);
            nodes += level;
        }
        header_len + nodes * 40 - n * 40
    };
    bad_leaf[leaves_start + 32..leaves_start + 40].copy_from_slice(&12345u64.to_le_bytes());
    // The third leaf points back at the first feature: the second one's
    // size then disagrees with an index that goes backwards.
    let mut backwards = good.clone();
    backwards[leaves_start + 80 + 32..leaves_start + 80 + 40].copy_from_slice(&0u64.to_le_bytes());
    // A column of a type FlatGeobuf does not define.
    let column_type = dir.path().join("source.fgb");
    {
        let mut w = FgbWriter::create("shapes", GeometryType::Polygon).expect("writer");
        w.add_column("odd", flatgeobuf::ColumnType(200), |_, _| {});
        let p = Polygon::new(
            LineString::from(vec![
                (105.8, 21.0),
                (105.81, 21.0),
                (105.8, 21.01),
                (105.8, 21.0),
            ]),
            vec![],
        );
        w.add_feature_geom(Geometry::Polygon(p), |_| {})
            .expect("add");
        w.write(std::io::BufWriter::new(
            fs::File::create(&column_type).expect("create"),
        ))
        .expect("write");
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.fgb", vec![], "magic"),
        (
            "text.fgb",
            b"{\"type\": \"FeatureCollection\"}".to_vec(),
            "magic",
        ),
        ("truncated.fgb", good[..good.len() / 2].to_vec(), ""),
        ("header.fgb", lying_header, "header"),
        ("leaf.fgb", bad_leaf, "index"),
        ("backwards.fgb", backwards, "the next one before it"),
        (
            "coltype.fgb",
            fs::read(&column_type).expect("read"),
            "type 200, which flatgeobuf does not define",
        ),
        ("headonly.fgb", good[..header_len + 10].to_vec(), ""),
    ];
    for (name, bytes, needle) in cases {
        let path = corrupt(name, &bytes, dir.path());
        let message = Layer::open(&path)
            .err()
            .unwrap_or_else(|| panic!("{name} opened"))
            .to_string();
        assert!(message.contains(name), "{message}");
        assert!(message.to_lowercase().contains(needle), "{name}: {message}");
    }
    // A folder with one bad layer serves the good ones.
    let mixed = tempfile::tempdir().expect("tempdir");
    copy_sample(mixed.path());
    fs::write(mixed.path().join("zones.fgb"), &good[..100]).expect("write");
    let ts = Tileset::open(mixed.path()).expect("the other layers open");
    assert_eq!(ts.layers.len(), 5);
    assert_eq!(ts.problems.len(), 1);
    assert!(ts.problems[0].contains("zones.fgb"), "{:?}", ts.problems);
}

#[test]
fn mutated_files_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = fs::read(sample_dir().join("facilities.fgb")).expect("read");
    let mut s = 2024u64;
    let mut next = |n: usize| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 33) as usize) % n
    };
    let (lon, lat) = centre();
    let (mut opened, mut skipped) = (0, 0);
    for round in 0..300 {
        let mut bytes = good.clone();
        for _ in 0..1 + next(8) {
            let at = next(bytes.len());
            bytes[at] = next(256) as u8;
        }
        let path = corrupt(&format!("m{round}.fgb"), &bytes, dir.path());
        if let Ok(ts) = Tileset::open(&path) {
            opened += 1;
            for z in [12, 14] {
                skipped += render(&all_layers(&ts), tile_at(lon, lat, z), 4096).skipped;
            }
        }
    }
    assert!(opened > 0, "some mutations leave a readable file");
    assert!(skipped > 0 || opened < 300, "mutations were noticed");
}

/// GDAL's MVT driver reads the tiles with the layers and counts we wrote.
#[test]
#[ignore = "needs GDAL's ogrinfo (gdal-bin); .ci/run runs it"]
fn ogrinfo_reads_the_tiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lon, lat) = centre();
    for z in [12, 15] {
        let tile = tile_at(lon, lat, z);
        let bytes = render(&all_layers(sample()), tile, 4096).bytes;
        let path = dir
            .path()
            .join(format!("{}/{}/{}.pbf", tile.z, tile.x, tile.y));
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, &bytes).expect("write");
        let out = std::process::Command::new("ogrinfo")
            .args(["-ro", "-al", "-so"])
            .arg(&path)
            .output()
            .expect("run ogrinfo");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "ogrinfo failed: {text}");
        for layer in decode_tile(&bytes).layers {
            assert!(
                text.contains(&format!("Layer name: {}", layer.name)),
                "{}: {text}",
                layer.name
            );
            // GDAL splits a layer by geometry type only when it mixes them.
            let count = layer.features.len();
            assert!(
                text.contains(&format!("Feature Count: {count}")),
                "{} {count}: {text}",
                layer.name
            );
        }
    }
}
