"""Benchmark: importing a 500,000-parcel package, against ogr2ogr loading the same DK shapefile.

    .venv/bin/python bench/import_package.py [--package DIR]

Needs `make services` and the bench database of bench/run.py (`tianjie_bench`, a generated county), from
which it exports the package unless --package is given. In one run it then times:
  * Tianjie: `manage.py import_qq_package PACKAGE` into a new empty database (DK, regions, and the
    tables: households, members, contracts, contract parcels, certificates), validation included;
  * Tianjie, DK only: the same package without its attribute tables (权属数据), the like-for-like peer;
  * ogr2ogr: `ogr2ogr -f PostgreSQL --config PG_USE_COPY YES` of the DK shapefile alone into another
    new database (no validation, no tables): the raw-load floor;
  * the overlap check alone (exchange.quality.check_dk) over the package's parcels.
Results go to bench/out/import.json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from run import psql_args  # noqa: E402 - the benchmarks share their psql invocation

OUT = ROOT / "bench" / "out"


def psql(*args: str, db: str = "postgres") -> str:
    return subprocess.run([*psql_args(), *args, db], check=True, capture_output=True, text=True).stdout


def fresh_db(name: str) -> None:
    psql("-c", f"DROP DATABASE IF EXISTS {name}")
    psql("-c", f"CREATE DATABASE {name}")
    psql("-c", "CREATE EXTENSION postgis", db=name)


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", help="an exported package folder (default: export tianjie_bench)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    base = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.local", TIANJIE_DEBUG="0")
    py = sys.executable
    result: dict = {}

    package = Path(args.package) if args.package else None
    if package is None:
        target = OUT / "package"
        result["export_seconds"] = round(
            timed(
                [py, "manage.py", "export_qq_package", str(target), "--county", "450326"],
                dict(base, TIANJIE_DB_NAME="tianjie_bench"),
            ),
            1,
        )
        package = next(target.iterdir())
    dk = next((package / "矢量数据").glob("DK*.shp"))

    fresh_db("tianjie_import")
    env = dict(base, TIANJIE_DB_NAME="tianjie_import")
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], check=True, env=env, cwd=ROOT)
    result["tianjie_import_seconds"] = round(timed([py, "manage.py", "import_qq_package", str(package)], env), 1)
    counts = psql(
        "-tA",
        "-c",
        "SELECT (SELECT count(*) FROM spatial_parcel), (SELECT count(*) FROM "
        "contracts_contractor), (SELECT count(*) FROM contracts_familymember)",
        db="tianjie_import",
    )
    result["tianjie_rows"] = dict(
        zip(["parcels", "households", "members"], map(int, counts.strip().split("|")), strict=True)
    )

    # Like for like with ogr2ogr: the same package without its attribute tables (DK, regions), validated.
    dk_only = OUT / "package-dk-only" / package.name
    if dk_only.parent.exists():
        shutil.rmtree(dk_only.parent)
    shutil.copytree(package, dk_only, ignore=shutil.ignore_patterns("权属数据"))
    fresh_db("tianjie_import_dk")
    env_dk = dict(base, TIANJIE_DB_NAME="tianjie_import_dk")
    subprocess.run([py, "manage.py", "migrate", "-v", "0"], check=True, env=env_dk, cwd=ROOT)
    result["tianjie_import_dk_only_seconds"] = round(
        timed([py, "manage.py", "import_qq_package", str(dk_only)], env_dk), 1
    )
    shutil.rmtree(dk_only.parent)

    fresh_db("tianjie_ogr")
    pg = (
        f"PG:host={os.environ['TIANJIE_DB_HOST']} port={os.environ['TIANJIE_DB_PORT']} user=postgres dbname=tianjie_ogr"
    )
    result["ogr2ogr_seconds"] = round(
        timed(
            [
                "ogr2ogr",
                "-f",
                "PostgreSQL",
                "--config",
                "PG_USE_COPY",
                "YES",
                pg,
                str(dk),
                "-nln",
                "dk",
                "-lco",
                "GEOMETRY_NAME=geom",
                "-nlt",
                "PROMOTE_TO_MULTI",
            ],
            base,
        ),
        1,
    )
    result["ratio_tianjie_to_ogr2ogr"] = round(result["tianjie_import_seconds"] / result["ogr2ogr_seconds"], 2)
    result["ratio_dk_only_to_ogr2ogr"] = round(result["tianjie_import_dk_only_seconds"] / result["ogr2ogr_seconds"], 2)

    # The overlap and adjacency check alone, in this process.
    os.environ.update(TIANJIE_DB_NAME="tianjie_import", DJANGO_SETTINGS_MODULE="config.settings.local")
    import django

    django.setup()
    from exchange.importer import _read_dk
    from exchange.quality import Report, check_dk

    records, geoms = _read_dk(dk, "GBK")
    t0 = time.monotonic()
    check_dk(Report(county="450326"), records, geoms)
    result["quality_check_seconds"] = round(time.monotonic() - t0, 1)
    (OUT / "import.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
