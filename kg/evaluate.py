"""Score predicted gold-shape dicts against hand gold (GUIDELINES §7).

Where §7 leaves room, each choice keeps gold-vs-itself perfect and never lets matching order
penalise a correct prediction:

- Names compare after `normalize_name` (NFKC width folding, OpenCC t2s, no whitespace, quote marks
  or 《》〈〉, casefold) and match when one contains the other; empty names match nothing.
- Matching is one-to-one and maximum: most pairs first, then most exact-name pairs, then (indicators)
  most agreeing attributes, then closest name lengths. Greedy exact-first can lose a pair.
- `ambiguous.<cat>` gold items are extra columns in the same assignment; a prediction paired with
  one, or unpaired but matching one, is dropped (not TP, not FP); they are never FN. Per category.
- Indicators key on value (isclose 1e-9) + unit + period when gold has a value, else period +
  growth_pct; then the names must contain one another or `synonyms(gold, pred)` must say True.
- Town and superiors are gazetteer names whose suffix is the answer (广德 ≠ 广德市): equal names
  (superiors also equal level). A gold null name is no recall target; a named prediction left
  unmatched is a FP, and the null check fails when it sits at that null level.
- P = 1 with no predictions, R = 1 with nothing to find: empty vs empty is perfect.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

CATEGORIES = ("indicators", "companies", "projects", "programs", "political_formulas")
ALL_CATEGORIES = ("superiors", *CATEGORIES)
INDICATOR_ATTRS = ("growth_pct", "kind", "modifier", "value", "unit", "period")
Synonyms = Callable[[str, str], bool]
PredictFn = Callable[[Path], dict[str, Any]]

_DROP_RE = re.compile(r"[\s“”\"'‘’「」『』《》〈〉]")
_BASE = 10**12  # per-pair weight; dwarfs every bonus so the number of pairs is maximised first
_EXACT = 10**8
_ATTR = 10**5
_SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert


@lru_cache(maxsize=8192)
def normalize_name(name: str | None) -> str:
    """The comparison form of a name or unit: simplified, width-folded, no spaces or quote marks."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", str(name))
    return _DROP_RE.sub("", _t2s()(text)).casefold()


def names_match(a: str | None, b: str | None) -> bool:
    """§7 name rule: one normalised name contains the other (empty names never match)."""
    na, nb = normalize_name(a), normalize_name(b)
    return bool(na and nb) and (na in nb or nb in na)


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(str(x).replace(",", "")) if isinstance(x, str) else float(x)
    except ValueError:
        return None
    return None if math.isnan(v) else v


def _num_eq(a: Any, b: Any) -> bool:
    x, y = _num(a), _num(b)
    if x is None or y is None:
        return x is None and y is None
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def _text_eq(a: Any, b: Any) -> bool:
    """Units, periods, kinds, modifiers: equal after normalisation; None and "" are the same."""
    return normalize_name(None if a is None else str(a)) == normalize_name(None if b is None else str(b))


_ATTR_EQ: dict[str, Callable[[Any, Any], bool]] = {
    "growth_pct": _num_eq, "value": _num_eq, "kind": _text_eq, "modifier": _text_eq,
    "unit": _text_eq, "period": _text_eq,
}


def indicator_names_compatible(gold_name: str | None, pred_name: str | None,
                               synonyms: Synonyms | None = None) -> bool:
    """Containment either way, or the caller's canonical-concept test (e.g. 财政收入 ~ 一般公共预算收入)."""
    if names_match(gold_name, pred_name):
        return True
    g, p = normalize_name(gold_name), normalize_name(pred_name)
    return bool(synonyms and g and p and synonyms(g, p))


def indicator_match(gold: dict[str, Any], pred: dict[str, Any], synonyms: Synonyms | None = None) -> bool:
    """§7 indicator rule: (value, unit, period) if gold has a value, else (period, growth_pct); plus name."""
    if not _text_eq(gold.get("period"), pred.get("period")):
        return False
    if _num(gold.get("value")) is not None:
        key = _num_eq(gold.get("value"), pred.get("value")) and _text_eq(gold.get("unit"), pred.get("unit"))
    else:
        key = _num_eq(gold.get("growth_pct"), pred.get("growth_pct"))
    return key and indicator_names_compatible(gold.get("name"), pred.get("name"), synonyms)


