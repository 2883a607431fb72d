"""Numbers with units as written in reports, and their normalization to yuan, USD or percent.

>>> parse_amount("1.89", "亿元")
(189000000.0, 'CNY')
>>> parse_amount("900", "万美元")
(9000000.0, 'USD')
"""

from __future__ import annotations

import re

NUM = r"\d+(?:\.\d+)?"
MONEY_UNITS = ("万亿元", "亿美元", "万美元", "美元", "亿元", "万元", "元")
_SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "": 1.0}
UNIT_RE = "万亿元|亿美元|万美元|美元|亿元|万元|元|%|个百分点"
# value [余/多] unit, optional range (5%—5.5%, 5-5.5%), optional trailing modifier
AMOUNT_RE = re.compile(
    rf"(?<![\d.])(?P<v>{NUM})(?P<approx>余|多)?(?:(?P<u1>{UNIT_RE})?\s*[-—~～至到]\s*(?P<v2>{NUM})(?:余|多)?)?"
    rf"\s?(?P<u>{UNIT_RE})(?P<suffix>左右|以上|以内|以下)?"
)


def parse_amount(value: str, unit: str) -> tuple[float | None, str | None]:
    """Value as written + unit → (normalized value, base unit)."""
    v = float(value)
    if unit in ("%", "个百分点"):
        return v, "%"
    for cur, code in (("美元", "USD"), ("元", "CNY")):
        if unit.endswith(cur):
            return round(v * _SCALE[unit[: -len(cur)]], 6), code
    return None, None


def as_number(s: str) -> float | int:
    f = float(s)
    return int(f) if f.is_integer() and "." not in s else f
