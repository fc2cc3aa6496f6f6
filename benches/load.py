#!/usr/bin/env python3
"""Load tests of plantiles on a generated province, each against a
baseline measured in the same run. Loopback only; every run is bounded.

    python3 benches/load.py [--parcels 1000000] [--seconds 10]

Needs wrk and a release build (`cargo build --release --examples`).
Prints a Markdown table for benches/README.md.

1. Cached tiles: requests/s and latency of plantiles serving a hot set of
   tiles from its cache, against the `ceiling` example (a bare hyper
   server returning one cached tile's bytes with the same headers).
2. Cold rendering (cache off): unique tiles per zoom band, then the
   whole mix of zooms, replayed from a Zipf mix of places as a map
   viewer pans and zooms; p50, p99 and the slowest request, and tiles
   per CPU-second of the server process against the engine alone
   (`examples/render_list`, one thread, the same tiles): what HTTP,
   gzip and scheduling cost on top of rendering.
3. A burst of 256 concurrent requests for one cold tile: renders counted
   from /metrics.
4. Time until ready and resident memory after loading.
"""
import argparse
import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/plantiles")
CEILING = os.path.join(ROOT, "target/release/examples/ceiling")
RENDER_LIST = os.path.join(ROOT, "target/release/examples/render_list")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_of(stat_text):
    """User plus system CPU seconds from the text of /proc/<pid>/stat."""
    rest = stat_text.rsplit(")", 1)[1].split()
    return (float(rest[11]) + float(rest[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User plus system CPU time of a process."""
    with open(f"/proc/{pid}/stat") as f:
        return cpu_of(f.read())


def engine_rate(data, tiles):
    """Tiles per CPU-second of the engine alone over `tiles`: `render_list`
    on one thread, the list repeated until it takes a second or more (the
    CPU clock ticks in 10 ms)."""
    repeat = 1
    while True:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            for _ in range(repeat):
                f.writelines(f"{z}/{x}/{y}\n" for z, x, y in tiles)
        out = subprocess.run([RENDER_LIST, data, f.name], capture_output=True, text=True,
                             check=True).stdout
        os.unlink(f.name)
        n, _, cpu = out.split()
        if float(cpu) >= 1.0 or repeat >= 1000:
            return int(n) / max(float(cpu), 0.01)
        repeat = min(1000, repeat * max(2, math.ceil(1.2 / max(float(cpu), 0.01))))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.read()


class Server:
    def __init__(self, data, cache_mb):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [BIN, "serve", data, "--bind", f"127.0.0.1:{self.port}", "--cache-mb", str(cache_mb)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while True:
            try:
                if get(self.base + "/health")[0] == 200:
                    break
            except Exception:
                pass
            if time.monotonic() - started > 300:
                raise SystemExit("server never became ready")
            time.sleep(0.05)
        self.ready_s = time.monotonic() - started
        self.rss_mb = rss_mb(self.proc.pid)
        self.tid = os.path.basename(data)
        catalog = json.loads(get(f"{self.base}/catalog")[1])
        tileset = next(t for t in catalog["tilesets"] if t["id"] == self.tid)
        self.bounds = tileset["bounds"]
        self.parcels = next(l["features"] for l in tileset["layers"] if l["id"] == "parcels")

    def metric(self, name):
        text = get(self.base + "/metrics")[1].decode()
        m = re.search(rf"^{name} (\S+)$", text, re.M)
        return float(m.group(1)) if m else 0.0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    r = math.radians(lat)
    y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
    return z, min(max(x, 0), n - 1), min(max(y, 0), n - 1)


# Zooms as a map viewer over a province asks for them: few overviews,
# most requests at street level.
VIEWER_ZOOMS = [(z, w) for z, w in zip(range(0, 17), [1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 8, 10, 12, 14,
                                                       16, 14, 10])]


def viewer_paths(bounds, count, zooms, seed):
    """Tiles a map viewer asks for: places drawn Zipf-like from a set of
    hot spots (towns), zooms from `zooms` with their weights, and each
    view a 3x3 block of tiles around the centre."""
    rnd = random.Random(seed)
    west, south, east, north = bounds
    spots = [(rnd.uniform(west, east), rnd.uniform(south, north)) for _ in range(200)]
    weights = [1 / (k + 1) for k in range(len(spots))]
    levels, zweights = zip(*zooms)
    out = []
    while len(out) < count:
        lon, lat = rnd.choices(spots, weights)[0]
        lon += rnd.gauss(0, (east - west) / 50)
        lat += rnd.gauss(0, (north - south) / 50)
        z = rnd.choices(levels, zweights)[0]
        z, x, y = tile_of(lon, lat, z)
        n = 2**z
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                # A viewer asks for no tiles beyond the tile matrix.
                if 0 <= x + dx < n and 0 <= y + dy < n:
                    out.append((z, x + dx, y + dy))
    return out[:count]


def wrk(base, paths, seconds, connections=64):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("paths = {\n")
        for p in paths:
            f.write(f'  "{p}",\n')
        f.write("}\n")
        # Each of wrk's two threads has its own copy of this script:
        # they start half the list apart, so they never ask for the same
        # tile at once (the server would render it once for both).
        f.write(
            "local threads = 0\n"
            "function setup(thread)\n"
            "  thread:set(\"id\", threads)\n"
            "  threads = threads + 1\n"
            "end\n"
            "local i = 0\n"
            "function init(args)\n"
            "  i = math.floor(id * #paths / 2)\n"
            "end\n"
            "request = function()\n"
            "  i = i + 1\n"
            "  if i > #paths then i = 1 end\n"
            '  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})\n'
            "end\n"
        )
        script = f.name
    out = subprocess.run(
        # A long timeout, so a slow request is measured, not dropped.
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency",
         "-s", script, base],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    os.unlink(script)

    def duration_ms(v):
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
        return float(re.sub(r"[a-z]", "", v)) * scale.get(re.sub(r"[\d.]", "", v), 1.0)

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+(\S+)$", out, re.M)
        return duration_ms(m.group(1)) if m else float("nan")

    rps = float(re.search(r"Requests/sec:\s+(\S+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    # "Latency  avg  stdev  max  +/-stdev" of the thread statistics.
    latency = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", out, re.M)
    # Timeouts, read and write errors, and non-2xx or 3xx answers.
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(bad.group(1)) if bad else 0
    return {"rps": rps, "requests": requests, "p50": ms("50"), "p99": ms("99"),
            "max": duration_ms(latency.group(1)) if latency else float("nan"),
            "errors": errors, "raw": out}


def burst(base, path, n=256):
    barrier = threading.Barrier(n)
    statuses = []

    def one():
        barrier.wait()
        try:
            statuses.append(get(base + path)[0])
        except Exception as e:
            statuses.append(str(e))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def cached_vs_ceiling(data, tid, seconds):
    """1. Cached tiles against the ceiling."""
    s = Server(data, 512)
    rows = [("ready", f"{s.parcels:,} parcels", f"{s.ready_s:.2f} s", f"RSS {s.rss_mb:.0f} MB", "")]
    hot = sorted(set(viewer_paths(s.bounds, 2000, [(12, 1), (13, 2), (14, 4), (15, 4), (16, 2)], 1)))
    hot_paths = [f"/tiles/{tid}/{z}/{x}/{y}" for z, x, y in hot]
    for p in hot_paths:
        get(s.base + p, {"Accept-Encoding": "gzip"})
    tiles_dir = tempfile.mkdtemp()
    with open(os.path.join(tiles_dir, "index.tsv"), "w") as index:
        for i, p in enumerate(hot_paths):
            status, body = get(s.base + p, {"Accept-Encoding": "gzip"})
            with open(os.path.join(tiles_dir, f"{i}.bin"), "wb") as f:
                f.write(body)
            index.write(f"{p}\t{i}.bin\n")
    cport = free_port()
    ceiling = subprocess.Popen([CEILING, f"127.0.0.1:{cport}", tiles_dir], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    # Both servers stay up and take turns, three rounds each: the host's
    # noise then falls on both sides alike; the medians are reported.
    runs = {"plantiles": [], "ceiling": []}
    for _ in range(3):
        runs["plantiles"].append(wrk(s.base, hot_paths, seconds))
        runs["ceiling"].append(wrk(f"http://127.0.0.1:{cport}", hot_paths, seconds))
    ceiling.terminate()
    ceiling.wait()
    s.stop()
    for k, rs in runs.items():
        print(f"{k}: " + ", ".join(f"{r['rps']:,.0f}" for r in rs) + " req/s", file=sys.stderr)
    cached, ceil = (sorted(runs[k], key=lambda r: r["rps"])[1] for k in ("plantiles", "ceiling"))
    for case, r, note in [("plantiles, cache hits", cached, f"{cached['rps'] / ceil['rps']:.0%} of ceiling"),
                          ("ceiling (bare hyper)", ceil, "baseline")]:
        rows.append(("cached tiles", case, f"{r['rps']:,.0f} req/s",
                     f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms",
                     f"{note}, {r['errors']} errors"))
    return rows


def cold(data, tid, seconds):
    """2. Cold rendering, cache off, unique tiles: per zoom band, then the
    whole mix of zooms a viewer asks for."""
    s = Server(data, 0)
    bands = [(f"z{lo}-{hi}", [(z, 1) for z in range(lo, hi + 1)])
             for lo, hi in [(0, 5), (6, 9), (10, 13), (14, 16)]]
    bands.append(("viewer mix z0-16", VIEWER_ZOOMS))
    rows, slowest = [], 0.0
    for band, zooms in bands:
        tiles = list(dict.fromkeys(viewer_paths(s.bounds, 20000, zooms, 2)))
        paths = [f"/tiles/{tid}/{z}/{x}/{y}" for z, x, y in tiles]
        before = cpu_seconds(s.proc.pid)
        rendered = s.metric("plantiles_tiles_rendered_total")
        r = wrk(s.base, paths, seconds, connections=16)
        rendered = s.metric("plantiles_tiles_rendered_total") - rendered
        served = r["requests"] / max(cpu_seconds(s.proc.pid) - before, 0.01)
        engine = engine_rate(data, tiles)
        slowest = max(slowest, r["max"])
        rows.append(("cold render", band, f"{r['rps']:,.0f} tiles/s",
                     f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.0f} ms",
                     f"{len(paths)} unique tiles, {r['errors']} errors, "
                     f"{rendered / max(r['requests'], 1):.0%} of requests rendered; {served:,.0f} tiles per "
                     f"server CPU-second, {served / engine:.0%} of the engine alone "
                     f"({engine:,.0f})"))
    s.stop()
    print(f"slowest cold request: {slowest:.0f} ms (target: none over 1,000 ms)", file=sys.stderr)
    return rows


def burst_of_one(data, tid):
    """3. A burst for one cold tile."""
    s = Server(data, 512)
    z, x, y = tile_of((s.bounds[0] + s.bounds[2]) / 2, (s.bounds[1] + s.bounds[3]) / 2, 14)
    statuses = burst(s.base, f"/tiles/{tid}/{z}/{x}/{y}")
    renders = s.metric("plantiles_tiles_rendered_total")
    ok = sum(1 for st in statuses if st == 200)
    s.stop()
    return [("burst", "256 requests, one cold z14 tile", f"{renders:.0f} render", f"{ok}/256 answered 200", "")]


def readiness(parcels):
    """4. Readiness at a larger size, from a cold page cache where this
    user may drop it (root)."""
    data = generated(parcels)
    dropped = drop_page_cache()
    s = Server(data, 512)
    s.stop()
    return [("ready", f"{parcels:,} parcels", f"{s.ready_s:.2f} s", f"RSS {s.rss_mb:.0f} MB",
             "cold page cache" if dropped else "page cache as found")]


def generated(parcels):
    """The folder of a generated province, made the first time."""
    data = os.path.join(ROOT, f"data/p{parcels}")
    if not os.path.exists(os.path.join(data, "parcels.fgb")):
        subprocess.run([BIN, "generate", "--out", data, "--parcels", str(parcels)], check=True)
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--big", type=int, default=0, help="also measure readiness at this many parcels")
    ap.add_argument("--only", choices=["cached", "cold", "burst", "ready"], help="run one test")
    args = ap.parse_args()
    data = generated(args.parcels)
    tid = os.path.basename(data)
    rows = []
    if args.only in (None, "cached"):
        rows += cached_vs_ceiling(data, tid, args.seconds)
    if args.only in (None, "cold"):
        rows += cold(data, tid, args.seconds)
    if args.only in (None, "burst"):
        rows += burst_of_one(data, tid)
    if args.only in (None, "ready") and args.big:
        rows += readiness(args.big)
    return report(rows)


def drop_page_cache():
    """Empties the kernel's page cache; False when not allowed."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def report(rows):
    print("| test | case | result | latency / memory | note |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    sys.exit(main())
