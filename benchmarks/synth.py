"""A deterministic synthetic corpus of town government work reports, for scale benchmarks.

Usage: python benchmarks/synth.py N OUT_DIR [--seed 8]

Report i is a pure function of (seed, i), so the first 100 reports of a 10,000-report corpus are the
100-report corpus, and two runs write byte-identical files. Each report recombines real paragraphs:

* the review paragraphs (工作回顾) and plan paragraphs (工作安排) of the seeds and of the shared
  provincial corpus, raw — with their chrome-free but otherwise untouched text, so traditional
  characters, pinyin glosses and PDF line artefacts of the seeds stay in the mix as in real crawls;
* a real town from the shipped gazetteer (`kg/data/divisions.tsv.gz`) with its county, city and
  province, written into the title, the session line and wherever the source named its own place
  (the source town, county, city, province and their short forms, simplified or traditional);
* perturbed numbers: every figure except years, dates and ordinals is scaled by a factor in
  [0.5, 1.6] with the same number of decimals, so indicators and investments differ per report.

Sizes follow the seeds (5,000–9,000 characters, ~15–27 KB UTF-8). Nothing here reads TownKG's
extraction rules, so the corpus does not move when the rules change.
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
PROVINCIAL = ROOT.parent / "shared" / "corpus" / "provincial-2026"
GAZETTEER = ROOT / "kg" / "data" / "divisions.tsv.gz"
DEFAULT_SEED = 8

# Whose report each seed is (town, county, city, province): their names become the new town's.
SEED_PLACES = {
    "000": ("新杭镇", "广德市", "宣城市", "安徽省"),
    "001": ("岱西镇", "岱山县", "舟山市", "浙江省"),
    "002": ("杨寨镇", "广水市", "随州市", "湖北省"),
    "003": ("店口镇", "诸暨市", "绍兴市", "浙江省"),
    "004": ("正余镇", "海门区", "南通市", "江苏省"),
}
_PLAN_HEAD_RE = re.compile(r"[一二三四五六七八九十]+、[^。\n]{0,20}?(?:工作安排|工作計劃|工作计划|工作打算|工作思路|总体要求|總體要求|"
                           r"目标任务|目標任務|主要目标|主要工作|重点工作|重點工作)")
_SENTENCE_RE = re.compile(r"[^。!?!?]*[。!?!?]+[”’\"]?")
_NUMBER_RE = re.compile(r"(?<![\d.])(\d+)(?:\.(\d+))?(?![\d.])")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "建国明华伟强军平东海峰林志勇杰涛斌波辉刚健文俊鹏宇晓春红丽静敏燕玲芳娟霞英兰"
_CN = "一二三四五六七八九十"


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    county: str
    city: str
    province: str

    def chain(self) -> list[str]:
        out: list[str] = []
        for d in (self.province, self.city, self.county):
            if d and d not in out:
                out.append(d)
        return out


def _short(name: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "街道", "省", "市", "县", "区", "镇", "乡", "旗"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@cache
def _t2s_variants() -> object:
    import opencc

    return opencc.OpenCC("s2t")


def _placeholders(names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(text in the source, placeholder) pairs, longest first, simplified and traditional forms."""
    keys = ("{T}", "{C}", "{Y}", "{P}")
    pairs: dict[str, str] = {}
    conv = _t2s_variants()
    for name, key in zip(names, keys, strict=False):
        if not name:
            continue
        short = _short(name)
        for form, k in ((name, key), (short, key[:-1] + "S}")):
            if len(form) >= 2:
                pairs.setdefault(form, k)
                pairs.setdefault(conv.convert(form), k)  # type: ignore[attr-defined]
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def _chunks(body: str) -> list[str]:
    """Paragraphs of 80–450 characters: source lines, long ones cut at sentence ends."""
    out: list[str] = []
    for line in body.split("\n"):
        line = line.strip()
        if len(line) < 80 or "。" not in line:
            continue
        if len(line) <= 450:
            out.append(line)
            continue
        buf = ""
        for m in _SENTENCE_RE.finditer(line):
            buf += m.group(0)
            if len(buf) >= 200:
                out.append(buf.strip())
                buf = ""
        if len(buf) >= 80:
            out.append(buf.strip())
    return out