def _closeness(a: str | None, b: str | None) -> int:
    na, nb = normalize_name(a), normalize_name(b)
    return 1000 * min(len(na), len(nb)) // max(1, len(na), len(nb))


def _entity_weight(g: dict[str, Any], p: dict[str, Any]) -> int | None:
    if not names_match(g.get("name"), p.get("name")):
        return None
    exact = normalize_name(g.get("name")) == normalize_name(p.get("name"))
    return _BASE + _EXACT * exact + _closeness(g.get("name"), p.get("name"))


def _indicator_weight(synonyms: Synonyms | None) -> Callable[[dict[str, Any], dict[str, Any]], int | None]:
    def weight(g: dict[str, Any], p: dict[str, Any]) -> int | None:
        if not indicator_match(g, p, synonyms):
            return None
        exact = normalize_name(g.get("name")) == normalize_name(p.get("name"))
        agree = sum(_ATTR_EQ[a](g.get(a), p.get(a)) for a in INDICATOR_ATTRS)
        return _BASE + _EXACT * exact + _ATTR * agree + _closeness(g.get("name"), p.get("name"))

    return weight


def _superior_weight(g: dict[str, Any], p: dict[str, Any]) -> int | None:
    same = normalize_name(g.get("name")) == normalize_name(p.get("name")) and g.get("level") == p.get("level")
    return _BASE if same and normalize_name(g.get("name")) else None


def _hungarian(cost: list[list[int]]) -> list[int]:
    """Min-cost assignment of every row to a distinct column (rows <= columns); column index per row."""
    n, m = len(cost), len(cost[0])
    u, v, owner, way = [0] * (n + 1), [0] * (m + 1), [0] * (m + 1), [0] * (m + 1)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        minv, used = [math.inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0], i0, delta, j1 = True, owner[j0], math.inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    out = [-1] * n
    for j in range(1, m + 1):
        if owner[j]:
            out[owner[j] - 1] = j - 1
    return out


def assign(edges: dict[tuple[int, int], int]) -> list[tuple[int, int]]:
    """One-to-one (pred, gold) pairs of maximum total edge weight, solved per connected component.

    Callers put `_BASE` in every weight, so the most pairs win before any bonus counts. Components
    keep the cubic Hungarian step tiny: most names touch one or two candidates.
    """
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p, g in edges:
        parent[find(("p", p))] = find(("g", g))
    groups: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for p, g in sorted(edges):
        groups.setdefault(find(("p", p)), []).append((p, g))
    pairs: list[tuple[int, int]] = []
    for comp in groups.values():
        ps, gs = sorted({p for p, _ in comp}), sorted({g for _, g in comp})
        rows, cols, flip = (ps, gs, False) if len(ps) <= len(gs) else (gs, ps, True)
        cost = [[-edges.get((c, r) if flip else (r, c), 0) for c in cols] for r in rows]
        for r, c in zip(rows, _hungarian(cost), strict=True):
            pair = (cols[c], r) if flip else (r, cols[c])
            if pair in edges:
                pairs.append(pair)
    return sorted(pairs)


