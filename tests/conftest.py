"""Shared fixtures: hand-built extractions and a stand-in extractor, so build/CLI tests pin orchestration.

The real extractor is exercised by its own tests; here a file's *text* decides what it "contains"
(first line `town|superior chain|year`, then one program per line), which keeps these tests fast and
independent of extraction quality while still going through `kg.extract.extract_file`'s contract:
return an `Extraction` or raise `TownKGError` with a one-line reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.errors import Code, TownKGError
from kg.model import Company, Extraction, Government, Indicator, Program, Project, Provenance, ReportMeta

# Non-test helpers under tests/ are not modules to doctest (pyproject runs --doctest-modules).
collect_ignore_glob = ["gold/*.py"]

# A tiny but realistic town report, for the tests that do run the real extractor end to end.
TOWN_REPORT = """浙江省舟山市岱山县青溪镇2023年政府工作报告
——2023年2月10日在青溪镇第十八届人民代表大会第三次会议上
镇长 王明
各位代表:
现在,我代表镇人民政府向大会报告工作,请予审议。
一、2022年工作回顾
过去的一年,在县委、县政府的坚强领导下,我镇全年实现财政总收入1.89亿元,同比增长12%;规上工业产值26.1亿元,
同比增长8.5%。深入实施乡村振兴战略,全面落实河长制,扎实推进“千万工程”。青溪大桥改建工程顺利完工,
海丰船舶公司新建生产线项目开工建设。
二、2023年工作安排
2023年主要预期目标是:财政总收入增长8%左右。我们将继续深化“最多跑一次”改革。
"""

LEVELS = "县市省"


def make_extraction(file: str, town: str = "青溪镇",
                    superiors: tuple[str, ...] = ("岱山县", "舟山市", "浙江省"), year: int = 2023,
                    programs: tuple[str, ...] = ("乡村振兴", "河长制")) -> Extraction:
    """An Extraction as the extractor would return it, with provenance, built by hand."""
    sha = hashlib.sha256(f"{file}|{town}|{programs}".encode()).hexdigest()

    def prov(quote: str, start: int) -> Provenance:
        return Provenance(file, sha, start, start + len(quote), quote, f"……{quote}……", "test@1")

    meta = ReportMeta(file=file, path=f"reports/{file}", sha256=sha, title=f"{town}{year}年政府工作报告",
                      town=town, report_year=year, chars=500)
    return Extraction(
        meta=meta,
        town=Government(town, "镇", prov=prov(town, 0)),
        superiors=[Government(name, LEVELS[min(i, 2)]) for i, name in enumerate(superiors)],
        programs=[Program(p, p, prov=prov(p, 10 + 5 * i)) for i, p in enumerate(programs)],
        projects=[Project(f"{town}大桥改建工程", 1.2, "亿元", 1.2e8, "在建", programs=list(programs[:1]),
                          companies=["海丰船舶"], prov=prov(f"{town}大桥改建工程", 60))],
        companies=[Company("海丰船舶", prov=prov("海丰船舶", 80))],
        indicators=[Indicator("财政总收入", "财政总收入", 1.89, "亿元", str(year - 1), 12.0,
                              normalized=1.89e8, normalized_unit="CNY",
                              prov=prov("财政总收入1.89亿元", 100))],
    )


def fake_extract_file(path: str | Path, max_bytes: int = 20 * 1024 * 1024) -> Extraction:
    """Stand-in for `kg.extract.extract_file`: the file's text says what it contains (see module doc)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TownKGError(Code.UNREADABLE, "file not found", str(p)) from None
    if not text.strip():
        raise TownKGError(Code.EMPTY, "no text (empty or whitespace only)", str(p))
    if text.startswith("BOOM"):
        raise RuntimeError("extractor bug\nwith a second line")
    head, *programs = text.strip().splitlines()
    town, chain, year = head.split("|")
    return make_extraction(p.name, town, tuple(chain.split(">")), int(year), tuple(programs))


def report_text(town: str = "青溪镇", chain: str = "岱山县>舟山市>浙江省", year: int = 2023,
                programs: tuple[str, ...] = ("乡村振兴", "河长制")) -> str:
    """File content understood by `fake_extract_file`."""
    return "\n".join([f"{town}|{chain}|{year}", *programs]) + "\n"


@pytest.fixture
def fake_extractor(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Extraction]:
    """Route every extraction through `fake_extract_file` (the build and CLI look it up at call time)."""
    import kg.extract

    monkeypatch.setattr(kg.extract, "extract_file", fake_extract_file)
    return fake_extract_file


@pytest.fixture
def memory_sinks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Replace the on-disk stores with in-memory sinks; returns the sinks a build created."""
    import kg.build
    from kg.stores.memory import MemorySink

    created: list[object] = []

    def factory(root: Path) -> MemorySink:
        sink = MemorySink()
        created.append(sink)
        return sink

    monkeypatch.setattr(kg.build, "SINKS", {"memory": factory})
    return created


@pytest.fixture
def reports_dir(tmp_path: Path) -> Path:
    """Two good reports (sharing 乡村振兴) and one empty file, for the fake extractor."""
    d = tmp_path / "reports"
    d.mkdir()
    (d / "a.txt").write_text(report_text("青溪镇", programs=("乡村振兴", "河长制")), encoding="utf-8")
    (d / "b.txt").write_text(report_text("新杭镇", "广德市>宣城市>安徽省", 2024, ("乡村振兴", "千万工程")),
                             encoding="utf-8")
    (d / "empty.txt").write_text("", encoding="utf-8")
    return d


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """seeds/ built once per session with the real pipeline (kg.build), for the RDF/SPARQL tests.

    Shared: open its store read-only, or copy it (`shutil.copytree`) before changing anything.
    """
    from kg.build import build

    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("seed-build") / "build"
    result = build([root / "seeds"], out)
    assert result.built and not result.failed, result.failed
    return out
