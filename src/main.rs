//! The `plantiles` command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "plantiles",
    version,
    about = "Vector tiles for spatial-planning data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write one synthetic province as a tileset folder of FlatGeobuf layers.
    Generate {
        /// Folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Number of land parcels.
        #[arg(long)]
        parcels: u64,
        /// Seed; the same seed and size give the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Open tilesets (folders or .fgb files) and report their layers.
    Info {
        /// Tileset folders or .fgb files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write the land-use planning style (MapLibre JSON) built from the
    /// land-use code table.
    Style {
        /// File to write.
        #[arg(long)]
        out: PathBuf,
        /// TileJSON URL of the tileset the style draws.
        #[arg(long, default_value = plantiles::style::SAMPLE_TILEJSON)]
        tilejson: String,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "plantiles=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Generate { out, parcels, seed } => {
            let opts = plantiles::generate::Options {
                out: out.clone(),
                parcels,
                seed,
                progress: true,
            };
            let s = plantiles::generate::generate(&opts)
                .with_context(|| format!("generating into {}", out.display()))?;
            println!(
                "wrote {}: {} parcels, {} zones, {} communes, {} rivers, {} roads, {} facilities",
                out.display(),
                s.parcels,
                s.zones,
                s.communes,
                s.rivers,
                s.roads,
                s.facilities
            );
        }
        Command::Info { paths } => {
            for path in paths {
                let started = std::time::Instant::now();
                let ts = plantiles::tileset::Tileset::open(&path)
                    .with_context(|| format!("opening {}", path.display()))?;
                println!(
                    "{} ({}): {} layers, ready in {:.2} s",
                    ts.id,
                    path.display(),
                    ts.layers.len(),
                    started.elapsed().as_secs_f64()
                );
                for l in &ts.layers {
                    let bytes = l.layer.index().memory_bytes();
                    println!(
                        "  {:<12} {:>10} features  z{}-{}  index {:.1} MB ({:.1} B/feature), {} skipped",
                        l.layer.name,
                        l.layer.len(),
                        l.settings.minzoom,
                        l.settings.maxzoom,
                        bytes as f64 / 1e6,
                        bytes as f64 / l.layer.len().max(1) as f64,
                        l.layer.skipped
                    );
                }
                for p in &ts.problems {
                    println!("  left out: {p}");
                }
            }
        }
        Command::Style { out, tilejson } => {
            std::fs::write(&out, plantiles::style::planning_text(&tilejson))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}
