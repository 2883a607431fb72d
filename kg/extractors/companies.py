"""Companies, cooperatives and family farms (GUIDELINES §4).

Three general cues: a legal or generic suffix (有限公司, 集团, 公司, 专业合作社, 家庭农场); an
industry word after a rare brand (宁兴船舶, 海亮有色 — the brand must not be a common word);
and lists closed by 等企业/等公司/等项目 (培育上海卓然、四川润和等企业), whose elements are
enterprises. Government bodies, schools, hospitals, banks and categories (规上企业) are excluded.
"""

from __future__ import annotations

import re

from kg.document import Document
from kg.extractors import component
from kg.extractors.lexicon import cut_left, is_brand, is_common_word
from kg.extractors.scan import near, trie
from kg.gazetteer import place_prefixes
from kg.model import Company, Extraction

SUFFIX_RE = re.compile(r"(?:股份有限公司|有限责任公司|集团有限公司|有限公司|集团公司|集团|公司|股份经济合作社|专业合作社|"
                       r"合作社|家庭农场|农场)")
INDUSTRY = ("科技|船舶|冶金|有色|铜业|机械|电子|新材料|材料|环保|纺织|智能|电梯|五金|水泥|化工|能源|实业|物流|医药|食品|电气|"
            "汽车|重工|钢铁|建材|精密|光电|生物|制药|服饰|家居|包装|塑业|陶瓷|茶业|酒业|生态|钙业|钙科|机器人|装备|电器|制造|"
            "新能源|光伏|电池|纸业|印务|药业|农业科技|线缆|电缆|管业|铝业|金属|模具|轴承|阀门|泵业|织造|针织|服装|置业|地产|商贸|"
            "传媒|网络|信息|软件|数据|游艇|造船|海运|航运|水产|渔业|农牧|牧业|种业|米业|粮油")
INDUSTRY_RE = re.compile(rf"([\u4e00-\u9fff]{{2,3}})({INDUSTRY})")
LIST_RE = re.compile(r"((?:[\u4e00-\u9fffA-Za-z0-9]{2,12}、){0,12}[\u4e00-\u9fffA-Za-z0-9]{2,12})等(?:(?!项目)[^,,;;。:]){0,16}?"
                     r"(企业|公司|项目)")
EXCLUDE_RE = re.compile(r"政府|委员会|人大|党委|局$|办公室|学校|小学|中学|幼儿园|医院|卫生院|银行|信用社|大学|学院|研究院|研究所|"
                        r"设计院|协会|商会|基金会|中心$|部门|街道|社区|村委|管委会|^[市县区镇乡村省]")
GENERIC_RE = re.compile(r"^(?:规上|规模以上|四上|限上|龙头|骨干|重点|小微|中小|民营|国有|外资|外贸|科技型|高新技术|上市|建筑|物流|"
                        r"村级|镇级|县级|市级|城投|平台|投资|运营|物业|合作|专业|股份|各类|一批|新增|优质|本地|当地|相关|多家|"
                        r"\d+家|该|这些|其他|企业|实体|服务|龙头企业|骨干企业|新型|农业|工业|经营|家庭|集体|村集体|农民|供销|强村|"
                        r"村级|镇属|国资|城建|水投|交投|创投|开发|建设|旅游|文旅|发展|国家级|省级|乡村合作|子|专业化|型)+$")
PROJECT_WORDS_RE = re.compile(r"村社|社区|路$|工程|改造|建设|提升|整治|基地|园$|园区|中心|广场|公寓|小区|大道|桥$|线$|村$|镇$")


HONOUR_RE = re.compile(r"(?:^|(?<=[,,。;;、]))([\u4e00-\u9fff]{2,10}?)(?:获评|入选|入围|荣获|被评为|被认定为|成功申报)"
                       r"[^,,。;;]{0,24}?(?:企业|公司|名单|冠军|单位)")
