//! Engine benchmarks: index building and tile rendering per zoom band.
//!
//! Runs on the bundled sample, or on a generated province named by
//! `PLANTILES_BENCH_DATA` (a tileset folder), for example:
//!
//!     plantiles generate --out data/p1m --parcels 1000000
//!     PLANTILES_BENCH_DATA=data/p1m cargo bench --bench engine

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use plantiles::geometry::Bbox;
use plantiles::index::{Entry, Index};
use plantiles::layer::Layer;
use plantiles::render::render;
use plantiles::tile::{lat_to_world_y, lon_to_world_x, TileCoord};
use plantiles::tileset::Tileset;

fn data_dir() -> PathBuf {
    std::env::var_os("PLANTILES_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tilesets/sample"))
}

/// Up to `most` tiles of zoom `z` over `b`, spread evenly.
fn tiles_over(b: &Bbox, z: u8, most: usize) -> Vec<TileCoord> {
    let n = (1u64 << z) as f64;
    let (x0, x1) = (
        (lon_to_world_x(b.min_x) * n) as u64,
        (lon_to_world_x(b.max_x) * n) as u64,
    );
    let (y0, y1) = (
        (lat_to_world_y(b.max_y) * n) as u64,
        (lat_to_world_y(b.min_y) * n) as u64,
    );
    let all: Vec<TileCoord> = (y0..=y1)
        .flat_map(|y| (x0..=x1).map(move |x| (x, y)))
        .filter_map(|(x, y)| TileCoord::new(z as u32, x, y).ok())
        .collect();
    let step = all.len().div_ceil(most).max(1);
    all.into_iter().step_by(step).collect()
}

fn index_building(c: &mut Criterion) {
    let path = data_dir().join("parcels.fgb");
    let layer = Layer::open(&path).expect("parcels layer");
    let mut entries: Vec<Entry> = Vec::with_capacity(layer.len());
    let world = Bbox::new(-180.0, -90.0, 180.0, 90.0);
    layer.index().intersecting(&world, |e| entries.push(*e));
    let mut g = c.benchmark_group("index");
    g.throughput(Throughput::Elements(entries.len() as u64));
    g.sample_size(10);
    g.bench_function("bulk_load", |b| {
        b.iter(|| Index::bulk_load(black_box(entries.clone())))
    });
    g.bench_function("open_layer", |b| {
        b.iter(|| Layer::open(black_box(&path)).expect("open"))
    });
    g.finish();
}