@cache
def paragraph_pool() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(review paragraphs, plan paragraphs) of all sources, with their own places as placeholders."""
    review: list[str] = []
    plan: list[str] = []
    sources: list[tuple[Path, tuple[str, ...], bool]] = []
    for path in sorted(SEEDS.glob("*.txt")):
        sources.append((path, SEED_PLACES.get(path.name[:3], ("", "", "", "")), False))
    for path in sorted(PROVINCIAL.glob("*.txt")) if PROVINCIAL.is_dir() else []:
        region = path.stem.split("_", 1)[-1]
        sources.append((path, ("", "", "", region), True))
    for path, places, provincial in sources:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        start = max(0, text.find("各位代表"))
        body = text[start:]
        head = _PLAN_HEAD_RE.search(body, len(body) // 4)
        cut = head.start() if head else len(body)
        pairs = _placeholders(places)
        for part, pool in ((body[:cut], review), (body[cut:], plan)):
            for chunk in _chunks(part):
                for src, key in pairs:
                    chunk = chunk.replace(src, key)
                if provincial:  # a province's 全省/我省 is the town's 全镇/我镇
                    for a, b in (("全省", "全镇"), ("我省", "我镇"), ("全区", "全镇"), ("全市", "全镇"), ("省委", "县委")):
                        chunk = chunk.replace(a, b)
                pool.append(chunk)
    return tuple(review), tuple(plan)


@cache
def gazetteer_towns() -> tuple[Town, ...]:
    lines = gzip.decompress(GAZETTEER.read_bytes()).decode("utf-8").splitlines()[1:]
    towns = []
    for line in lines:
        cols = line.split("\t")
        if cols[0].endswith(("镇", "乡", "街道")):  # 林场/农场/地区 entries are not what reports name
            towns.append(Town(cols[0], cols[1], cols[4], cols[7]))
    return tuple(towns)


def _perturb(text: str, rng: random.Random) -> str:
    def repl(m: re.Match[str]) -> str:
        whole, frac = m.group(1), m.group(2)
        after = text[m.end(): m.end() + 1]
        before = text[max(0, m.start() - 1): m.start()]
        if (len(whole) == 4 and frac is None and 1949 <= int(whole) <= 2100) or after in "月日届次号" and after \
                or before == "第":
            return m.group(0)
        value = float(m.group(0)) * rng.uniform(0.5, 1.6)
        if frac is None:
            return str(max(1, round(value)))
        return f"{value:.{len(frac)}f}"

    return _NUMBER_RE.sub(repl, text)


def _cn(n: int) -> str:
    return _CN[n - 1] if n <= 10 else "十" + _CN[n - 11]


def report_text(i: int, seed: int = DEFAULT_SEED) -> tuple[Town, str]:
    """Report number i of the corpus: its town and its text."""
    rng = random.Random(f"townkg-synth:{seed}:{i}")
    towns = gazetteer_towns()
    town = towns[rng.randrange(len(towns))]
    review, plan = paragraph_pool()
    year = rng.randint(2019, 2025)
    target = rng.randint(5000, 9000)
    head = "街道办事处" if town.name.endswith("街道") else "人民政府"
    title_role = "主任" if town.name.endswith("街道") else ("乡长" if town.name.endswith("乡") else "镇长")
    speaker = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))
    lines = [
        f"{''.join(town.chain())}{town.name}{year}年政府工作报告",
        f"——{year}年{rng.randint(1, 3)}月{rng.randint(1, 28)}日在{town.name}第{_cn(rng.randint(12, 19))}届"
        f"人民代表大会第{_cn(rng.randint(1, 6))}次会议上",
        f"{title_role} {speaker}",
        "",
        "各位代表:",
        f"现在,我代表{town.name}{head}向大会报告工作,请予审议,并请列席会议的同志提出意见。",
        f"一、{year - 1}年工作回顾",
    ]
    size = sum(len(x) for x in lines)
    for pool, share, heading in ((review, 0.6, f"二、{year}年工作安排"), (plan, 1.0, None)):
        while size < target * share:
            para = _perturb(pool[rng.randrange(len(pool))], rng)
            lines.append(para)
            size += len(para)
        if heading:
            lines.append(heading)
    lines.append("各位代表,让我们在县委的坚强领导下,团结一心,真抓实干,为全面完成今年各项目标任务而努力奋斗!")
    names = {"{T}": town.name, "{TS}": _short(town.name), "{C}": town.county, "{CS}": _short(town.county),
             "{Y}": town.city, "{YS}": _short(town.city), "{P}": town.province, "{PS}": _short(town.province)}
    text = "\n".join(lines) + "\n"
    return town, re.sub(r"\{[TCYP]S?\}", lambda m: names[m.group(0)], text)


def generate(n: int, out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write reports 0..n-1 as `out/NNNNN_<town>.txt` (UTF-8); existing identical files are kept."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        town, text = report_text(i, seed)
        path = out / f"{i:05d}_{town.name}.txt"
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args()
    paths = generate(args.n, args.out, args.seed)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} reports, {size / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
