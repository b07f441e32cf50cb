"""The NY/T 2539 exchange package: folder layout, layer and table names, fields with types and widths.

One definition serves export and import. Types use fiona's notation: str:N, int:N, float:W.D, date.
Sources: DOMAIN.md ("The 确权 database", "Package layout"). Two departures, both noted where they apply:
JZD's XZBZ/YZBZ are written as float:15.3 (a 7-digit northing with 3 decimals does not fit the F10.3 that
DOMAIN.md lists), and the feature codes (YSDM) of the region layers are not confirmed, so they stay empty.
"""

from dataclasses import dataclass

FOLDERS = ["矢量数据", "权属数据", "栅格数据", "元数据", "图件", "其他资料", "汇总表格", "文字报告", "扫描资料"]


@dataclass(frozen=True)
class Layer:
    name: str
    geometry: str | None  # fiona geometry type; None for attribute tables
    fields: dict[str, str]

    def file_stem(self, county: str, year: int) -> str:
        return f"{self.name}{county}{year}"


DK = Layer(
    "DK",
    "MultiPolygon",
    {  # written as the shapefile polygon type
        "BSM": "int:10",
        "YSDM": "str:6",
        "DKBM": "str:19",
        "DKMC": "str:50",
        "SYQXZ": "str:2",
        "DKLB": "str:2",
        "TDLYLX": "str:3",
        "DLDJ": "str:2",
        "TDYT": "str:1",
        "SFJBNT": "str:1",
        "SCMJ": "float:15.2",
        "DKDZ": "str:50",
        "DKXZ": "str:50",
        "DKNZ": "str:50",
        "DKBZ": "str:50",
        "DKBZXX": "str:254",
        "ZJRXM": "str:100",
        "KJZB": "str:254",
        "SCMJM": "float:15.2",
    },
)
JZD = Layer(
    "JZD",
    "Point",
    {
        "BSM": "int:10",
        "YSDM": "str:6",
        "JZDH": "str:10",
        "JZDLX": "str:1",
        "JBLX": "str:1",
        "DKBM": "str:254",
        "XZBZ": "float:15.3",
        "YZBZ": "float:15.3",
    },
)
JZX = Layer(
    "JZX",
    "LineString",
    {
        "BSM": "int:10",
        "YSDM": "str:6",
        "JXXZ": "str:6",
        "JZXLB": "str:2",
        "JZXWZ": "str:1",
        "JZXSM": "str:254",
        "PLDWQLR": "str:100",
        "PLDWZJR": "str:100",
        "JZXH": "str:10",
        "QJZDH": "str:10",
        "ZJZDH": "str:10",
        "DKBM": "str:254",
    },
)
XJXZQ = Layer("XJXZQ", "MultiPolygon", {"BSM": "int:10", "YSDM": "str:6", "XZQDM": "str:6", "XZQMC": "str:100"})
XJQY = Layer("XJQY", "MultiPolygon", {"BSM": "int:10", "YSDM": "str:6", "XJQYDM": "str:9", "XJQYMC": "str:100"})
CJQY = Layer("CJQY", "MultiPolygon", {"BSM": "int:10", "YSDM": "str:6", "CJQYDM": "str:12", "CJQYMC": "str:100"})
ZJQY = Layer("ZJQY", "MultiPolygon", {"BSM": "int:10", "YSDM": "str:6", "ZJQYDM": "str:14", "ZJQYMC": "str:100"})
VECTOR_LAYERS = [DK, JZD, JZX, XJXZQ, XJQY, CJQY, ZJQY]
REGION_LAYERS = {"county": XJXZQ, "township": XJQY, "village": CJQY, "group": ZJQY}

FBF = Layer(
    "FBF",
    None,
    {
        "FBFBM": "str:14",
        "FBFMC": "str:50",
        "FBFFZRXM": "str:50",
        "FZRZJLX": "str:1",
        "FZRZJHM": "str:20",
        "LXDH": "str:20",
        "FBFDZ": "str:100",
        "YZBM": "str:6",
        "FBFDCY": "str:50",
        "FBFDCRQ": "date",
        "FBFDCJS": "str:254",
    },
)
CBF = Layer(
    "CBF",
    None,
    {
        "CBFBM": "str:18",
        "CBFLX": "str:1",
        "CBFMC": "str:50",
        "CBFZJLX": "str:1",
        "CBFZJHM": "str:20",
        "CBFDZ": "str:100",
        "YZBM": "str:6",
        "LXDH": "str:20",
        "CBFCYSL": "int:4",
        "CBFDCRQ": "date",
        "CBFDCY": "str:50",
        "CBFDCJS": "str:254",
        "GSJS": "str:254",
        "GSJSR": "str:50",
        "GSSHRQ": "date",
        "GSSHR": "str:50",
    },
)
CBF_JTCY = Layer(
    "CBF_JTCY",
    None,
    {
        "CBFBM": "str:18",
        "CYXM": "str:50",
        "CYXB": "str:1",
        "CYZJLX": "str:1",
        "CYZJHM": "str:20",
        "YHZGX": "str:2",
        "CYBZ": "str:1",
        "SFGYR": "str:1",
        "CYBZSM": "str:254",
    },
)
CBDKXX = Layer(
    "CBDKXX",
    None,
    {
        "DKBM": "str:19",
        "FBFBM": "str:14",
        "CBFBM": "str:18",
        "CBJYQQDFS": "str:3",
        "HTMJ": "float:15.2",
        "CBHTBM": "str:19",
        "LZHTBM": "str:18",
        "CBJYQZBM": "str:19",
        "YHTMJ": "float:15.2",
        "HTMJM": "float:15.2",
        "YHTMJM": "float:15.2",
        "SFQQQG": "str:1",
    },
)
CBHT = Layer(
    "CBHT",
    None,
    {
        "CBHTBM": "str:19",
        "YCBHTBM": "str:19",
        "FBFBM": "str:14",
        "CBFBM": "str:18",
        "CBFS": "str:3",
        "CBQXQ": "date",
        "CBQXZ": "date",
        "HTZMJ": "float:15.2",
        "CBDKZS": "int:6",
        "QDSJ": "date",
        "HTZMJM": "float:15.2",
        "YHTZMJ": "float:15.2",
        "YHTZMJM": "float:15.2",
    },
)
CBJYQZ = Layer(
    "CBJYQZ",
    None,
    {
        "CBJYQZBM": "str:19",
        "FZJG": "str:50",
        "FZRQ": "date",
        "QZSFLQ": "str:1",
        "QZLQRQ": "date",
        "QZLQRXM": "str:50",
        "QZLQRZJLX": "str:1",
        "QZLQRZJHM": "str:20",
    },
)
TABLES = [FBF, CBF, CBF_JTCY, CBDKXX, CBHT, CBJYQZ]
