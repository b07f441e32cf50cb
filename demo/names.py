"""Chinese names for the demo county: Yongfu's real townships, made-up villages, hamlets, fields, people.

Township names are Yongfu County's (永福县, 450326): 6 towns and 3 townships. Their 9-digit codes follow
the GB/T 10114 pattern (towns 1xx, townships 2xx); the real codes were not confirmed. Village, group
and person names are invented; every ID number is fictional (valid check digit, made-up person).
"""

import numpy as np

YONGFU_TOWNSHIPS = [
    ("100", "永福镇"),
    ("101", "罗锦镇"),
    ("102", "堡里镇"),
    ("103", "苏桥镇"),
    ("104", "三皇镇"),
    ("105", "百寿镇"),
    ("200", "广福乡"),
    ("201", "龙江乡"),
    ("202", "永安乡"),
]
# 97 administrative villages in all (DOMAIN.md, "Scale"); the split per township is invented.
VILLAGES_PER_TOWNSHIP = [14, 12, 12, 11, 10, 11, 10, 9, 8]

_PLACE_A = list("大小上下新老石龙凤马牛白黄青红金银桥塘岭江河山岩福寿安平和兴隆坪")
_PLACE_B = list("塘岭坪江冲湾洞寨屯村田坝源头口背底洲田桥垌岗埠圩")
_FIELD = [
    "门口田",
    "大田",
    "长田",
    "塘边田",
    "岭脚地",
    "冲口田",
    "河边田",
    "坝头田",
    "山脚地",
    "坪上田",
    "井边田",
    "桥头田",
    "园地",
    "岗上地",
    "垌心田",
    "路边田",
    "屋背地",
    "坳口田",
    "水口田",
    "沙田",
]
SURNAMES = list("李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦莫覃蒙廖蒋邓秦陆许邱钟蓝卢潘")
_GIVEN_M = list("国建明志永德文军伟强华平勇海东福顺贵生成金光荣发秀富兴昌林春")
_GIVEN_F = list("秀丽美玉芳兰英红梅桂凤霞云翠娟萍芬燕琴珍莲娥香群")
BOUNDARY_FEATURES = ["道路", "沟渠", "山地", "荒地", "河流", "林地"]


class NameMaker:
    """Deterministic name source for one seed; place names are unique within the county."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._used_places: set[str] = set()

    def _pick(self, items: list[str]) -> str:
        return items[int(self.rng.integers(len(items)))]

    def place(self) -> str:
        for _ in range(1000):
            name = self._pick(_PLACE_A) + self._pick(_PLACE_B)
            if name not in self._used_places:
                self._used_places.add(name)
                return name
        raise RuntimeError("ran out of place names")

    def village(self) -> str:
        return self.place() + "村"

    def group(self, village: str, index: int) -> str:
        # Villager groups are usually named after their hamlet (屯/组).
        return f"{village}{self._pick(_PLACE_A)}{self._pick(_PLACE_B)}村民小组"

    def field_name(self) -> str:
        return self._pick(_FIELD)

    def person(self, sex: str, surname: str | None = None) -> str:
        given = _GIVEN_M if sex == "1" else _GIVEN_F
        name = surname or self._pick(SURNAMES)
        for _ in range(int(self.rng.integers(1, 3))):
            name += self._pick(given)
        return name
