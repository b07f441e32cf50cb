"""The calendar shipped with the platform: the State Council arrangements 2022–2026 (holiday-cn, MIT) and
Guangxi's 壮族三月三 2022–2025 (publicity/data/SOURCES.md). Loaded by a data migration; idempotent."""

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


def national_years() -> dict[int, dict[str, Any]]:
    out = {}
    for f in sorted((DATA / "holidays_cn").glob("holiday-cn_*.json")):
        doc = json.loads(f.read_text(encoding="utf-8"))
        out[int(doc["year"])] = doc
    return out


def load_defaults(year_model: Any, day_model: Any) -> None:
    """Fill the two tables (models passed in, so that a migration can use its historical ones)."""
    for year, doc in national_years().items():
        year_model.objects.get_or_create(
            year=year, region_prefix="", defaults={"source": f"国务院办公厅通知 {doc['papers'][0]}（holiday-cn）"}
        )
        for d in doc["days"]:
            day_model.objects.update_or_create(
                date=d["date"], region_prefix="", defaults={"off": d["isOffDay"], "name": d["name"]}
            )
    regional = json.loads((DATA / "guangxi_sanyuesan.json").read_text(encoding="utf-8"))
    prefix = regional["region_prefix"]
    for year, days in regional["years"].items():
        year_model.objects.get_or_create(year=int(year), region_prefix=prefix, defaults={"source": regional["source"]})
        for off, dates in ((True, days["off"]), (False, days["work"])):
            for d in dates:
                day_model.objects.update_or_create(
                    date=d, region_prefix=prefix, defaults={"off": off, "name": regional["name"]}
                )
