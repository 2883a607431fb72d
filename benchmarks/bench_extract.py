"""Extraction throughput next to jieba.lcut on the same text, in the same run.

Usage: python benchmarks/bench_extract.py [--repeat 5]
Writes benchmarks/RESULTS.md (machine, command, medians). Speed lives here, not in tests.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import jieba

    from kg.document import build_document
    from kg.extract import extract_file
    from kg.extractors import clear_memos
    from kg.read import read_document

    files = sorted((ROOT / "seeds").glob("*.txt"))
    corpus = ROOT.parent / "shared" / "corpus" / "provincial-2026"
    files += sorted(corpus.glob("*.txt")) if corpus.is_dir() else []
    texts = [f.read_text(encoding="utf-8") for f in files]
    kb = sum(len(t.encode("utf-8")) for t in texts) / 1024

    jieba.setLogLevel(60)
    jieba.lcut("预热")
    extract_file(files[0])  # warm dictionaries, gazetteer and OpenCC once, as a long build would

    def timed(fn) -> float:
        runs = []
        for _ in range(args.repeat):
            clear_memos()  # each run reads the reports as for the first time (no memo hits from the last run)
            t = time.process_time()  # CPU time: on a shared machine, wall time also counts other jobs
            fn()
            runs.append(time.process_time() - t)
        return statistics.median(runs)

    t_norm = timed(lambda: [build_document(read_document(f)) for f in files])
    t_extract = timed(lambda: [extract_file(f) for f in files])
    t_jieba = timed(lambda: [jieba.lcut(t) for t in texts])
    rows = [
        ("read + normalize + structure", t_norm),
        ("read → extract (full pipeline per report)", t_extract),
        ("jieba.lcut (default, HMM on)", t_jieba),
    ]
    lines = [
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {__import__('os').cpu_count()} cores.",
        f"Command: `python benchmarks/bench_extract.py --repeat {args.repeat}` (median of {args.repeat} runs, warm, "
        "CPU seconds of this process).",
        f"Input: {len(files)} reports (5 seeds + provincial corpus), {kb:.0f} KB UTF-8.",
        "",
        "| stage | seconds | KB/s |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {t:.3f} | {kb / t:,.0f} |" for name, t in rows]
    lines += ["", f"Extraction / jieba.lcut throughput ratio: **{t_jieba / t_extract:.2f}×** "
              "(above 1 means the whole extractor is faster than segmentation alone).", ""]
    from results import update_section  # benchmarks/ is on sys.path when run as a script

    update_section("## Extraction", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