# Name-led patterns scanned from their tails (kg.extractors.scan: same matches, less work).
INDUSTRY_SCAN = near(INDUSTRY_RE, "(科技|")
LIST_SCAN = near(LIST_RE, "等(?:(?!项目)")
HONOUR_SCAN = near(HONOUR_RE, "(?:获评|")
# Compiled once (a pattern passed as a string is looked up in re's cache on every call).
_NOT_BRAND_HEAD_RE = re.compile(r"[大各全抓有该这本此年月日个]")
_NOT_BRAND_CHAR_RE = re.compile(r"[的与等上级型及至个]")
_ENUMERATION_RE = re.compile(r"^[一二三四五六七八九十]是")
_DIGIT_RE = re.compile(r"\d")
_TRANSPORT_RE = re.compile(r"机场|站|港|高铁|铁路|新区|开发区")
_VERB_PROJECT_RE = re.compile(r"(?<=推进|加快|实施|启动|开工|签约|引进|落地)([\u4e00-\u9fff]{2,3})项目")
_NOT_A_FIRM_ITEM_RE = re.compile(r"期$|征地|租用|生产|及")
_INFRASTRUCTURE_RE = re.compile(r"站$|网络?$|高铁|机场|铁路|至|段$|港$|片区")
COMPANY_CUE_AFTER_RE = re.compile(r"[、,,。;]|等|和|与|及|项目|公司|集团|获|入选|入围|投产|落户|签约|积极|成功|优化|实现|完成|建成|"
                                  r"年产|新增|扩|在|的|“|被|荣获|成为|交付|研发|生产|投资")
COMPANY_CUE_BEFORE_RE = re.compile(r"(?:^|[、,,。;:])$|(?:培育|引进|支持|服务|帮助|促成|推动|对接|走访|企业|龙头|与|和|及|等)$")


def _leading_brand(item: str) -> str | None:
    """The out-of-vocabulary head of a name (新远达 in 新远达高速线材), if it is 2-4 characters."""
    import rjieba

    head = ""
    for tok in rjieba.cut(item, hmm=False):
        if len(tok) != 1:
            break
        head += tok
    if 2 <= len(head) <= 4 and _rare_brand(head[:3]) and not _NOT_BRAND_HEAD_RE.search(head):
        return head
    return None


def _rare_brand(brand: str) -> bool:
    """A brand is a rare or out-of-vocabulary word (宁兴, 泽壹), never common vocabulary (环保, 冷链)."""
    if brand.endswith("化") or _NOT_BRAND_CHAR_RE.search(brand) or is_common_word(brand, 60):
        return False
    if brand in place_prefixes():
        return False
    return is_brand(brand) and not any(is_common_word(brand[i:i + 2], 300) for i in range(len(brand) - 1))


_PLACE_BRAND: list[re.Pattern[str]] = []


def PLACE_BRAND_RE() -> re.Pattern[str]:  # noqa: N802 - compiled lazily from the gazetteer
    if not _PLACE_BRAND:  # the places as a prefix tree: same matches as their longest-first alternation
        places = trie(place_prefixes())
        _PLACE_BRAND.append(re.compile(
            rf"(?:(?<![\u4e00-\u9fff])|(?<=[元的与和及]))({places})([\u4e00-\u9fff]{{2,3}})(?=“|获评|入选|入围|等|、)"))
    return _PLACE_BRAND[0]


def _type(name: str) -> str:
    if name.endswith("合作社"):
        return "cooperative"
    if name.endswith("农场"):
        return "family_farm"
    return "company"


def _valid(name: str) -> bool:
    if len(name) < 2 or len(name) > 30 or EXCLUDE_RE.search(name):
        return False
    core = SUFFIX_RE.sub("", name)
    if not core or GENERIC_RE.match(core) or len(core) < 2 or _ENUMERATION_RE.match(name):
        return False
    if core != name and is_common_word(core, 200):
        return False  # 能源集团, 资产公司: a sector, not a named enterprise
    return not _DIGIT_RE.search(core[:1])


