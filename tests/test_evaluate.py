"""kg.evaluate and kg.gold: the §7 scoring rules, pinned with small hand-written gold/pred dicts.

No extractor runs here: every prediction is written by hand so a failure points at the scorer alone.
The last tests score each hand gold file against itself, which must be perfect in every category.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from kg.evaluate import (
    Counts,
    EvalResult,
    assign,
    indicator_match,
    names_match,
    normalize_name,
    score_dirs,
    score_report,
)
from kg.gold import to_gold
from kg.model import (
    Company,
    Extraction,
    Formula,
    Government,
    Indicator,
    Program,
    Project,
    Provenance,
    ReportMeta,
)

GOLD_DIR = Path(__file__).parent / "gold"
GOLD_FILES = sorted(GOLD_DIR.glob("*.json"))


def report(**cats: Any) -> dict[str, Any]:
    """A minimal gold-shape dict; categories not given are empty."""
    base: dict[str, Any] = {"file": "t.txt", "town": "岱西镇", "superiors": [], "report_year": 2023,
                            "indicators": [], "companies": [], "projects": [], "programs": [],
                            "political_formulas": [], "ambiguous": {}}
    base.update(cats)
    return base


def names(*ns: str) -> list[dict[str, Any]]:
    return [{"name": n, "quote": n} for n in ns]


def ind(name: str, value: float | None, unit: str | None, period: str, growth: float | None = None,
        kind: str = "actual", modifier: str | None = None) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "period": period, "growth_pct": growth,
            "kind": kind, "modifier": modifier, "quote": name}


def counts(rs: Any, cat: str) -> tuple[int, int, int]:
    c = rs.counts[cat]
    return c.tp, c.fp, c.fn


def test_normalize_name_folds_script_width_spaces_and_quotes() -> None:
    assert normalize_name("“三服務”\n活動") == "三服务活动"
    assert normalize_name("《美丽城镇 建设与管理规范》") == "美丽城镇建设与管理规范"
    assert normalize_name("中国（店口）") == normalize_name("中国(店口)")
    assert normalize_name(None) == "" and not names_match("", "乡村振兴")


def test_exact_and_containment_names_match() -> None:
    gold = report(companies=names("上海卓然", "广德金益农茶叶专业合作社"))
    pred = report(companies=names("上海卓然", "金益农茶叶专业合作社"))
    assert counts(score_report(gold, pred), "companies") == (2, 0, 0)
    pred = report(companies=names("上海卓然石化设备有限公司", "宁兴船舶"))  # pred contains gold: a match
    rs = score_report(gold, pred)
    assert counts(rs, "companies") == (1, 1, 1)
    assert rs.false_positives["companies"] == [{"name": "宁兴船舶", "quote": "宁兴船舶"}]
    assert rs.false_negatives["companies"][0]["name"] == "广德金益农茶叶专业合作社"


def test_traditional_prediction_matches_simplified_gold() -> None:
    gold = report(companies=names("泽壹智能"), programs=names("乡村振兴"))
    pred = report(companies=names("澤壹智能"), programs=names("“鄉村振興”"))
    rs = score_report(gold, pred)
    assert counts(rs, "companies") == (1, 0, 0) and counts(rs, "programs") == (1, 0, 0)


def test_matching_is_one_to_one() -> None:
    gold = report(companies=names("华鑫冶金公司"))
    pred = report(companies=names("华鑫冶金", "华鑫冶金公司"))
    rs = score_report(gold, pred)
    assert counts(rs, "companies") == (1, 1, 0)
    assert rs.matched["companies"] == [("华鑫冶金公司", "华鑫冶金公司")]  # the exact pair wins


def test_exact_pairs_preferred_over_containment() -> None:
    gold = report(programs=names("与杭同城", "与杭同城三年行动计划"))
    pred = report(programs=names("与杭同城三年行动计划", "与杭同城"))
    rs = score_report(gold, pred)
    assert counts(rs, "programs") == (2, 0, 0)
    assert sorted(rs.matched["programs"]) == [("与杭同城", "与杭同城"),
                                              ("与杭同城三年行动计划", "与杭同城三年行动计划")]


def test_maximum_matching_beats_greedy_exact_first() -> None:
    # Greedy exact-first pairs 乡村振兴↔乡村振兴 and strands both others; the maximum matching keeps two.
    gold = report(programs=names("乡村振兴", "乡村振兴战略"))
    pred = report(programs=names("乡村振兴", "全面乡村振兴"))
    assert counts(score_report(gold, pred), "programs") == (2, 0, 0)
    assert assign({(0, 0): 3, (0, 1): 2, (1, 0): 2}) == [(0, 1), (1, 0)]  # total weight, not greedy


def _brute_best(edges: dict[tuple[int, int], int], n: int, i: int = 0,
                used: frozenset[int] = frozenset()) -> int:
    """Exhaustive maximum: pred i takes nothing or any free gold it has an edge to."""
    if i == n:
        return 0
    skip = _brute_best(edges, n, i + 1, used)
    takes = [w + _brute_best(edges, n, i + 1, used | {j})
             for (p, j), w in edges.items() if p == i and j not in used]
    return max([skip, *takes])


def test_assign_is_maximum_weight_on_random_graphs() -> None:
    rng = random.Random(7)
    for _ in range(300):
        n, m = rng.randint(1, 5), rng.randint(1, 5)
        edges = {(i, j): rng.randint(1, 9) for i in range(n) for j in range(m) if rng.random() < 0.5}
        best = _brute_best(edges, n)
        pairs = assign(edges)
        assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
        assert all(p in edges for p in pairs) and sum(edges[p] for p in pairs) == best


def test_ambiguous_items_removed_from_both_sides() -> None:
    gold = report(companies=names("宁兴船舶"), projects=names("双合旅游提升项目"),
                  ambiguous={"companies": names("华鑫公司"), "projects": names("智慧停车场")})
    pred = report(companies=names("宁兴船舶", "华鑫公司", "华鑫"), projects=names("双合旅游提升项目"))
    rs = score_report(gold, pred)
    assert counts(rs, "companies") == (1, 0, 0)  # 华鑫公司 and 华鑫 dropped, not FP
    assert [d["name"] for d in rs.dropped_ambiguous["companies"]] == ["华鑫公司", "华鑫"]
    assert counts(rs, "projects") == (1, 0, 0)  # unpredicted ambiguous 智慧停车场 is no FN
    # ambiguity is per category: the same name predicted as a program still counts
    rs = score_report(gold, report(programs=names("华鑫公司")))
    assert counts(rs, "programs") == (0, 1, 0)


def test_ambiguous_indicators_use_the_indicator_rule() -> None:
    amb = ind("帮助企业融资", 5400, "万元", "2022", modifier="余")
    gold = report(indicators=[ind("财政总收入", 1.89, "亿元", "2022")], ambiguous={"indicators": [amb]})
    pred = report(indicators=[ind("财政总收入", 1.89, "亿元", "2022"), ind("企业融资", 5400, "万元", "2022"),
                              ind("帮助企业融资", 5400, "万元", "2021")])
    rs = score_report(gold, pred)
    assert counts(rs, "indicators") == (1, 1, 0)  # wrong period: not the ambiguous item, so a FP
    assert [d["name"] for d in rs.dropped_ambiguous["indicators"]] == ["企业融资"]


def test_indicator_match_by_value_unit_period() -> None:
    gold = ind("规上工业产值", 26.1, "亿元", "2022", growth=66.17)
    assert indicator_match(gold, ind("规上工业产值", 26.1 + 1e-12, "億元", "2022", growth=50))
    assert indicator_match(gold, ind("工业产值", 26.1, "亿元", "2022"))  # containment, growth not in key
    assert not indicator_match(gold, ind("规上工业产值", 26.2, "亿元", "2022", growth=66.17))
    assert not indicator_match(gold, ind("规上工业产值", 26.1, "万元", "2022"))
    assert not indicator_match(gold, ind("规上工业产值", 26.1, "亿元", "2023"))
    assert not indicator_match(gold, ind("财政总收入", 26.1, "亿元", "2022"))  # incompatible name


def test_indicator_synonyms_extend_name_compatibility() -> None:
    gold = ind("一般公共预算收入", 1.22, "亿元", "2022")
    pred = ind("地方财政收入", 1.22, "亿元", "2022")
    assert not indicator_match(gold, pred)
    concept = {"一般公共预算收入": "财政收入", "地方财政收入": "财政收入"}
    same = lambda g, p: concept.get(g) is not None and concept.get(g) == concept.get(p)  # noqa: E731
    assert indicator_match(gold, pred, same)
    rs = score_report(report(indicators=[gold]), report(indicators=[pred]), same)
    assert counts(rs, "indicators") == (1, 0, 0)


def test_indicator_match_by_name_period_growth_without_value() -> None:
    gold = ind("财政收入", None, None, "2023", growth=8, kind="target")
    assert indicator_match(gold, ind("财政收入", None, None, "2023", growth=8.0, kind="target"))
    assert indicator_match(gold, ind("财政收入", 9.98, "亿元", "2023", growth=8))  # pred value not in key
    assert not indicator_match(gold, ind("财政收入", None, None, "2023", growth=10))
    assert not indicator_match(gold, ind("财政收入", None, None, "2022", growth=8))
    assert not indicator_match(gold, ind("固定资产投资", None, None, "2023", growth=8))


def test_indicator_attribute_accuracy() -> None:
    gold = report(indicators=[ind("到位资金", 10, "亿元", "2023", kind="target", modifier="以上"),
                              ind("财政收入", None, None, "2023", growth=8, kind="target")])
    pred = report(indicators=[ind("到位资金", 10, "亿元", "2023", growth=5, kind="actual", modifier="以上"),
                              ind("财政收入", None, None, "2023", growth=8, kind="target", modifier="左右")])
    rs = score_report(gold, pred)
    assert counts(rs, "indicators") == (2, 0, 0)
    acc = {k: (a.correct, a.total) for k, a in rs.accuracy.items() if k.startswith("indicator.")}
    assert acc == {"indicator.growth_pct": (1, 2), "indicator.kind": (1, 2), "indicator.modifier": (1, 2),
                   "indicator.value": (2, 2), "indicator.unit": (2, 2), "indicator.period": (2, 2)}
    assert {(e["attr"], e["name"]) for e in rs.attribute_errors} == {
        ("growth_pct", "到位资金"), ("kind", "到位资金"), ("modifier", "财政收入")}


def test_duplicate_indicator_names_pair_by_their_own_facts() -> None:
    gold = report(indicators=[ind("工业应税销售", 58.57, "亿元", "2022"),
                              ind("工业应税销售", 65, "亿元", "2023", kind="target", modifier="力争"),
                              ind("规模以上工业应税销售", 43, "亿元", "2022")])
    pred = copy.deepcopy(gold)
    pred["indicators"].reverse()
    rs = score_report(gold, pred)
    assert counts(rs, "indicators") == (3, 0, 0) and not rs.attribute_errors


def test_superiors_named_and_null_entries() -> None:
    gold = report(superiors=[{"name": None, "level": "县"}, {"name": "舟山市", "level": "市"},
                             {"name": "浙江省", "level": "省"}])
    pred = report(superiors=[{"name": None, "level": "县"}, {"name": "舟山市", "level": "市"},
                             {"name": "浙江", "level": "省"}])
    rs = score_report(gold, pred)
    assert counts(rs, "superiors") == (1, 1, 1)  # 浙江 ≠ 浙江省: admin names compare whole
    assert (rs.accuracy["superiors_null"].correct, rs.accuracy["superiors_null"].total) == (1, 1)
    invented = report(superiors=[{"name": "岱山县", "level": "县"}, {"name": "舟山市", "level": "市"},
                                 {"name": "浙江省", "level": "省"}])
    rs = score_report(gold, invented)
    assert counts(rs, "superiors") == (2, 1, 0)
    assert rs.accuracy["superiors_null"].correct == 0
    wrong_level = report(superiors=[{"name": "舟山市", "level": "县"}])
    assert counts(score_report(gold, wrong_level), "superiors") == (0, 1, 2)


def test_town_and_report_year_accuracy() -> None:
    rs = score_report(report(), report(town="岱西", report_year="2023"))
    assert rs.accuracy["town"].correct == 0 and rs.accuracy["report_year"].correct == 1


def test_micro_average_sums_counts_across_reports() -> None:
    a = score_report(report(companies=names("甲公司")), report(companies=names("甲公司")))
    b = score_report(report(companies=names("乙公司", "丙公司", "丁公司")), report(companies=names("戊公司")))
    res = EvalResult([a, b])
    tot = res.totals()["companies"]
    assert (tot.tp, tot.fp, tot.fn) == (1, 1, 3)
    assert tot.precision == pytest.approx(0.5) and tot.recall == pytest.approx(0.25)
    assert tot.f1 == pytest.approx(1 / 3)  # macro average of per-report F1 would be (1 + 0) / 2
    assert res.table_rows()[0][0] == "metric" and any(r[0] == "companies" for r in res.table_rows())
    json.dumps(res.to_dict(), ensure_ascii=False)
    assert Counts().f1 == 1.0 and Counts(fn=1).f1 == 0.0 and Counts(fp=1).f1 == 0.0


def test_to_gold_shape_spans_and_order() -> None:
    def prov(start: int, quote: str) -> Provenance:
        return Provenance("r.txt", "h", start, start + len(quote), quote, quote, "t@1")

    ex = Extraction(
        meta=ReportMeta(file="r.txt", path="/x/r.txt", sha256="h", report_year=2023),
        town=Government("岱西镇", "镇"),
        superiors=[Government(None, "县"), Government("舟山市", "市"), Government(None, "中央")],
        programs=[Program("三服务", "“三服务”活动", prov=prov(40, "“三服務”活動")),
                  Program("八八战略", "八八战略", prov=prov(10, "八八戰略")),
                  Program("三服务", "三服务", prov=prov(90, "三服務"))],
        formulas=[Formula("两个维护", prov(5, "兩個維護"))],
        companies=[Company("上海卓然", prov=prov(7, "上海卓然"))],
        projects=[Project("双合旅游提升项目", prov=prov(60, "双合旅游提升项目")),
                  Project("双合旅游提升项目", 2.0, "亿元", prov=prov(80, "双合旅游提升项目"))],
        indicators=[Indicator("规上工业产值", "规上工业产值", 26.1, "亿元", "2022", 66.17,
                              prov=prov(3, "规上工业产值26.1亿元"))],
    )
    g = to_gold(ex)
    assert list(g) == ["file", "town", "superiors", "report_year", "indicators", "companies", "projects",
                       "programs", "political_formulas", "ambiguous"]
    assert g["town"] == "岱西镇"
    assert g["superiors"] == [{"name": None, "level": "县"}, {"name": "舟山市", "level": "市"}]  # no 中央
    assert list(g["indicators"][0]) == ["name", "value", "unit", "period", "growth_pct", "kind", "modifier",
                                        "quote", "span"]
    assert g["indicators"][0]["span"] == [3, 15]
    assert [p["name"] for p in g["programs"]] == ["八八战略", "三服务"]  # reading order, one per name
    assert g["programs"][1] == {"name": "三服务", "quote": "“三服務”活動", "span": [40, 47]}
    assert g["projects"] == [{"name": "双合旅游提升项目", "investment_value": 2.0, "investment_unit": "亿元",
                              "quote": "双合旅游提升项目", "span": [60, 68]}]
    assert g["political_formulas"][0]["name"] == "两个维护"
    assert all(v == [] for v in g["ambiguous"].values())
    rs = score_report(g, g)
    assert all(c.f1 == 1.0 for c in rs.counts.values())


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.stem)
def test_gold_against_itself_is_perfect(path: Path) -> None:
    gold = json.loads(path.read_text(encoding="utf-8"))
    rs = score_report(gold, copy.deepcopy(gold))
    assert {c: n.f1 for c, n in rs.counts.items()} == dict.fromkeys(rs.counts, 1.0)
    assert all(a.value == 1.0 for a in rs.accuracy.values())
    assert not rs.attribute_errors and not any(rs.dropped_ambiguous.values())


def test_score_dirs_over_hand_gold_is_perfect() -> None:
    assert GOLD_FILES, "tests/gold holds the hand annotations"
    seen: list[str] = []

    def pred(raw: Path) -> dict[str, Any]:
        assert raw.is_file()
        seen.append(raw.name)
        return json.loads((GOLD_DIR / f"{raw.stem}.json").read_text(encoding="utf-8"))

    res = score_dirs(GOLD_DIR, pred, raw_dir=GOLD_DIR.parents[1] / "seeds")
    assert len(seen) == len(GOLD_FILES) == len(res.reports)
    assert all(n.f1 == 1.0 for n in res.totals().values())
