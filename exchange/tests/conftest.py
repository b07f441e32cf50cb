"""The demo county's 确权 package, exported once per test module (an export takes about a second) and
copied for each test, which may change its copy freely."""

import shutil
from pathlib import Path

import pytest

from conftest import COUNTY
from exchange.export import package_export

YEAR = 2026


@pytest.fixture(scope="module")
def exported_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """The package of the session's demo county, as committed (no test's changes in it)."""
    with django_db_blocker.unblock():
        return package_export(
            actor=None,
            county_code=COUNTY,
            out_dir=tmp_path_factory.mktemp("export"),
            year=YEAR,
            progress=lambda m: None,
        ).folder


@pytest.fixture
def exported(demo, exported_once: Path, tmp_path: Path) -> Path:
    """This test's own copy of the package (the folder keeps its name, which the importer reads)."""
    return Path(shutil.copytree(exported_once, tmp_path / "out" / exported_once.name))
