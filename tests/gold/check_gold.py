"""Validate a gold file: JSON shape per GUIDELINES §1 and every quote an exact substring of the raw seed.

Usage: python tests/gold/check_gold.py tests/gold/001_a58c2479b1a2dd6b.json
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATS = ("indicators", "companies", "projects", "programs", "political_formulas")


def check(path: Path) -> list[str]:
    gold = json.loads(path.read_text(encoding="utf-8"))
    raw = (ROOT / "seeds" / gold["file"]).read_text(encoding="utf-8")
    problems = []
    for key in ("file", "town", "superiors", "report_year", *CATS, "ambiguous"):
        if key not in gold:
            problems.append(f"missing key {key}")
    for cat in CATS:
        for item in gold.get(cat, []):
            if item.get("quote") not in raw:
                problems.append(f"{cat}: quote not in raw file: {item.get('quote')!r}")
            if not item.get("name"):
                problems.append(f"{cat}: item without name: {item}")
    for cat, items in gold.get("ambiguous", {}).items():
        for item in items:
            if item.get("quote") not in raw:
                problems.append(f"ambiguous.{cat}: quote not in raw file: {item.get('quote')!r}")
    for ind in gold.get("indicators", []):
        for key in ("name", "value", "unit", "period", "growth_pct", "kind", "modifier", "quote"):
            if key not in ind:
                problems.append(f"indicator missing {key}: {ind.get('quote')!r}")
        if ind.get("kind") not in ("actual", "target"):
            problems.append(f"indicator kind must be actual|target: {ind.get('quote')!r}")
    return problems


if __name__ == "__main__":
    bad = 0
    for arg in sys.argv[1:]:
        probs = check(Path(arg))
        for p in probs:
            print(f"{arg}: {p}")
        bad += len(probs)
        if not probs:
            print(f"{arg}: OK")
    sys.exit(1 if bad else 0)
