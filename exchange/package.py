"""Opening an NY/T 2539 package safely: a folder, or a zip checked for path traversal and zip bombs
before anything is extracted; finding its layers; reading a layer's CRS and DBF encoding.
"""

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as ET
from pyproj import CRS
from pyproj.exceptions import CRSError

from spatial.errors import DomainError
from spatial.measure import GK3_SRIDS, STORAGE_SRID

# Limits for uploaded zips: far above a county's package (a few GB with imagery), far below a bomb.
MAX_UNCOMPRESSED_BYTES = 8 * 1024**3
MAX_RATIO = 200  # uncompressed / compressed, per entry
MAX_ENTRIES = 20000
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


def _entry_name(info: zipfile.ZipInfo) -> str:
    """Names without the UTF-8 flag are read by Python as cp437. Info-ZIP on Linux stores UTF-8 that way,
    zips made on Chinese Windows store GBK: try UTF-8 first (GBK bytes are rarely valid UTF-8), then GBK."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _check_zip(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise PackageError(f"压缩包文件过多（{len(infos)} 个）", f"the zip holds too many files ({len(infos)})")
    total = 0
    entries = []
    for info in infos:
        name = _entry_name(info)
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or (name[:2].endswith(":")):
            raise PackageError(f"压缩包内有非法路径：{name}", f"the zip holds an unsafe path: {name}")
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise PackageError(f"压缩包内有符号链接：{name}", f"the zip holds a symbolic link: {name}")
        total += info.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise PackageError("压缩包解压后过大", "the zip expands beyond the size limit")
        if info.file_size > 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PackageError(
                f"压缩包内文件压缩比异常（{name}），疑似压缩炸弹", f"suspicious compression ratio in {name} (zip bomb?)"
            )
        entries.append((info, str(path)))
    return entries


def _extract(zip_path: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info, name in _check_zip(zf):
                target = dest / name
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with zf.open(info) as src, open(target, "wb") as out:
                    # The header's sizes can lie: count what really comes out.
                    while chunk := src.read(1024 * 1024):
                        written += len(chunk)
                        if written > info.file_size:
                            raise PackageError(f"压缩包内文件大小不符：{name}", f"{name} is larger than declared")
                        out.write(chunk)
    except zipfile.BadZipFile:
        raise PackageError("无法读取压缩包（文件损坏或不是 zip）", "the file is not a readable zip") from None


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


_CPG = {
    "GBK": "GBK",
    "936": "GBK",
    "CP936": "GBK",
    "GB2312": "GBK",
    "GB18030": "GB18030",
    "UTF-8": "UTF-8",
    "UTF8": "UTF-8",
    "65001": "UTF-8",
}


def layer_encoding(shp: Path) -> str:
    """The DBF's text encoding: from the .cpg, else detected (UTF-8 if it decodes strictly, else GBK)."""
    cpg = shp.with_suffix(".cpg")
    if cpg.exists():
        code = cpg.read_text(errors="replace").strip().upper()
        if code in _CPG:
            return _CPG[code]
    dbf = shp.with_suffix(".dbf").read_bytes()
    header_len = int.from_bytes(dbf[8:10], "little") if len(dbf) > 10 else 0
    body = dbf[header_len:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        body.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        raise PackageError(
            f"{shp.name} 的属性表编码无法识别（不是 GBK 或 UTF-8）",
            f"the text encoding of {shp.name}'s DBF is neither GBK nor UTF-8",
        ) from None


def check_sidecars(shp: Path) -> None:
    for ext in (".shx", ".dbf"):
        if not shp.with_suffix(ext).exists():
            raise PackageError(f"{shp.name} 缺少 {ext} 文件", f"{shp.name} has no {ext} file")
