//! Renders a list of tiles on one thread and reports tiles per CPU
//! second: the plantiles side of the PostGIS comparison in
//! `benches/postgis.py`.
//!
//!     cargo run --release --example render_list -- TILESET TILES.txt
//!
//! TILES.txt holds one `z/x/y` a line. Prints "tiles bytes cpu_seconds",
//! and the features drawn and CPU time per feature on standard error.

use plantiles::render::render;
use plantiles::tile::TileCoord;
use plantiles::tileset::Tileset;

/// User plus system CPU time of this process, seconds (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the file: 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || anyhow::anyhow!("usage: render_list TILESET TILES.txt");
    let ts = Tileset::open(std::path::Path::new(&args.next().ok_or_else(usage)?))?;
    let list = std::fs::read_to_string(args.next().ok_or_else(usage)?)?;
    let tiles: Vec<TileCoord> = list
        .lines()
        .filter_map(|l| {
            let n: Vec<u64> = l.split('/').filter_map(|v| v.trim().parse().ok()).collect();
            (n.len() == 3)
                .then(|| TileCoord::new(n[0] as u32, n[1], n[2]).ok())
                .flatten()
        })
        .collect();
    let layers: Vec<_> = ts.layers.iter().collect();
    let before = cpu_seconds();
    let (mut bytes, mut features) = (0, 0);
    for &t in &tiles {
        let r = render(&layers, t, ts.extent);
        bytes += r.bytes.len();
        features += r.features;
    }
    let cpu = cpu_seconds() - before;
    println!("{} {} {:.3}", tiles.len(), bytes, cpu);
    eprintln!(
        "{features} features, {:.0} ns a feature",
        cpu * 1e9 / features.max(1) as f64
    );
    Ok(())
}
