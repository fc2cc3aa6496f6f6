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
    }
    Ok(())
}
