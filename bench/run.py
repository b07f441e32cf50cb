"""Benchmarks for the foundation issue: demo_county generation rate and parcel tile latency.

    make bench                      # 500,000 parcels, 100 tiles per zoom
    .venv/bin/python bench/run.py --parcels 50000 --tiles 30 --keep   # quicker, reuse the database

It needs the private services (`make services`). It loads a county into its own database
`tianjie_bench`, then times the same tiles three ways in one run:
  * Tianjie: GET /tiles/parcels/z/x/y.mvt through gunicorn (1 gthread worker, keep-alive, logged-in session);
  * bare:    the identical SQL (spatial.selectors.parcel_tile_sql) run by psql with \\timing — the floor;
  * tipg:    the `tipg` package (a separate virtualenv, pinned in bench/requirements-tipg.txt) serving the
             same table's geom_3857 with the same properties through uvicorn (1 worker, keep-alive).
Results go to bench/out/tiles.json and are printed as the Markdown table of docs/BENCHMARKS.md.
"""

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
DB = "tianjie_bench"
ZOOMS = (12, 14, 16)


def sh(*args: str, env: dict | None = None, capture: bool = False) -> str:
    res = subprocess.run(args, env=env, check=True, text=True, capture_output=capture, cwd=ROOT)
    return res.stdout if capture else ""


def psql_args() -> list[str]:
    return [
        "psql",
        "-X",
        "-q",
        "-h",
        os.environ["TIANJIE_DB_HOST"],
        "-p",
        os.environ["TIANJIE_DB_PORT"],
        "-U",
        "postgres",
    ]


def bench_env() -> dict:
    env = dict(os.environ, TIANJIE_DB_NAME=DB, DJANGO_SETTINGS_MODULE="config.settings.local", TIANJIE_DEBUG="0")
    return env


def generate(parcels: int, keep: bool) -> dict:
    exists = sh(*psql_args(), "-tAc", f"select 1 from pg_database where datname='{DB}'", "postgres", capture=True)
    if keep and exists.strip() == "1":
        print(f"reusing database {DB}")
        return {}
    sh(*psql_args(), "-c", f"drop database if exists {DB}", "postgres")
    sh(*psql_args(), "-c", f"create database {DB}", "postgres")
    sh(*psql_args(), "-c", "create extension postgis", DB)
    env = bench_env()
    sh(sys.executable, "manage.py", "migrate", "-v", "0", env=env)
    t0 = time.monotonic()
    out = sh(
        sys.executable,
        "manage.py",
        "demo_county",
        "--county",
        "450326",
        "--parcels",
        str(parcels),
        "--seed",
        "1",
        env=env,
        capture=True,
    )
    seconds = time.monotonic() - t0
    print(out)
    sh(*psql_args(), "-c", "VACUUM ANALYZE", DB)
    return {"parcels": parcels, "seconds": round(seconds, 1), "parcels_per_second": round(parcels / seconds)}


def pick_tiles(n: int, seed: int = 42) -> dict[int, list[tuple[int, int, int]]]:
    """n distinct tiles per zoom, each holding at least one parcel (tiles over fields, as users look at)."""
    from conftest import lonlat_to_tile

    rows = sh(
        *psql_args(),
        "-tA",
        "-F",
        ",",
        "-c",
        "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM spatial_parcel "
        "TABLESAMPLE SYSTEM (2) REPEATABLE (7)) s",
        DB,
        capture=True,
    )
    pts = [tuple(map(float, r.split(","))) for r in rows.split()]
    rnd = random.Random(seed)
    rnd.shuffle(pts)
    tiles: dict[int, list[tuple[int, int, int]]] = {}
    for z in ZOOMS:
        seen: list[tuple[int, int, int]] = []
        for lon, lat in pts:
            x, y = lonlat_to_tile(lon, lat, z)
            if (z, x, y) not in seen:
                seen.append((z, x, y))
            if len(seen) == n:
                break
        tiles[z] = seen
    return tiles


