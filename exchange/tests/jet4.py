"""Write Access (Jet 4) `.mdb` files for tests: the attribute tables of a 确权 package as counties hold them.

No maintained library writes `.mdb` (mdbtools, access-parser, pyodbc on Linux only read), so the tests
build their own files from a real empty database made by Access (the `msaccessdb` package's template):
its header page, system catalogue (MSysObjects) and system tables are kept as they are, and each
table is appended as a table-definition page, data pages and a page of usage maps, with a row in
MSysObjects naming it. The layouts follow the Jet 4 format notes of mdbtools (HACKING) and the
structures of access-parser; `test_mdb.py` reads every file written here with both mdbtools and the
importer, and the file is only as good as those readers say.

Limits (enough for test packages, not a general writer): no indexes, no memo/OLE values, rows of
at most one page, text stored uncompressed as UTF-16-LE.
"""

import gzip
import importlib
import struct
from base64 import b64decode
from datetime import date, datetime
from pathlib import Path
from typing import Any

PAGE = 4096
ROW_COUNT = 0x0C  # data page: number of rows; the row offsets follow
TYPES = {"bool": 1, "short": 3, "long": 4, "double": 7, "date": 8, "text": 10}
SIZES = {"bool": 0, "short": 2, "long": 4, "double": 8, "date": 8}
ACCESS_EPOCH = datetime(1899, 12, 30)
TABLES_CONTAINER = 251658241  # MSysObjects Id of the "Tables" container in the template


class Column:
    def __init__(self, name: str, kind: str, num: int, *, size: int = 0, var_num: int = 0, offset: int = 0) -> None:
        self.name, self.kind, self.num = name, kind, num
        self.size, self.var_num, self.offset = size, var_num, offset

    @property
    def fixed(self) -> bool:
        return self.kind != "text" and self.kind not in {"binary", "memo", "ole"}


def _template() -> bytes:
    # dev requirement: the empty database Access itself wrote, kept as gzip + base64 in the module
    module = importlib.import_module("msaccessdb.create")
    return gzip.decompress(b64decode(module._mdb_gz_b64))


def _value(kind: str, v: Any) -> bytes:
    if kind == "short":
        return struct.pack("<h", int(v))
    if kind == "long":
        return struct.pack("<i", int(v))
    if kind == "double":
        return struct.pack("<d", float(v))
    if kind == "date":
        if isinstance(v, date) and not isinstance(v, datetime):
            v = datetime(v.year, v.month, v.day)
        return struct.pack("<d", (v - ACCESS_EPOCH).total_seconds() / 86400)
    if kind == "text":
        return str(v).encode("utf-16-le")
    if kind == "binary":
        return bytes(v)
    raise ValueError(kind)


