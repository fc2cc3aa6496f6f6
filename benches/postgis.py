#!/usr/bin/env python3
"""plantiles against PostGIS ST_AsMVT on the same data and tile list:
tiles per CPU-second, each side on one thread.

    python3 benches/postgis.py [--parcels 1000000] [--zoom 14] [--tiles 400] [--rounds 3]

Needs postgresql-15-postgis-3 and gdal-bin, and a release build
(`cargo build --release --examples`). Loads the generated parcels layer
into PostGIS with ogr2ogr (geometry stored in EPSG:3857 with a GiST
index, the setup most favourable to PostGIS), then renders the same z14
tiles of a map viewer's path list:

- PostGIS: ST_AsMVT over ST_AsMVTGeom per tile, every column, extent
  4096, buffer 64, in one psql connection without parallel workers;
  CPU time read from the backend's /proc/<pid>/stat before and after.
- plantiles: `examples/render_list` on the parcels file alone, one
  thread, its own CPU time.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load import BIN, RENDER_LIST, ROOT, cpu_of, viewer_paths  # noqa: E402

DB = "plantiles_bench"


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def psql(sql, db=DB):
    return sh("su", "postgres", "-c", f"psql -qAt -d {db} -c \"{sql}\"")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument("--zoom", type=int, default=14)
    ap.add_argument("--tiles", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    data = os.path.join(ROOT, f"data/p{args.parcels}")
    fgb = os.path.join(data, "parcels.fgb")
    if not os.path.exists(fgb):
        subprocess.run([BIN, "generate", "--out", data, "--parcels", str(args.parcels)], check=True)

    subprocess.run(["pg_ctlcluster", "15", "main", "start"], check=False)
    loaded = psql("SELECT 1 FROM pg_database WHERE datname = '%s'" % DB, db="postgres").strip()
    if not loaded:
        psql(f"CREATE DATABASE {DB}", db="postgres")
        psql("CREATE EXTENSION postgis")
        sh("su", "postgres", "-c",
           f"ogr2ogr -f PostgreSQL PG:dbname={DB} {fgb} -nln parcels -t_srs EPSG:3857 "
           "-lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST -nlt PROMOTE_TO_MULTI")
        psql("VACUUM ANALYZE parcels")
    columns = [c for c in psql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'parcels' "
        "AND column_name NOT IN ('geom', 'ogc_fid') ORDER BY ordinal_position").split() if c]

    # The same tiles for both sides: z14 tiles a map viewer asks for.
    bounds = [float(v) for v in sh("ogrinfo", "-ro", "-so", "-al", fgb).split("Extent: ")[1]
              .split("\n")[0].replace("(", "").replace(")", "").replace(" - ", ",").split(",")]
    west, south, east, north = bounds
    tiles = list(dict.fromkeys(viewer_paths([west, south, east, north], args.tiles * 3,
                                            [(args.zoom, 1)], 3)))[: args.tiles]
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        # Kept beside the data, for profiling the same list by hand.
        listing = os.path.join(data, f"tiles-z{args.zoom}.txt")
        with open(listing, "w") as f:
            f.writelines(f"{z}/{x}/{y}\n" for z, x, y in tiles)
        cols = ", ".join(f'"{c}"' for c in columns)
        script = os.path.join(tmp, "tiles.sql")
        with open(script, "w") as f:
            # One thread: no parallel workers, whose CPU time the
            # backend's /proc entry would not show.
            f.write("SET max_parallel_workers_per_gather = 0;\n")
            f.write("SELECT pg_backend_pid() AS pid \\gset\n\\setenv PGPID :pid\n")
            f.write(f"\\! cat /proc/$PGPID/stat > {tmp}/before\n")
            f.write(f"\\o {tmp}/lengths\n")
            for z, x, y in tiles:
                f.write(
                    "SELECT length(ST_AsMVT(q, 'parcels', 4096, 'geom')) FROM ("
                    f"SELECT {cols}, ST_AsMVTGeom(geom, ST_TileEnvelope({z},{x},{y}), 4096, 64, true) AS geom "
                    f"FROM parcels WHERE geom && ST_TileEnvelope({z},{x},{y}, margin => 64.0/4096)) q;\n")
            f.write("\\o\n")
            f.write(f"\\! cat /proc/$PGPID/stat > {tmp}/after\n")
        os.chmod(script, 0o644)

        def postgis():
            sh("su", "postgres", "-c", f"psql -qAt -d {DB} -f {script}")
            return cpu_of(open(f"{tmp}/after").read()) - cpu_of(open(f"{tmp}/before").read())

        postgis()
        pg_size = sum(int(v) for v in open(f"{tmp}/lengths").read().split() if v.strip())

        def ours():
            n, size, cpu = sh(RENDER_LIST, fgb, listing).split()
            return int(n), int(size), float(cpu)

        # The first passes warmed the caches; now the sides take turns,
        # so a slow spell of the host falls on both.
        ours()
        rounds = []
        for _ in range(args.rounds):
            pg = postgis()
            n, size, cpu = ours()
            rounds.append((pg, cpu))
    print(f"{n} z{args.zoom} tiles: {size:,} bytes from plantiles, {pg_size:,} from PostGIS "
          "(uncompressed)\n")
    print("| round | PostGIS CPU s (tiles/CPU-s) | plantiles CPU s (tiles/CPU-s) | ratio |")
    print("| --- | --- | --- | --- |")
    for i, (pg, cpu) in enumerate(rounds, 1):
        print(f"| {i} | {pg:.2f} ({n / pg:,.0f}) | {cpu:.2f} ({n / cpu:,.0f}) | {pg / cpu:.1f}x |")
    ratios = sorted(pg / cpu for pg, cpu in rounds)
    print(f"\nplantiles / PostGIS, median of {len(ratios)} rounds: {ratios[len(ratios) // 2]:.1f}x")


if __name__ == "__main__":
    main()