def wait_http(port: int, path: str, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def session_cookie(username: str = "county") -> str:
    os.environ.update(TIANJIE_DB_NAME=DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore

    from accounts.models import User

    user = User.objects.get(username=username)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return f"sessionid={s.session_key}"


def time_http(port: int, paths: list[str], headers: dict) -> tuple[list[float], list[int]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, sizes = [], []
    for p in paths:
        t0 = time.perf_counter()
        conn.request("GET", p, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            raise RuntimeError(f"{p}: HTTP {resp.status} {body[:200]!r}")
        sizes.append(len(body))
    conn.close()
    return times, sizes


def time_psql(tiles: list[tuple[int, int, int]]) -> list[float]:
    from django.conf import settings  # noqa: F401 - settings are configured by session_cookie()

    from spatial.selectors import parcel_tile_sql

    lines = ["\\timing on", "SET max_parallel_workers_per_gather = 0;", "\\o /dev/null"]
    for z, x, y in tiles:
        sql = parcel_tile_sql(z) % {"z": z, "x": x, "y": y, "prefixes": "ARRAY['450326%']"}
        lines.append(sql.strip() + ";")
    script = OUT / "bare.sql"
    script.write_text("\n".join(lines) + "\n")
    out = sh(*psql_args(), "-f", str(script), DB, capture=True)
    return [float(m) for m in re.findall(r"^Time: ([\d.]+) ms", out, flags=re.M)][1:]  # first is the SET


def start_gunicorn(env: dict, port: int = 18001) -> subprocess.Popen:
    """Tianjie as deployed: gunicorn on config.wsgi, one process, one thread, keep-alive."""
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi:application",
            "--no-control-socket",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "-k",
            "gthread",
            "--threads",
            "1",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )


def uvicorn(name: str, requirements: str) -> str:
    """uvicorn of a peer's own virtualenv (made on first use from its pinned requirements)."""
    venv = ROOT / ".tianjie" / f"bench-{name}"
    if not (venv / "bin" / "uvicorn").exists():
        sh(sys.executable, "-m", "venv", str(venv))
        sh(str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", "-r", str(ROOT / requirements))
    return str(venv / "bin" / "uvicorn")


def start_tipg(extra: dict, port: int = 18002) -> subprocess.Popen:
    """tipg on the bench database's parcel table, one uvicorn worker."""
    env = dict(
        os.environ,
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{os.environ['TIANJIE_DB_PORT']}/{DB}",
        TIPG_DB_TABLES='["public.spatial_parcel"]',
        TIPG_DB_SPATIAL_EXTENT="false",
        TIPG_DB_DATETIME_EXTENT="false",
        PGOPTIONS="-c max_parallel_workers_per_gather=0",
        **extra,
    )
    return subprocess.Popen(
        [
            uvicorn("tipg", "bench/requirements-tipg.txt"),
            "tipg.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=OUT,
    )


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=500_000)
    ap.add_argument("--tiles", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the tiles after one warm-up pass")
    ap.add_argument("--keep", action="store_true", help="reuse an existing bench database")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    result: dict = {"generation": generate(args.parcels, args.keep)}
    tiles = pick_tiles(args.tiles)
    cookie = session_cookie()

    web = start_gunicorn(bench_env())
    tipg = start_tipg({"TIPG_MAX_FEATURES_PER_TILE": "1000000"})
    try:
        wait_http(18001, "/healthz")
        wait_http(18002, "/collections")
        rows: dict[int, dict] = {}
        for z in ZOOMS:
            ours = [f"/tiles/parcels/{z}/{x}/{y}.mvt" for (_, x, y) in tiles[z]]
            props = "id,dklb,tdlylx" if z < 16 else "id,dkbm,dkmc,dklb,tdlylx,scmjm"
            theirs = [
                f"/collections/public.spatial_parcel/tiles/WebMercatorQuad/{z}/{x}/{y}"
                f"?geom-column=geom_3857&properties={props}"
                for (_, x, y) in tiles[z]
            ]
            # One warm-up pass each (connections, PROJ start-up, page cache), then timed rounds interleaved.
            first_ours, _ = time_http(18001, ours, {"Cookie": cookie})
            first_tipg, _ = time_http(18002, theirs, {})
            first_bare = time_psql(tiles[z])
            t_ours, t_bare, t_tipg, size_ours, size_tipg = [], [], [], [], []
            for _ in range(args.rounds):
                a, sa = time_http(18001, ours, {"Cookie": cookie})
                b = time_psql(tiles[z])
                c, sc = time_http(18002, theirs, {})
                t_ours += a
                t_bare += b
                t_tipg += c
                size_ours, size_tipg = sa, sc
            rows[z] = {
                "tiles": len(tiles[z]),
                "tianjie_p50": pct(t_ours, 0.5),
                "tianjie_p95": pct(t_ours, 0.95),
                "bare_p50": pct(t_bare, 0.5),
                "bare_p95": pct(t_bare, 0.95),
                "tipg_p50": pct(t_tipg, 0.5),
                "tipg_p95": pct(t_tipg, 0.95),
                "first_pass_p50": {
                    "tianjie": pct(first_ours, 0.5),
                    "bare": pct(first_bare, 0.5),
                    "tipg": pct(first_tipg, 0.5),
                },
                "tianjie_kb_mean": statistics.mean(size_ours) / 1024,
                "tipg_kb_mean": statistics.mean(size_tipg) / 1024,
            }
        result["tiles"] = rows
    finally:
        web.terminate()
        tipg.terminate()
        web.wait()
        tipg.wait()
    (OUT / "tiles.json").write_text(json.dumps(result, indent=2))
    gen = result["generation"]
    if gen:
        print(f"\ndemo_county --parcels {gen['parcels']}: {gen['seconds']} s, {gen['parcels_per_second']:,} parcels/s")
    print(
        "\n| zoom | tiles | Tianjie p50 / p95 (ms) | bare SQL p50 / p95 | tipg p50 / p95 | Tianjie ÷ bare (p50) "
        "| Tianjie ÷ tipg (p50) | mean tile KB (Tianjie / tipg) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for z, r in rows.items():
        print(
            f"| {z} | {r['tiles']} | {r['tianjie_p50']:.1f} / {r['tianjie_p95']:.1f} | {r['bare_p50']:.1f} / "
            f"{r['bare_p95']:.1f} | {r['tipg_p50']:.1f} / {r['tipg_p95']:.1f} | "
            f"{r['tianjie_p50'] / r['bare_p50']:.2f} | {r['tianjie_p50'] / r['tipg_p50']:.2f} | "
            f"{r['tianjie_kb_mean']:.1f} / {r['tipg_kb_mean']:.1f} |"
        )
    print("\nFirst (warm-up) pass, p50 ms — Tianjie / bare / tipg:")
    for z, r in rows.items():
        f = r["first_pass_p50"]
        print(f"  z{z}: {f['tianjie']:.1f} / {f['bare']:.1f} / {f['tipg']:.1f}")


if __name__ == "__main__":
    main()