@component("companies", "1.0", produces=("companies",))
def extract_companies(doc: Document, ex: Extraction, stamp: str) -> None:
    text, lo, hi = doc.text, doc.body_start, doc.body_end
    found: dict[str, Company] = {}

    def add(name: str, a: int) -> None:
        if not _valid(name) or name in found:
            return
        found[name] = Company(name, _type(name), [], doc.provenance(a, a + len(name), stamp))

    for m in SUFFIX_RE.finditer(text, lo, hi):
        left = text[max(lo, m.start() - 14): m.start()]
        brand = cut_left(left)
        if not brand:
            continue
        name = brand + m.group(0)
        if "等" in brand:
            continue  # 山西中兴等公司: a list, named by the list rule
        if m.group(0) in ("公司", "集团") and len(brand) < 2:
            continue
        if m.group(0) == "农场" and not brand.endswith(("家庭",)) and len(brand) > 4:
            continue
        add(name, m.start() - len(brand))

    for m in INDUSTRY_SCAN.finditer(text, lo, hi):
        brand = cut_left(text[max(lo, m.start() - 6): m.end(1)])
        if not 2 <= len(brand) <= 3 or not _rare_brand(brand):
            continue
        # the enterprise must act like one: a cue before or after, or a list of peers
        before = text[max(lo, m.end(1) - len(brand) - 4): m.end(1) - len(brand)]
        after = text[m.end(): m.end() + 6]
        if after.startswith("程"):
            continue  # 亮化工程, not a chemical company
        if not (COMPANY_CUE_AFTER_RE.match(after) or COMPANY_CUE_BEFORE_RE.search(before)):
            continue
        add(brand + m.group(2), m.end(1) - len(brand))

    # place + brand (南通振康, 山西中兴) right before a company cue
    for m in PLACE_BRAND_RE().finditer(text, lo, hi):
        brand = m.group(2)
        if is_brand(brand) and not is_common_word(brand) and not PROJECT_WORDS_RE.search(brand) \
                and not _TRANSPORT_RE.search(brand):
            add(m.group(1) + brand, m.start())

    # 盛康福源获评江苏省民营科技企业: whoever is recognised as an enterprise is one
    for m in HONOUR_SCAN.finditer(text, lo, hi):
        name = cut_left(m.group(1))
        if 2 <= len(name) <= 8 and not is_common_word(name, 60) and (_leading_brand(name) or INDUSTRY_RE.fullmatch(name)) \
                and not PROJECT_WORDS_RE.search(name):
            add(name, m.end(1) - len(name))
    for m in _VERB_PROJECT_RE.finditer(text[lo:hi]):
        brand = m.group(1)
        if _leading_brand(brand) == brand:
            add(brand, lo + m.start(1))  # 推进御镐项目: a rare name heading a project is its enterprise

    for m in LIST_SCAN.finditer(text, lo, hi):
        items = m.group(1).split("、")
        first = cut_left(items[0])
        items[0] = first
        pos = m.start(1) + len(m.group(1).split("、")[0]) - len(first)
        for k, item in enumerate(items):
            if k:
                pos = text.find(item, pos)
            if m.group(2) == "项目":
                # 新远达高速线材、天吴电梯等项目: the enterprise is the brand at the head of each project
                brand = _leading_brand(item)
                ind = INDUSTRY_RE.fullmatch(item)
                place = next((p for p in (item[:2], item[:3]) if p in place_prefixes()), None)
                if ind and _rare_brand(ind.group(1)):
                    add(item, pos)
                elif place and 2 <= len(item) - len(place) <= 3 and _rare_brand(item[len(place):]):
                    add(item, pos)  # 苏州迈科: a place and a rare brand
                elif brand and len(brand) < len(item) and not PROJECT_WORDS_RE.search(item):
                    add(brand, pos)
                pos += len(item)
                continue
            if _NOT_A_FIRM_ITEM_RE.search(item):
                pos += len(item)
                continue
            if (item and not is_common_word(item) and not PROJECT_WORDS_RE.search(item)
                    and item not in place_prefixes() and not _INFRASTRUCTURE_RE.search(item)):
                add(item, pos)
            pos += len(item)
    town = doc.meta.town or ""
    own = {town, town[:-1], town[:-2]} if town else set()
    ex.companies.extend(c for c in found.values() if c.name not in own and not c.name.endswith("类"))