@dataclass(slots=True)
class Counts:
    """TP/FP/FN of one category; summing them across reports is what micro-averaging means."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass(slots=True)
class Accuracy:
    correct: int = 0
    total: int = 0

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(self.correct + other.correct, self.total + other.total)

    @property
    def value(self) -> float:
        return self.correct / self.total if self.total else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"correct": self.correct, "total": self.total, "accuracy": round(self.value, 4)}


def _brief(item: dict[str, Any]) -> dict[str, Any]:
    """What a developer needs to find an error in the report: name, quote, span, indicator facts."""
    keys = ("name", "level", "value", "unit", "period", "growth_pct", "kind", "modifier", "quote", "span")
    return {k: item[k] for k in keys if k in item}


@dataclass(slots=True)
class ReportScore:
    """One report's counts, accuracies and the concrete errors behind them."""

    file: str
    counts: dict[str, Counts] = field(default_factory=dict)
    false_positives: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    false_negatives: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dropped_ambiguous: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    matched: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (gold name, pred name)
    accuracy: dict[str, Accuracy] = field(default_factory=dict)  # town, report_year, superiors_null, attrs
    attribute_errors: list[dict[str, Any]] = field(default_factory=list)
    town: tuple[str | None, str | None] = (None, None)  # (gold, pred)
    report_year: tuple[int | None, int | None] = (None, None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "town": {"gold": self.town[0], "pred": self.town[1]},
            "report_year": {"gold": self.report_year[0], "pred": self.report_year[1]},
            "counts": {c: n.to_dict() for c, n in self.counts.items()},
            "accuracy": {k: a.to_dict() for k, a in self.accuracy.items()},
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "dropped_ambiguous": self.dropped_ambiguous,
            "matched": {c: [list(p) for p in pairs] for c, pairs in self.matched.items()},
            "attribute_errors": self.attribute_errors,
        }