fn rendering(c: &mut Criterion) {
    let ts = Tileset::open(&data_dir()).expect("tileset");
    let layers: Vec<_> = ts.layers.iter().collect();
    let bbox = ts.bbox().expect("bbox");
    let mut g = c.benchmark_group("render");
    g.sample_size(10);
    for (band, zooms) in [
        ("z0-5", 0..=5u8),
        ("z6-9", 6..=9),
        ("z10-13", 10..=13),
        ("z14-16", 14..=16),
    ] {
        let tiles: Vec<TileCoord> = zooms.flat_map(|z| tiles_over(&bbox, z, 16)).collect();
        g.throughput(Throughput::Elements(tiles.len() as u64));
        g.bench_with_input(BenchmarkId::new("band", band), &tiles, |b, tiles| {
            b.iter(|| {
                tiles
                    .iter()
                    .map(|&t| render(&layers, t, ts.extent).bytes.len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

fn point_lookup(c: &mut Criterion) {
    let ts = Tileset::open(&data_dir()).expect("tileset");
    let layers: Vec<_> = ts.layers.iter().collect();
    let b = ts.bbox().expect("bbox");
    // A fixed spread of points over the province.
    let points: Vec<(f64, f64)> = (0..256)
        .map(|i| {
            let (u, v) = (
                (i * 37 % 256) as f64 / 256.0,
                (i * 101 % 256) as f64 / 256.0,
            );
            (
                b.min_x + u * (b.max_x - b.min_x),
                b.min_y + v * (b.max_y - b.min_y),
            )
        })
        .collect();
    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(points.len() as u64));
    g.bench_function("point", |bench| {
        bench.iter(|| {
            let mut skipped = 0;
            points
                .iter()
                .map(|&(lon, lat)| {
                    plantiles::lookup::at_point(&layers, lon, lat, 5.0, &mut skipped).len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

/// A rendered tile over the middle of the data at zoom `z`.
fn middle_tile(ts: &Tileset, z: u8) -> (TileCoord, Vec<u8>) {
    let b = ts.bbox().expect("bbox");
    let mid = Bbox::new(
        (b.min_x + b.max_x) / 2.0,
        (b.min_y + b.max_y) / 2.0,
        (b.min_x + b.max_x) / 2.0,
        (b.min_y + b.max_y) / 2.0,
    );
    let tile = tiles_over(&mid, z, 1)[0];
    let layers: Vec<_> = ts.layers.iter().collect();
    (tile, render(&layers, tile, ts.extent).bytes)
}

/// MVT encoding alone: the features of a z14 tile, decoded once, encoded
/// again from their commands and tags.
fn mvt_encoding(c: &mut Criterion) {
    use geozero::mvt::{Message, Tile};
    use plantiles::mvt::{GeomType, GeomWriter, LayerBuilder, Value};
    let ts = Tileset::open(&data_dir()).expect("tileset");
    let (_, bytes) = middle_tile(&ts, 14);
    let tile = Tile::decode(bytes.as_slice()).expect("tile");
    let mut g = c.benchmark_group("mvt");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("encode", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(bytes.len());
            let mut geom = GeomWriter::default();
            for layer in &tile.layers {
                let values: Vec<Value<'_>> = layer
                    .values
                    .iter()
                    .map(|v| {
                        match (
                            &v.string_value,
                            v.double_value,
                            v.uint_value,
                            v.int_value,
                            v.float_value,
                        ) {
                            (Some(s), ..) => Value::String(s),
                            (_, Some(d), ..) => Value::Double(d),
                            (_, _, Some(u), ..) => Value::Uint(u),
                            (_, _, _, Some(i), _) => Value::Int(i),
                            (_, _, _, _, Some(f)) => Value::Float(f),
                            _ => Value::Bool(v.bool_value.unwrap_or(false)),
                        }
                    })
                    .collect();
                let mut builder = LayerBuilder::new(&layer.name, 4096);
                for f in &layer.features {
                    for kv in f.tags.chunks(2) {
                        let k = kv[0] as usize;
                        builder.tag(k, &layer.keys[k], values[kv[1] as usize]);
                    }
                    geom.clear();
                    let kind = match f.r#type {
                        Some(1) => GeomType::Point,
                        Some(2) => GeomType::LineString,
                        _ => GeomType::Polygon,
                    };
                    geom.raw(&f.geometry);
                    builder.finish_feature(f.id, kind, &geom);
                }
                builder.write_to(&mut out);
            }
            black_box(out.len())
        })
    });
    g.finish();
}

fn gzip(c: &mut Criterion) {
    let ts = Tileset::open(&data_dir()).expect("tileset");
    let (_, bytes) = middle_tile(&ts, 14);
    let mut g = c.benchmark_group("gzip");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    // What the server does: zlib-rs at its fastest level.
    g.bench_function("fast", |b| {
        b.iter(|| {
            plantiles::cache::gzip(black_box(&bytes))
                .expect("gzip")
                .len()
        })
    });
    g.finish();
    let mut g = c.benchmark_group("etag");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    // The baseline: FNV-1a, a byte at a time.
    g.bench_function("fnv1a", |b| {
        b.iter(|| {
            black_box(&bytes)
                .iter()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, &v| {
                    (h ^ v as u64).wrapping_mul(0x0100_0000_01b3)
                })
        })
    });
    g.bench_function("server", |b| {
        b.iter(|| plantiles::cache::etag(black_box(&bytes)))
    });
    g.finish();
}

/// The cache-hit path: a lookup of a cached tile, as a request does.
fn cache_hit(c: &mut Criterion) {
    use plantiles::cache::{CacheKey, CachedTile, TileCache};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let cache = TileCache::new(64 << 20);
    let key = CacheKey {
        tilesets: "sample".into(),
        z: 14,
        x: 1,
        y: 2,
    };
    let tile = || async {
        Ok(CachedTile {
            plain: bytes::Bytes::from(vec![1u8; 50_000]),
            gzip: bytes::Bytes::from(vec![2u8; 20_000]),
            etag: "\"e\"".into(),
        })
    };
    runtime.block_on(async {
        let _ = cache.get_or_render(key.clone(), tile).await;
    });
    c.bench_function("cache/hit", |b| {
        b.iter(|| runtime.block_on(async { cache.get_or_render(key.clone(), tile).await.1 }))
    });
}

criterion_group!(
    benches,
    index_building,
    rendering,
    point_lookup,
    mvt_encoding,
    gzip,
    cache_hit
);
criterion_main!(benches);
