"""Opening uploaded GIS files safely, for every app that takes them (packages, survey results): zips
checked for path traversal, links and zip bombs before anything is extracted, and a shapefile's DBF text
encoding (its .cpg, else detected). Each function raises the caller's typed error class, so a package
import still says PackageError and a survey upload SurveyFileError."""

import zipfile
from pathlib import Path, PurePosixPath

from .errors import DomainError


class FileError(DomainError):
    default_code = "file_invalid"


# Limits for uploaded zips: far above a county's package (a few GB with imagery), far below a bomb.
MAX_UNCOMPRESSED_BYTES = 8 * 1024**3
MAX_RATIO = 200  # uncompressed / compressed, per entry
MAX_ENTRIES = 20000


def zip_entry_name(info: zipfile.ZipInfo) -> str:
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


def check_zip(
    zf: zipfile.ZipFile,
    *,
    error: type[DomainError] = FileError,
    max_bytes: int = MAX_UNCOMPRESSED_BYTES,
    max_entries: int = MAX_ENTRIES,
) -> list[tuple[zipfile.ZipInfo, str]]:
    """Every entry with its safe relative name; `error` for a path outside the folder, a link, too many
    entries, too many bytes in all, or a compression ratio no real file has."""
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise error(f"压缩包文件过多（{len(infos)} 个）", f"the zip holds too many files ({len(infos)})")
    total = 0
    entries = []
    for info in infos:
        name = zip_entry_name(info)
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or (name[:2].endswith(":")):
            raise error(f"压缩包内有非法路径：{name}", f"the zip holds an unsafe path: {name}")
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise error(f"压缩包内有符号链接：{name}", f"the zip holds a symbolic link: {name}")
        total += info.file_size
        if total > max_bytes:
            raise error("压缩包解压后过大", "the zip expands beyond the size limit")
        if info.file_size > 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise error(
                f"压缩包内文件压缩比异常（{name}），疑似压缩炸弹", f"suspicious compression ratio in {name} (zip bomb?)"
            )
        entries.append((info, str(path)))
    return entries


def extract_zip(
    zip_path: Path, dest: Path, *, error: type[DomainError] = FileError, max_bytes: int = MAX_UNCOMPRESSED_BYTES
) -> None:
    """Extract a checked zip into `dest`, counting the bytes that really come out (headers can lie)."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info, name in check_zip(zf, error=error, max_bytes=max_bytes):
                target = dest / name
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1024 * 1024):
                        written += len(chunk)
                        if written > info.file_size:
                            raise error(f"压缩包内文件大小不符：{name}", f"{name} is larger than declared")
                        out.write(chunk)
    except zipfile.BadZipFile:
        raise error("无法读取压缩包（文件损坏或不是 zip）", "the file is not a readable zip") from None


CPG_ENCODINGS = {
    "GBK": "GBK",
    "936": "GBK",
    "CP936": "GBK",
    "GB2312": "GBK",
    "GB18030": "GB18030",
    "UTF-8": "UTF-8",
    "UTF8": "UTF-8",
    "65001": "UTF-8",
}


def shapefile_encoding(shp: Path, *, error: type[DomainError] = FileError) -> str:
    """The DBF's text encoding: from the .cpg, else detected (UTF-8 if it decodes strictly, else GBK)."""
    cpg = shp.with_suffix(".cpg")
    if cpg.exists():
        code = cpg.read_text(errors="replace").strip().upper()
        if code in CPG_ENCODINGS:
            return CPG_ENCODINGS[code]
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
        raise error(
            f"{shp.name} 的属性表编码无法识别（不是 GBK 或 UTF-8）",
            f"the text encoding of {shp.name}'s DBF is neither GBK nor UTF-8",
        ) from None
