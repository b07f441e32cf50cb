"""Reading the Access `.mdb` of a package (权属数据) with mdbtools (Debian package `mdbtools`).

mdbtools is the maintained Jet/ACE reader on Linux (access-parser is pure Python and about a hundred
times slower on a county's 500,000 contract-parcel rows). We run its command-line tools, not its C
library: `mdb-tables` for the names, `mdb-json` for the rows (one JSON object per row, NULL columns
left out, text as UTF-8 whatever the file stores), `mdb-count` for the row count the table definition
declares. mdbtools only warns on stderr when pages are missing and returns the rows it could reach,
so a truncated file would import half its households: any message on stderr, or fewer rows than the
table declares, rejects the file.
"""

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .package import PackageError

MAGICS = (b"Standard Jet DB", b"Standard ACE DB")
PAGE_SIZES = {0: 2048}  # Jet 3 (Access 97); every later version uses 4096
TIMEOUT_S = 600


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PackageError(
            f"服务器未安装 mdbtools，无法读取 .mdb（{name}）", f"mdbtools is not installed: cannot read .mdb ({name})"
        )
    return path


def _run(args: list[str], path: Path) -> str:
    env = dict(os.environ, MDB_JET3_CHARSET="CP936", MDBOPTS="")  # Access 97 files from Chinese Windows: GBK
    try:
        done = subprocess.run(  # noqa: S603 (a list of arguments, no shell: the path cannot inject a command)
            args, capture_output=True, env=env, timeout=TIMEOUT_S, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise PackageError(f"读取 {path.name} 超时", f"reading {path.name} timed out") from None
    err = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0 or err:
        first = (err.splitlines() or [f"exit status {done.returncode}"])[0][:200]
        raise PackageError(
            f"{path.name} 已损坏或不完整，无法读取（{first}）", f"{path.name} is damaged or truncated: {first}"
        )
    return done.stdout.decode("utf-8", "replace")


def check_header(path: Path) -> None:
    """The file is an Access database of whole pages (a file cut short mid-page is refused here)."""
    with path.open("rb") as f:
        head = f.read(0x15)
    if len(head) < 0x15 or head[:4] != b"\x00\x01\x00\x00" or head[4:19] not in MAGICS:
        raise PackageError(f"{path.name} 不是 Access 数据库", f"{path.name} is not an Access database")
    page = PAGE_SIZES.get(head[0x14], 4096)
    size = path.stat().st_size
    if size < 3 * page or size % page:
        raise PackageError(
            f"{path.name} 不完整（{size} 字节，不是整页）", f"{path.name} is truncated ({size} bytes, not whole pages)"
        )


def table_names(path: Path) -> list[str]:
    check_header(path)
    return [n for n in _run([_tool("mdb-tables"), "-1", str(path)], path).splitlines() if n.strip()]


def read_table(path: Path, table: str) -> list[dict[str, Any]]:
    """Rows as dicts: text as str, numbers as int/float, dates as 'YYYY-MM-DD[ HH:MM:SS]'; NULL columns absent."""
    out = _run([_tool("mdb-json"), "-D", "%Y-%m-%d", "-T", "%Y-%m-%d %H:%M:%S", str(path), table], path)
    try:
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise PackageError(f"{path.name} 的表 {table} 无法解析：{exc}", f"cannot parse table {table}: {exc}") from None
    declared = _run([_tool("mdb-count"), str(path), table], path).strip()
    if not declared.isdigit() or int(declared) != len(rows):
        raise PackageError(
            f"{path.name} 的表 {table} 不完整：声明 {declared} 行，只读到 {len(rows)} 行",
            f"table {table} of {path.name} is incomplete: {declared} rows declared, {len(rows)} read",
        )
    return rows


def read_tables(path: Path, names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The named tables that the file holds; table and column names matched without regard to case (the
    standard's upper-case names are the keys)."""
    present = {n.upper(): n for n in table_names(path)}
    return {
        name: [{k.upper(): v for k, v in row.items()} for row in read_table(path, present[name.upper()])]
        for name in names
        if name.upper() in present
    }
