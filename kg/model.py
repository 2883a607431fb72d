"""Typed records that flow between pipeline stages.

Every stage reads and writes these plain dataclasses, so a stage can be tested alone and the
data flow stays one-way: read → normalize → extract → resolve → triples → stores.
All character offsets (`start`, `end`) index the *raw* decoded text of the report file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Stance = Literal["implemented", "planned"]
Kind = Literal["actual", "target"]


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a fact comes from: the report, the exact raw characters, and who extracted it."""

    file: str  # file name of the report
    sha256: str  # content hash of the raw bytes
    start: int  # raw character offset (inclusive)
    end: int  # raw character offset (exclusive)
    quote: str  # raw[start:end], in the file's own characters
    sentence: str  # the normalized (simplified) sentence that contains the fact
    extractor: str  # "name@version" of the registered component


@dataclass(slots=True)
class ReportMeta:
    file: str
    path: str
    sha256: str
    title: str | None = None
    town: str | None = None
    report_year: int | None = None
    date: str | None = None  # ISO date of session or publication
    session: str | None = None  # 第十八届人民代表大会第四次会议
    speaker: str | None = None
    chars: int = 0


@dataclass(slots=True)
class Government:
    """A town or one of its superiors, resolved against the division gazetteer when possible."""

    name: str | None
    level: str  # 镇/乡/街道/县/市/区/省/中央
    code: str | None = None  # division code when the gazetteer knows it
    invoked: bool = False  # the report itself names or invokes this level (在县委、县政府…领导下)
    prov: Provenance | None = None


@dataclass(slots=True)
class Program:
    name: str  # canonical name
    surface: str  # as written, simplified
    stance: Stance = "implemented"
    aliases: list[str] = field(default_factory=list)
    definition: str | None = None
    prov: Provenance | None = None


@dataclass(slots=True)
class Formula:
    name: str
    prov: Provenance | None = None


@dataclass(slots=True)
class Company:
    name: str
    type: Literal["company", "cooperative", "family_farm"] = "company"
    aliases: list[str] = field(default_factory=list)
    prov: Provenance | None = None


@dataclass(slots=True)
class Project:
    name: str
    investment_value: float | None = None
    investment_unit: str | None = None
    investment_yuan: float | None = None
    status: str | None = None  # 签约/开工/在建/建成/投产/计划
    location: str | None = None  # village or park when stated
    programs: list[str] = field(default_factory=list)  # canonical program names, same sentence/paragraph
    companies: list[str] = field(default_factory=list)  # company names involved
    prov: Provenance | None = None


@dataclass(slots=True)
class Indicator:
    name: str  # as worded, simplified
    concept: str | None  # canonical indicator concept (财政总收入, 地区生产总值, ...)
    value: float | None
    unit: str | None
    period: str | None  # "2022", "2023-01..2023-07", "2023-H1"
    growth_pct: float | None = None
    kind: Kind = "actual"
    modifier: str | None = None
    value_high: float | None = None  # upper bound of a range (5%—5.5%)
    normalized: float | None = None  # value in base unit: yuan, USD or percent
    normalized_unit: str | None = None  # "CNY", "USD", "%"
    prov: Provenance | None = None


@dataclass(slots=True)
class Extraction:
    """Everything extracted from one report."""

    meta: ReportMeta
    town: Government | None = None
    region: Government | None = None  # county/city/province of a report above town level
    superiors: list[Government] = field(default_factory=list)
    programs: list[Program] = field(default_factory=list)
    formulas: list[Formula] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