def encode_row(columns: list[Column], num_cols: int, num_var: int, values: dict[str, Any]) -> bytes:
    """One Jet 4 record: column count, fixed part, variable part, end offset, variable offsets, var count, null mask."""
    fixed_len = max((c.offset + c.size for c in columns if c.fixed), default=0)
    fixed = bytearray(fixed_len)
    mask = bytearray((num_cols + 7) // 8)
    var_values: dict[int, bytes] = {}
    for c in columns:
        v = values.get(c.name)
        if v is None:
            continue
        if c.kind == "bool":
            if v:
                mask[c.num // 8] |= 1 << (c.num % 8)
            continue
        mask[c.num // 8] |= 1 << (c.num % 8)
        if c.fixed:
            fixed[c.offset : c.offset + c.size] = _value(c.kind, v)
        else:
            var_values[c.var_num] = _value(c.kind, v)
    body = bytearray(struct.pack("<H", num_cols)) + fixed
    offsets = []
    for i in range(num_var):
        offsets.append(len(body))
        body += var_values.get(i, b"")
    body += struct.pack("<H", len(body))  # end of the variable data
    for off in reversed(offsets):
        body += struct.pack("<H", off)
    body += struct.pack("<H", num_var) + mask
    return bytes(body)


def _data_pages(owner: int, rows: list[bytes]) -> list[bytes]:
    pages: list[list[bytes]] = [[]]
    for r in rows:
        used = 14 + sum(len(x) + 2 for x in pages[-1])
        if used + len(r) + 2 > PAGE:
            pages.append([])
        pages[-1].append(r)
    return [_data_page(owner, recs) for recs in pages if recs]


def _data_page(owner: int, recs: list[bytes]) -> bytes:
    page = bytearray(PAGE)
    end = PAGE
    offsets = []
    for r in recs:  # row 0 ends at the end of the page, each next row just before the previous one
        end -= len(r)
        page[end : end + len(r)] = r
        offsets.append(end)
    free = end - 14 - 2 * len(recs)
    if free < 0:
        raise ValueError("rows do not fit on one page")
    struct.pack_into("<BBHII H", page, 0, 1, 1, free, owner, 0, len(recs))
    for i, off in enumerate(offsets):
        struct.pack_into("<H", page, 14 + 2 * i, off)
    return bytes(page)


def _usage_map(pages: list[int]) -> bytes:
    """Type-0 usage map: the first page number, then one bit per page from it."""
    start = min(pages) if pages else 0
    bits = bytearray((max(pages) - start) // 8 + 1 if pages else 1)
    for p in pages:
        bits[(p - start) // 8] |= 1 << ((p - start) % 8)
    return b"\x00" + struct.pack("<I", start) + bytes(bits)


def _tdef_page(columns: list[Column], num_rows: int, used_map: int, free_map: int) -> bytes:
    n, nvar = len(columns), sum(not c.fixed for c in columns)
    body = bytearray()
    body += struct.pack("<IIIIIIII", 0, 0, num_rows, 0, 0, 0, 0, 0)  # len (set below), unknown, rows, autonumbers
    body += struct.pack("<BHHHIIII", 0x4E, n, nvar, n, 0, 0, used_map, free_map)
    for c in columns:
        flags = 0x02 | (0x01 if c.fixed else 0)  # nullable, fixed length
        misc = 0x0409 if c.kind == "text" else 0  # sort order: general
        body += struct.pack(
            "<BIHHHHHBBIHH",
            TYPES[c.kind],
            0,
            c.num,
            c.var_num if not c.fixed else 0,
            c.num,
            misc,
            0,
            flags,
            0,
            0,
            c.offset if c.fixed else 0,
            c.size,
        )
    for c in columns:
        name = c.name.encode("utf-16-le")
        body += struct.pack("<H", len(name)) + name
    body += b"\xff\xff"  # end of the (empty) list of column usage maps
    struct.pack_into("<I", body, 0, len(body))
    page = bytearray(PAGE)
    page[0:8] = struct.pack("<BBHI", 2, 1, 0, 0)
    if 8 + len(body) > PAGE:
        raise ValueError("table definition longer than one page")
    page[8 : 8 + len(body)] = body
    struct.pack_into("<H", page, 2, PAGE - 8 - len(body) - 8)
    return bytes(page)


def _columns(spec: list[tuple[str, str, int]]) -> list[Column]:
    cols, offset, var = [], 0, 0
    for i, (name, kind, length) in enumerate(spec):
        if kind == "text":
            cols.append(Column(name, kind, i, size=2 * length, var_num=var))
            var += 1
        else:
            size = SIZES[kind]
            cols.append(Column(name, kind, i, size=size, offset=offset))
            offset += size
    return cols


def _read_columns(page: bytes) -> tuple[list[Column], int, int]:
    """Columns of a table-definition page (the template's MSysObjects)."""
    nvar, n = struct.unpack_from("<HH", page, 0x2B)
    nreal = struct.unpack_from("<I", page, 0x33)[0]
    pos = 0x3F + 12 * nreal
    kinds = {v: k for k, v in TYPES.items()} | {9: "binary", 11: "ole", 12: "memo"}
    raw = []
    for _ in range(n):
        ctype, _u, num, var_num, _n2, _m, _me, flags, _mf, _u2, offset, size = struct.unpack_from(
            "<BIHHHHHBBIHH", page, pos
        )
        raw.append((kinds.get(ctype, "binary"), num, var_num, offset, size, flags))
        pos += 25
    cols = []
    for kind, num, var_num, offset, size, _flags in raw:
        ln = struct.unpack_from("<H", page, pos)[0]
        name = page[pos + 2 : pos + 2 + ln].decode("utf-16-le")
        pos += 2 + ln
        cols.append(Column(name, kind, num, size=size, var_num=var_num, offset=offset))
    return cols, max(c.num for c in cols) + 1, nvar


def _insert_catalog(db: bytearray, records: list[bytes]) -> None:
    """Add rows to MSysObjects (table definition at page 2) on its data page with room for them."""
    need = sum(len(r) + 2 for r in records)
    for pg in range(3, len(db) // PAGE):
        base = pg * PAGE
        if db[base] != 1 or struct.unpack_from("<I", db, base + 4)[0] != 2:
            continue
        free = struct.unpack_from("<H", db, base + 2)[0]
        if free < need:
            continue
        count = struct.unpack_from("<H", db, base + ROW_COUNT)[0]
        offsets = [struct.unpack_from("<H", db, base + 14 + 2 * i)[0] & 0x1FFF for i in range(count)]
        low = min(offsets)
        for r in records:
            low -= len(r)
            db[base + low : base + low + len(r)] = r
            struct.pack_into("<H", db, base + 14 + 2 * count, low)
            count += 1
        if 14 + 2 * count > low:
            raise ValueError("catalogue page overflow")
        struct.pack_into("<H", db, base + ROW_COUNT, count)
        struct.pack_into("<H", db, base + 2, low - 14 - 2 * count)
        rows = struct.unpack_from("<I", db, 2 * PAGE + 0x10)[0]
        struct.pack_into("<I", db, 2 * PAGE + 0x10, rows + len(records))
        return
    raise ValueError("no room in MSysObjects for the new tables")


def write_mdb(path: Path, tables: dict[str, tuple[list[tuple[str, str, int]], list[dict[str, Any]]]]) -> Path:
    """`tables`: name -> ([(column, kind, text length), ...], rows as dicts). Kinds: text, short, long, double,
    date, bool."""
    db = bytearray(_template())
    catalog_cols, catalog_n, catalog_nvar = _read_columns(bytes(db[2 * PAGE : 3 * PAGE]))
    next_page = len(db) // PAGE
    maps_page = next_page
    next_page += 1
    maps: list[bytes] = []
    pages: list[bytes] = []
    catalog_rows = []
    now = datetime(2026, 1, 1, 8, 0, 0)
    for name, (spec, rows) in tables.items():
        cols = _columns(spec)
        nvar = sum(not c.fixed for c in cols)
        data = _data_pages(0, [encode_row(cols, len(cols), nvar, r) for r in rows])
        tdef_no = next_page + len(pages)
        data_nos = [tdef_no + 1 + i for i in range(len(data))]
        used_row, free_row = len(maps), len(maps) + 1
        maps += [_usage_map(data_nos), _usage_map([])]
        pages.append(_tdef_page(cols, len(rows), (maps_page << 8) | used_row, (maps_page << 8) | free_row))
        for d in data:
            page = bytearray(d)
            struct.pack_into("<I", page, 4, tdef_no)  # owner: the table definition page
            pages.append(bytes(page))
        catalog_rows.append(
            encode_row(
                catalog_cols,
                catalog_n,
                catalog_nvar,
                {
                    "Id": tdef_no,
                    "ParentId": TABLES_CONTAINER,
                    "Name": name,
                    "Type": 1,
                    "Flags": 0,
                    "DateCreate": now,
                    "DateUpdate": now,
                },
            )
        )
    db += _data_page(0, maps)  # usage maps: on a page no table owns
    for p in pages:
        db += p
    _insert_catalog(db, catalog_rows)
    path.write_bytes(bytes(db))
    return path
