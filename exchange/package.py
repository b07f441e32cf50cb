"""Opening an NY/T 2539 package safely: a folder, or a zip checked for path traversal and zip bombs
before anything is extracted; finding its layers; reading a layer's CRS and DBF encoding.
"""

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as ET
from pyproj import CRS
from pyproj.exceptions import CRSError

from core.errors import DomainError
from core.files import MAX_UNCOMPRESSED_BYTES, extract_zip, shapefile_encoding
from spatial.measure import GK3_SRIDS, STORAGE_SRID

# CGCS2000: geographic, and the 3° Gauss-Kruger zones with (4513–4533) or without (4534–4554) zone prefix.
ALLOWED_SRIDS = {STORAGE_SRID, *GK3_SRIDS.values(), *range(4513, 4534)}
_COUNTY_DIR = re.compile(r"^(\d{6})")


class PackageError(DomainError):
    default_code = "package_invalid"


@dataclass
class Package:
    root: Path
    county: str

    def layer_path(self, name: str) -> Path | None:
        """The shapefile of layer `name` (DK, JZD, …) under 矢量数据, named {LAYER}{county}{year}.shp."""
        folder = self.root / "矢量数据"
        if not folder.is_dir():
            return None
        pattern = re.compile(rf"^{name}{self.county}\d{{4}}\.shp$", re.IGNORECASE)
        found = sorted(p for p in folder.iterdir() if pattern.match(p.name))
        return found[-1] if found else None  # the newest year when several are present

    def layer_srid(self, shp: Path) -> int:
        """A layer's CRS: its .prj, or the metadata XML's when it has none."""
        return layer_srid(shp, metadata_srid(self.root) if not shp.with_suffix(".prj").exists() else None)


def _extract(zip_path: Path, dest: Path) -> None:
    extract_zip(zip_path, dest, error=PackageError, max_bytes=MAX_UNCOMPRESSED_BYTES)


def _find_root(base: Path) -> tuple[Path, str]:
    """The package folder: `base` itself or the one folder inside it whose name starts with a county code."""
    candidates = [base, *sorted(p for p in base.iterdir() if p.is_dir())]
    for c in candidates:
        m = _COUNTY_DIR.match(c.name)
        if m and (c / "矢量数据").is_dir():
            return c, m.group(1)
    raise PackageError(
        "找不到数据包文件夹（应以 6 位县级代码开头，并含“矢量数据”）",
        "no package folder found (its name starts with the 6-digit county code and it holds 矢量数据)",
    )


@contextmanager
def open_package(path: Path) -> Iterator[Package]:
    path = Path(path)
    if not path.exists():
        raise PackageError(f"找不到 {path}", f"{path} does not exist")
    if path.is_dir():
        root, county = _find_root(path)
        yield Package(root, county)
        return
    tmp = Path(tempfile.mkdtemp(prefix="tianjie-package-"))
    try:
        _extract(path, tmp)
        root, county = _find_root(tmp)
        yield Package(root, county)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


MAX_METADATA_BYTES = 1_000_000


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def metadata_srid(root: Path) -> int | None:
    """The plane of the package's metadata XML (元数据/SL….xml, `refSysInfo`): an `epsg` element, or the
    datum (001 = CGCS2000), central meridian, false easting and zone width (002 = 3°) read as the 3°
    Gauss-Kruger zone they describe (with the zone number in the easting when the false easting has it).
    None when there is no such file or it does not describe a CGCS2000 3° zone."""
    folder = root / "元数据"
    files = sorted(folder.glob("*.xml")) + sorted(folder.glob("*.XML")) if folder.is_dir() else []
    for path in files:
        if path.stat().st_size > MAX_METADATA_BYTES:
            continue
        try:  # defusedxml: no entity expansion, no external entities (the file comes from an upload)
            tree = ET.parse(path)
        except (ET.ParseError, DefusedXmlException):
            continue
        ref = next((e for e in tree.iter() if _local(e.tag) == "refsysinfo"), None)
        if ref is None:
            continue
        values = {_local(e.tag): (e.text or "").strip() for e in ref.iter()}
        datum, width = values.get("datum", "001"), values.get("zonewidth", "002")
        if (datum not in ("001", "1") and "2000" not in datum) or width not in ("002", "2", "3"):
            return None
        if values.get("epsg", "").isdigit():
            return int(values["epsg"]) if int(values["epsg"]) in ALLOWED_SRIDS else None
        try:
            cm, easting = float(values["centralmeridian"]), float(values.get("falseeasting", "500000"))
        except (KeyError, ValueError):
            return None
        cm_int = round(cm)
        if cm_int not in GK3_SRIDS or abs(cm - cm_int) > 1e-9:
            return None
        if easting >= 1_000_000:  # 38500000: the zone number (cm / 3) in front of the easting
            zone = int(easting // 1_000_000)
            return 4513 + zone - 25 if zone == cm_int // 3 and 4513 + zone - 25 in ALLOWED_SRIDS else None
        return GK3_SRIDS[cm_int] if easting == 500_000 else None
    return None


def layer_srid(shp: Path, fallback: int | None = None) -> int:
    """The EPSG code of a layer's .prj, which must be CGCS2000 (geographic or a 3° Gauss-Kruger zone); a
    layer without a .prj takes `fallback` (the metadata XML's plane) when there is one."""
    prj = shp.with_suffix(".prj")
    if not prj.exists():
        if fallback is not None:
            return fallback
        raise PackageError(
            f"{shp.name} 缺少 .prj 坐标系文件，元数据中也没有坐标系",
            f"{shp.name} has no .prj file and the metadata XML gives no reference system",
        )
    try:
        epsg = CRS.from_wkt(prj.read_text(errors="replace")).to_epsg(min_confidence=70)
    except CRSError:
        epsg = None
    if epsg is None or epsg not in ALLOWED_SRIDS:
        raise PackageError(
            f"{shp.name} 的坐标系不是 CGCS2000 或其 3 度带高斯-克吕格投影（识别为 EPSG:{epsg}）",
            f"{shp.name} is not in CGCS2000 or one of its 3° Gauss-Kruger zones (read as EPSG:{epsg})",
        )
    return epsg


def layer_encoding(shp: Path) -> str:
    """The DBF's text encoding: from the .cpg, else detected (UTF-8 if it decodes strictly, else GBK)."""
    return shapefile_encoding(shp, error=PackageError)


def check_sidecars(shp: Path) -> None:
    for ext in (".shx", ".dbf"):
        if not shp.with_suffix(ext).exists():
            raise PackageError(f"{shp.name} 缺少 {ext} 文件", f"{shp.name} has no {ext} file")
