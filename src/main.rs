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
    command: Option<Command>,
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
    /// Serve tilesets over HTTP (the default command).
    Serve {
        /// Tileset folders, .fgb files, or folders of those (default: tilesets/).
        paths: Vec<PathBuf>,
        /// Address to listen on (default 127.0.0.1:3000).
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
        /// Tile cache size in MiB; 0 turns it off (default 512).
        #[arg(long)]
        cache_mb: Option<usize>,
        /// Settings file; flags override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Convert planning deliverables (Shapefile, GeoJSON, GeoJSON sequence,
    /// GeoPackage, FlatGeobuf; VN-2000 or WGS84) to a serving-ready
    /// FlatGeobuf file in EPSG:4326.
    Import {
        /// Input files; several are merged into one layer.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output .fgb file (written beside, then renamed into place).
        #[arg(long)]
        out: PathBuf,
        /// CRS of inputs that declare none: EPSG:code or a PROJ string.
        #[arg(long)]
        from_crs: Option<String>,
        /// Layer (table) of a GeoPackage.
        #[arg(long)]
        layer: Option<String>,
        /// Inputs give northing first (X north, Y east).
        #[arg(long)]
        swap_xy: bool,
        /// Shapefile attribute encoding when no .cpg names one (for example windows-1258).
        #[arg(long)]
        encoding: Option<String>,
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
    let command = Cli::parse().command.unwrap_or(Command::Serve {
        paths: Vec::new(),
        bind: None,
        cache_mb: None,
        config: None,
    });
    match command {
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
        Command::Serve {
            paths,
            bind,
            cache_mb,
            config,
        } => {
            let flags = plantiles::server::Flags {
                bind,
                tilesets: paths,
                cache_mb,
            };
            serve(plantiles::server::ServerConfig::load(
                config.as_deref(),
                flags,
            )?)?
        }
        Command::Import {
            inputs,
            out,
            from_crs,
            layer,
            swap_xy,
            encoding,
        } => {
            let opts = plantiles::import::Options {
                inputs,
                out: out.clone(),
                from_crs,
                layer,
                swap_xy,
                encoding,
                progress: true,
            };
            let s = plantiles::import::import(&opts)?;
            for w in &s.warnings {
                eprintln!("warning: {w}");
            }
            for (n, why) in s.skipped.iter().take(100) {
                eprintln!("skipped feature {n}: {why}");
            }
            if s.skipped.len() > 100 {
                eprintln!("... and {} more skipped", s.skipped.len() - 100);
            }
            if !s.repaired.is_empty() {
                let list: Vec<String> = s.repaired.iter().take(100).map(u64::to_string).collect();
                eprintln!("repaired features: {}", list.join(", "));
            }
            println!(
                "wrote {}: read {}, written {}, repaired {}, skipped {}, {:.1} s",
                out.display(),
                s.read,
                s.written,
                s.repaired.len(),
                s.skipped.len(),
                s.seconds
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

fn serve(config: plantiles::server::ServerConfig) -> anyhow::Result<()> {
    use plantiles::server::{serve, Catalog, State};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {}", config.bind))?;
        let addr = listener.local_addr()?;
        let paths = config.tilesets.clone();
        let state = std::sync::Arc::new(State::new(config));
        println!("catalog: http://{addr}/catalog");
        // Load off the async workers; /health answers 503 until done.
        let loading = state.clone();
        tokio::task::spawn_blocking(move || {
            let catalog = Catalog::open(&paths);
            if catalog.tilesets.is_empty() {
                tracing::error!("no tileset could be opened; serving none");
            }
            for id in catalog.tilesets.keys() {
                println!("tileset {id}: http://{addr}/tiles/{id}");
            }
            loading.set_catalog(catalog);
        });
        serve(listener, state, shutdown_signal()).await;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
