"""Benchmarks for the imagery and GIS-client issue, each against its peer in the same run.

    make bench-gis                                   # after `make bench` made the 500,000-parcel database
    .venv/bin/python bench/features_imagery.py --rounds 3

It reuses the database of bench/run.py (`tianjie_bench`, 500,000 parcels; run that first) and starts:
  * Tianjie: gunicorn (1 gthread worker, 1 thread, keep-alive) on config.wsgi, as in production;
  * tipg:    the same table through tipg (bench/requirements-tipg.txt), uvicorn, 1 worker;
  * titiler: titiler.core's COG tiler (bench/requirements-titiler.txt), uvicorn, 1 worker, on the COG
             that Tianjie's ingest wrote.

OGC API - Features: pages of 1,000 parcels in boxes that hold at least 1,000, same boxes both sides,
Tianjie with an API token (a GIS client), tipg with the same properties and geometry column.
Imagery: the sample 3857 COG ingested into a fresh imagery folder; tiles over it at the native zoom and
two below. "Layer" tiles come from the MBTiles written at ingest (what the map asks for); "mosaic" tiles
are made on demand by MapProxy from those and cached on disk, so their first pass is the first request
and later passes are the cache; titiler renders every request from the COG.
Results go to bench/out/features_imagery.json and are printed as the tables of docs/BENCHMARKS.md.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from run import DB, OUT, ROOT, bench_env, pct, psql_args, sh, start_gunicorn, start_tipg, time_http, uvicorn, wait_http

SAMPLE = ROOT / "imagery" / "tests" / "fixtures" / "cogeo.tif"
IMAGERY = OUT / "imagery"
LAYER = "bench-aerial"
PROPS = "dkbm,dkmc,syqxz,dklb,tdlylx,dldj,tdyt,sfjbnt,scmj,scmjm,dkdz,dkxz,dknz,dkbz,version,valid_from"


QUIET = ("--log-level", "warning")


def token() -> str:
    os.environ.update(TIANJIE_DB_NAME=DB, TIANJIE_IMAGERY_ROOT=str(IMAGERY))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from accounts.models import User

    return Token.objects.get_or_create(user=User.objects.get(username="county"))[0].key


def boxes(n: int, size: float, seed: int = 11) -> list[tuple[float, float, float, float]]:
    """n boxes of `size` degrees around random parcels, each holding at least 1,000 current parcels."""
    rows = sh(
        *psql_args(),
        "-tA",
        "-F",
        ",",
        "-c",
        f"SELECT ST_X(c), ST_Y(c), (SELECT count(*) FROM spatial_parcel p WHERE p.valid_to IS NULL AND "
        f"p.geom && ST_Expand(c, {size / 2})) FROM (SELECT ST_PointOnSurface(geom) c FROM spatial_parcel "
        f"TABLESAMPLE SYSTEM (0.1) REPEATABLE ({seed})) s",
        DB,
        capture=True,
    )
    found = []
    for line in rows.split():
        x, y, count = line.split(",")
        if int(count) >= 1000:
            h = size / 2
            found.append((float(x) - h, float(y) - h, float(x) + h, float(y) + h))
    random.Random(seed).shuffle(found)
    if len(found) < n:
        raise RuntimeError(f"only {len(found)} boxes with 1,000 parcels; try a larger --box")
    return found[:n]


def ingest() -> Path:
    """The sample COG ingested as a layer of a fresh imagery folder (MapProxy's caches empty)."""
    shutil.rmtree(IMAGERY, ignore_errors=True)
    env = dict(bench_env(), TIANJIE_IMAGERY_ROOT=str(IMAGERY))
    sh(sys.executable, "manage.py", "migrate", "-v", "0", env=env)  # the database may predate later migrations
    sh(*psql_args(), "-c", f"DELETE FROM tiles_imagery WHERE name = '{LAYER}'", DB)
    sh(sys.executable, "manage.py", "ingest_imagery", str(SAMPLE), "--county", "450326", "--name", LAYER, env=env)
    return next(IMAGERY.glob(f"{LAYER}*.tif"))


def image_tiles(cog: Path) -> list[tuple[int, int, int]]:
    import morecantile
    import rasterio

    from imagery.mapproxy import native_zoom

    tms = morecantile.tms.get("WebMercatorQuad")
    with rasterio.open(cog) as src:
        b = src.bounds
    z = native_zoom(cog)
    west, south = tms.lnglat(b.left, b.bottom)
    east, north = tms.lnglat(b.right, b.top)
    eps = 1e-9
    return [
        (t.z, t.x, t.y)
        for zoom in (z, z - 1, z - 2)
        for t in tms.tiles(west + eps, south + eps, east - eps, north - eps, [zoom])
    ]


def geodetic_tiles(cog: Path) -> list[tuple[int, int, int]]:
    """The same area on the CGCS2000 grid (level l: 180 / 2**l degrees a tile, rows from the north), at the
    levels matching the Web Mercator zooms of image_tiles (level = zoom - 1)."""
    import math

    import rasterio
    from rasterio.warp import transform_bounds

    from imagery.mapproxy import native_zoom

    with rasterio.open(cog) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4490", *src.bounds)
    out = []
    z = native_zoom(cog)
    for level in (z - 1, z - 2, z - 3):
        size = 180 / 2**level
        for col in range(math.floor((west + 180) / size), math.floor((east + 180) / size) + 1):
            for row in range(math.floor((90 - north) / size), math.floor((90 - south) / size) + 1):
                out.append((level, col, row))
    return out


def summary(times: list[float]) -> dict:
    return {"n": len(times), "p50": round(pct(times, 0.5), 2), "p95": round(pct(times, 0.95), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=50, help="boxes of 1,000 parcels")
    ap.add_argument("--box", type=float, default=0.03, help="box size in degrees")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    cog = ingest()
    key = token()
    tiles = image_tiles(cog)
    pages = boxes(args.pages, args.box)

    web = start_gunicorn(dict(bench_env(), TIANJIE_IMAGERY_ROOT=str(IMAGERY)))
    tipg = start_tipg({})
    titiler = subprocess.Popen(
        [uvicorn("titiler", "bench/requirements-titiler.txt"), "titiler_app:app", "--port", "18003", *QUIET],
        env=dict(os.environ, GDAL_CACHEMAX="200", PYTHONPATH=str(ROOT / "bench")),
        cwd=OUT,
    )
    auth = {"Authorization": f"Token {key}"}
    result: dict = {"pages": len(pages), "box_degrees": args.box, "tiles": len(tiles), "rounds": args.rounds}
    try:
        wait_http(18001, "/healthz")
        wait_http(18002, "/collections")
        wait_http(18003, "/docs")

        # --- OGC API - Features, 1,000-parcel pages --------------------------------------------------------
        def bbox(b: tuple) -> str:
            return ",".join(f"{v:.6f}" for v in b)

        ours = [f"/ogc/collections/parcels/items?limit=1000&bbox={bbox(b)}" for b in pages]
        theirs = [
            f"/collections/public.spatial_parcel/items?limit=1000&bbox={bbox(b)}&properties={PROPS}&geom-column=geom"
            for b in pages
        ]
        first_ours, sizes_ours = time_http(18001, ours, auth)
        first_tipg, sizes_tipg = time_http(18002, theirs, {})
        t_ours, t_tipg = [], []
        for _ in range(args.rounds):
            t_ours += time_http(18001, ours, auth)[0]
            t_tipg += time_http(18002, theirs, {})[0]
        result["features"] = {
            "tianjie": summary(t_ours),
            "tipg": summary(t_tipg),
            "first_pass_p50": {"tianjie": round(pct(first_ours, 0.5), 2), "tipg": round(pct(first_tipg, 0.5), 2)},
            "mean_kb": {
                "tianjie": sum(sizes_ours) / len(sizes_ours) / 1024,
                "tipg": sum(sizes_tipg) / len(sizes_tipg) / 1024,
            },
        }

        # --- imagery tiles ------------------------------------------------------------------------------------
        cookie_auth = auth  # the first imagery request resolves the token in Django; later ones are the same
        layer = [f"/imagery/wmts/{LAYER}/webmercator/{z}/{x}/{y}.png" for z, x, y in tiles]
        mosaic = [f"/imagery/wmts/450326-mosaic/webmercator/{z}/{x}/{y}.png" for z, x, y in tiles]
        geodetic = [f"/imagery/wmts/{LAYER}/cgcs2000/{z}/{x}/{y}.png" for z, x, y in geodetic_tiles(cog)]
        peer = [f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={cog}" for z, x, y in tiles]
        time_http(18001, layer[:1], cookie_auth)  # MapProxy's app and its configuration loaded once
        mosaic_first = time_http(18001, mosaic, cookie_auth)[0]
        geodetic_first = time_http(18001, geodetic, cookie_auth)[0]
        titiler_first = time_http(18003, peer, {})[0]
        t_layer, t_mosaic, t_geodetic, t_titiler = [], [], [], []
        for _ in range(args.rounds):
            t_layer += time_http(18001, layer, cookie_auth)[0]
            t_mosaic += time_http(18001, mosaic, cookie_auth)[0]
            t_geodetic += time_http(18001, geodetic, cookie_auth)[0]
            t_titiler += time_http(18003, peer, {})[0]
        result["imagery"] = {
            "layer_tile": summary(t_layer),
            "mosaic_first_request": summary(mosaic_first),
            "mosaic_cached": summary(t_mosaic),
            "cgcs2000_first_request": summary(geodetic_first),
            "cgcs2000_cached": summary(t_geodetic),
            "titiler_first_pass": summary(titiler_first),
            "titiler": summary(t_titiler),
        }
    finally:
        for p in (web, tipg, titiler):
            p.terminate()
            p.wait()
    (OUT / "features_imagery.json").write_text(json.dumps(result, indent=2))
    f, im = result["features"], result["imagery"]
    print(f"\nOGC API - Features, {len(pages)} boxes × {args.rounds} rounds, 1,000 parcels a page (ms):")
    print("| | p50 | p95 | first pass p50 | mean page KB |\n|---|---|---|---|---|")
    for who in ("tianjie", "tipg"):
        print(f"| {who} | {f[who]['p50']} | {f[who]['p95']} | {f['first_pass_p50'][who]} | {f['mean_kb'][who]:.0f} |")
    print(f"Tianjie ÷ tipg (p50): {f['tianjie']['p50'] / f['tipg']['p50']:.2f}")
    print(f"\nImagery tiles, {len(tiles)} tiles × {args.rounds} rounds (ms):")
    print("| | p50 | p95 |\n|---|---|---|")
    for name, row in im.items():
        print(f"| {name} | {row['p50']} | {row['p95']} |")
    print(f"layer tile ÷ titiler (p50): {im['layer_tile']['p50'] / im['titiler']['p50']:.2f}")


if __name__ == "__main__":
    main()
