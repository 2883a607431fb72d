"""Regenerate kg/data/divisions.tsv.gz from jionlp's 5-level division list (a dev-time step).

jionlp (Apache-2.0) ships `dictionary/china_location.zip`: province → city → county → town →
village, with codes down to county. We keep one row per town with its county/city/province
names, short names and codes, so the runtime needs neither jionlp nor its 150 MB of deps.

Usage: pip install jionlp && python scripts/build_gazetteer.py
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "kg" / "data" / "divisions.tsv.gz"


def main() -> None:
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("jionlp is not installed: pip install jionlp")
    zpath = Path(next(iter(spec.submodule_search_locations))) / "dictionary" / "china_location.zip"
    with zipfile.ZipFile(zpath) as z:
        text = io.TextIOWrapper(z.open("china_location.txt"), encoding="utf-8").read()
    prov = city = county = ("", "", "")
    rows = ["town\tcounty\tcounty_code\tcounty_short\tcity\tcity_code\tcity_short\tprovince\tprovince_code\tprovince_short"]
    for line in text.splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        parts = line.strip("\t").split("\t")
        entry = (parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")
        if depth == 0:
            prov = entry
        elif depth == 1:
            city = entry
        elif depth == 2:
            county = entry
        elif depth == 3:
            rows.append("\t".join((entry[0], *county, *city, *prov)))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as f:  # mtime=0: byte-identical regeneration
        f.write(("\n".join(rows) + "\n").encode("utf-8"))
    print(f"wrote {len(rows) - 1} towns to {OUT} ({OUT.stat().st_size / 1e3:.0f} KB)")


if __name__ == "__main__":
    main()
