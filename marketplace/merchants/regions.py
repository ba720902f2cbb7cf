"""The provincial-level divisions a shipping rule can name, by their GB/T 2260 codes."""

from __future__ import annotations

# (code, Chinese name, English name): shown in Chinese or English with the interface language.
PROVINCES: list[tuple[str, str, str]] = [
    ("110000", "北京", "Beijing"),
    ("120000", "天津", "Tianjin"),
    ("130000", "河北", "Hebei"),
    ("140000", "山西", "Shanxi"),
    ("150000", "内蒙古", "Inner Mongolia"),
    ("210000", "辽宁", "Liaoning"),
    ("220000", "吉林", "Jilin"),
    ("230000", "黑龙江", "Heilongjiang"),
    ("310000", "上海", "Shanghai"),
    ("320000", "江苏", "Jiangsu"),
    ("330000", "浙江", "Zhejiang"),
    ("340000", "安徽", "Anhui"),
    ("350000", "福建", "Fujian"),
    ("360000", "江西", "Jiangxi"),
    ("370000", "山东", "Shandong"),
    ("410000", "河南", "Henan"),
    ("420000", "湖北", "Hubei"),
    ("430000", "湖南", "Hunan"),
    ("440000", "广东", "Guangdong"),
    ("450000", "广西", "Guangxi"),
    ("460000", "海南", "Hainan"),
    ("500000", "重庆", "Chongqing"),
    ("510000", "四川", "Sichuan"),
    ("520000", "贵州", "Guizhou"),
    ("530000", "云南", "Yunnan"),
    ("540000", "西藏", "Tibet"),
    ("610000", "陕西", "Shaanxi"),
    ("620000", "甘肃", "Gansu"),
    ("630000", "青海", "Qinghai"),
    ("640000", "宁夏", "Ningxia"),
    ("650000", "新疆", "Xinjiang"),
    ("710000", "台湾", "Taiwan"),
    ("810000", "香港", "Hong Kong"),
    ("820000", "澳门", "Macao"),
]

PROVINCE_CODES = frozenset(code for code, _, _ in PROVINCES)

# Suffixes a written province name may carry (广东省, 广西壮族自治区, 北京市, 香港特别行政区).
_SUFFIXES = ("特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")

_BY_NAME: dict[str, str] = {}
for _code, _zh, _en in PROVINCES:
    _BY_NAME[_zh] = _code
    _BY_NAME[_en.lower()] = _code


def province_code(value: str) -> str | None:
    """A province code from a code, a Chinese name (with or without 省/市/自治区) or an English name."""
    value = (value or "").strip()
    if value in PROVINCE_CODES:
        return value
    if value.isdigit() and len(value) == 6:  # a city or district code: its province is the first two digits
        candidate = value[:2] + "0000"
        return candidate if candidate in PROVINCE_CODES else None
    for suffix in _SUFFIXES:
        if value.endswith(suffix) and len(value) > len(suffix):
            value = value[: -len(suffix)]
            break
    return _BY_NAME.get(value) or _BY_NAME.get(value.lower())


def province_label(code: str, locale: str = "zh_Hans") -> str:
    for c, zh, en in PROVINCES:
        if c == code:
            return zh if locale.startswith("zh") else en
    return code


def province_choices(locale: str = "zh_Hans") -> list[tuple[str, str]]:
    return [(code, zh if locale.startswith("zh") else en) for code, zh, en in PROVINCES]