def _items(d: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [x for x in (d.get(key) or []) if isinstance(x, dict)]


def _score_category(rs: ReportScore, cat: str, gold: list[dict[str, Any]], amb: list[dict[str, Any]],
                    pred: list[dict[str, Any]], weight: Callable[[dict[str, Any], dict[str, Any]], int | None]
                    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Match one category; ambiguous gold items are extra columns whose partners are dropped."""
    cols = gold + amb
    edges = {(i, j): w for i, p in enumerate(pred) for j, g in enumerate(cols)
             if (w := weight(g, p)) is not None}
    pairs = [(i, j) for i, j in assign(edges) if j < len(gold)]
    paired_p, paired_g = {i for i, _ in pairs}, {j for _, j in pairs}
    hits_ambiguous = {i for i, j in edges if j >= len(gold)}
    dropped = [i for i in range(len(pred)) if i not in paired_p and i in hits_ambiguous]
    fps = [p for i, p in enumerate(pred) if i not in paired_p and i not in dropped]
    fns = [g for j, g in enumerate(gold) if j not in paired_g]
    rs.counts[cat] = Counts(len(pairs), len(fps), len(fns))
    rs.false_positives[cat] = [_brief(p) for p in fps]
    rs.false_negatives[cat] = [_brief(g) for g in fns]
    rs.dropped_ambiguous[cat] = [_brief(pred[i]) for i in dropped]
    rs.matched[cat] = [(gold[j].get("name"), pred[i].get("name")) for i, j in pairs]
    return [(gold[j], pred[i]) for i, j in pairs]


def _score_superiors(rs: ReportScore, gold: list[dict[str, Any]], pred: list[dict[str, Any]]) -> None:
    named_gold = [g for g in gold if normalize_name(g.get("name"))]
    named_pred = [p for p in pred if normalize_name(p.get("name"))]
    pairs = _score_category(rs, "superiors", named_gold, [], named_pred, _superior_weight)
    matched = {id(p) for _, p in pairs}
    invented = {p.get("level") for p in named_pred if id(p) not in matched}
    nulls = [g.get("level") for g in gold if not normalize_name(g.get("name"))]
    rs.accuracy["superiors_null"] = Accuracy(sum(level not in invented for level in nulls), len(nulls))


def _investment_eq(g: dict[str, Any], p: dict[str, Any]) -> bool:
    """Project investment (an extra, not in §7): same amount, and same unit when there is one."""
    same_unit = _text_eq(g.get("investment_unit"), p.get("investment_unit"))
    return _num_eq(g.get("investment_value"), p.get("investment_value")) and (
        g.get("investment_value") is None or same_unit)


def _score_attributes(rs: ReportScore, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Attribute accuracy over matched indicator pairs; each miss is listed with the gold quote."""
    for attr in INDICATOR_ATTRS:
        ok = 0
        for g, p in pairs:
            if _ATTR_EQ[attr](g.get(attr), p.get(attr)):
                ok += 1
            else:
                rs.attribute_errors.append({"attr": attr, "gold": g.get(attr), "pred": p.get(attr),
                                            "name": g.get("name"), "quote": g.get("quote")})
        rs.accuracy[f"indicator.{attr}"] = Accuracy(ok, len(pairs))


def score_report(gold: dict[str, Any], pred: dict[str, Any], synonyms: Synonyms | None = None) -> ReportScore:
    """Score one prediction (gold-shape dict) against one gold dict."""
    rs = ReportScore(file=str(gold.get("file") or pred.get("file") or ""))
    rs.town = (gold.get("town"), pred.get("town"))
    rs.accuracy["town"] = Accuracy(int(normalize_name(rs.town[0]) == normalize_name(rs.town[1])), 1)
    rs.report_year = (gold.get("report_year"), pred.get("report_year"))
    rs.accuracy["report_year"] = Accuracy(int(_num_eq(*rs.report_year)), 1)
    _score_superiors(rs, _items(gold, "superiors"), _items(pred, "superiors"))
    amb = gold.get("ambiguous") or {}
    for cat in CATEGORIES:
        weight = _indicator_weight(synonyms) if cat == "indicators" else _entity_weight
        pairs = _score_category(rs, cat, _items(gold, cat), _items(amb, cat), _items(pred, cat), weight)
        if cat == "indicators":
            _score_attributes(rs, pairs)
        elif cat == "projects":
            ok = sum(_investment_eq(g, p) for g, p in pairs)
            rs.accuracy["project.investment"] = Accuracy(ok, len(pairs))
    return rs


@dataclass(slots=True)
class EvalResult:
    """All reports of a run; totals are micro-averages (TP/FP/FN summed before dividing)."""

    reports: list[ReportScore] = field(default_factory=list)

    def totals(self) -> dict[str, Counts]:
        out = {c: sum((r.counts.get(c, Counts()) for r in self.reports), Counts()) for c in ALL_CATEGORIES}
        out["all"] = sum(out.values(), Counts())
        return out

    def accuracy(self) -> dict[str, Accuracy]:
        keys = dict.fromkeys(k for r in self.reports for k in r.accuracy)
        return {k: sum((r.accuracy.get(k, Accuracy()) for r in self.reports), Accuracy()) for k in keys}

    def table_rows(self) -> list[tuple[str, ...]]:
        """Header plus one row per category and per accuracy, all strings, ready for a CLI table."""
        rows: list[tuple[str, ...]] = [("metric", "tp", "fp", "fn", "P", "R", "F1/acc")]
        for cat, n in self.totals().items():
            rows.append((cat, str(n.tp), str(n.fp), str(n.fn),
                         f"{n.precision:.3f}", f"{n.recall:.3f}", f"{n.f1:.3f}"))
        for key, a in self.accuracy().items():
            rows.append((key, f"{a.correct}/{a.total}", "", "", "", "", f"{a.value:.3f}"))
        return rows

    def format_table(self) -> str:
        rows = self.table_rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reports_scored": len(self.reports),
            "totals": {c: n.to_dict() for c, n in self.totals().items()},
            "accuracy": {k: a.to_dict() for k, a in self.accuracy().items()},
            "reports": [r.to_dict() for r in self.reports],
        }


def score_dirs(gold_dir: str | Path, pred: PredictFn, raw_dir: str | Path | None = None,
               synonyms: Synonyms | None = None) -> EvalResult:
    """Score `pred(raw_path)` against every `*.json` gold file in `gold_dir` (sorted by name).

    The raw report is `raw_dir / gold["file"]`; without `raw_dir` it is looked up beside the gold
    file and then in the project's `seeds/` folder, where the hand-annotated reports live.
    """
    gold_dir = Path(gold_dir)
    result = EvalResult()
    for gold_path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        dirs = [Path(raw_dir)] if raw_dir is not None else [gold_dir, _SEEDS]
        raw = next((d / gold["file"] for d in dirs if (d / gold["file"]).is_file()), None)
        if raw is None:
            where = ", ".join(map(str, dirs))
            raise FileNotFoundError(f"raw report {gold['file']!r} of {gold_path.name} not found in {where}")
        result.reports.append(score_report(gold, pred(raw), synonyms))
    return result
