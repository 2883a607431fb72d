"""kg.extractors.scan: the tail-first scans return exactly what the plain `finditer` returns.

Every `Near` the extractors define is compared with its pattern's own `finditer` on the real reports
(seeds, provincial corpus, dev set) and on random text made of the characters and words the patterns
care about, including body windows that start and end mid-text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.extractors import companies, programs, projects
from kg.extractors.scan import Near, near

ROOT = Path(__file__).resolve().parents[1]
SCANS = {f"{m.__name__.rsplit('.', 1)[1]}.{k}": v for m in (companies, programs, projects)
         for k, v in vars(m).items() if isinstance(v, Near)}
TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
TEXTS += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "dev").glob("*.txt"))]
PROVINCIAL = ROOT.parent / "shared" / "corpus" / "provincial-2026"
TEXTS += [p.read_text(encoding="utf-8") for p in sorted(PROVINCIAL.glob("*.txt"))[:4]] if PROVINCIAL.is_dir() else []
WORDS = ["项目", "工程", "改造", "提升", "新建", "等", "、", "企业", "公司", "科技", "船舶", "行动", "计划", "行动计划",
         "三年", "改革", "试点", "产业园", "园", "基地", "广场", "(一期)", "一期", "获评", "入选", "名单", "管理",
         "建设", "镇", "村", "杭", "新", "的", "和", ",", "。", ";", "“", "”", "\n", "2023", "(", ")", "A"]


def spans(ms: object) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in ms]  # type: ignore[attr-defined]


def test_every_scan_has_an_anchor() -> None:
    """A pattern the rules changed so it no longer splits falls back to a plain scan; say so here."""
    assert len(SCANS) >= 9
    assert {k for k, v in SCANS.items() if v.anchor is None} == set()


@pytest.mark.parametrize("name", sorted(SCANS))
def test_same_matches_on_real_reports(name: str) -> None:
    scan = SCANS[name]
    for text in TEXTS:
        for lo, hi in ((0, len(text)), (len(text) // 7, len(text) - len(text) // 5)):
            assert spans(scan.finditer(text, lo, hi)) == spans(scan.pattern.finditer(text, lo, hi))


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(WORDS), max_size=120), cut=st.tuples(st.integers(0, 40), st.integers(0, 40)))
def test_same_matches_on_random_text(parts: list[str], cut: tuple[int, int]) -> None:
    text = "".join(parts)
    lo, hi = min(cut[0], len(text)), max(min(cut[0], len(text)), len(text) - cut[1])
    for scan in SCANS.values():
        assert spans(scan.finditer(text, lo, hi)) == spans(scan.pattern.finditer(text, lo, hi))


def test_patterns_that_cannot_be_split_fall_back() -> None:
    for pattern, split in ((r"ab|cd", "cd"), (r"a+b", "b"), (r"ab", "zz"), (r"a(b)", "b)")):
        scan = near(re.compile(pattern), split)
        assert scan.anchor is None
        assert [m.span() for m in scan.finditer("xabcdyab")] == [m.span() for m in re.finditer(pattern, "xabcdyab")]
    scan = near(re.compile(r"[a-z]{1,5}?(?:xy|z)(?!q)"), "(?:xy")
    assert scan.anchor is not None and (scan.before, scan.span) == (5, 10)
