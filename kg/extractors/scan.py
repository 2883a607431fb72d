"""Exact, faster `finditer` for rule patterns that open with a long run of name characters.

Why: a pattern like `[\\u4e00-\\u9fff]{2,30}?(?:项目|工程)` is tried at every position of a report, and
each try expands the lazy run character by character before failing — most of extraction time. But
every match must contain its mandatory tail (项目|工程) within a bounded distance of its start, and the
tail alone is cheap to find. So `Near.finditer` looks for the tail, then runs the full pattern only
from the positions that could reach it: `[tail − before, tail]`, with the search window cut at
`tail + span`, beyond anything a try from those positions can look at.

Exactness: the prefix before the tail has bounded width, so a match starting at s contains a tail
occurrence at most `before` characters after s; a search from `max(pos, tail − before)` therefore
misses no match that a plain scan from `pos` would find, and returns the same leftmost one. A try
from s ≤ tail examines at most `span` characters (match width + lookahead widths + 2, so `$` and
lookaheads never see the cut), hence it takes exactly the same path as on the whole text: same
span, same groups. Lookbehinds read before the search start as usual. tests/test_scan.py compares
both ways on real and random text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from re import _constants as C  # noqa: N812
from re import _parser


def _assert_width(tree: _parser.SubPattern) -> int:
    """Sum of the widest lookaheads anywhere in a parsed pattern (characters a try may peek at)."""
    total = 0
    for op, av in tree:
        if op in (C.ASSERT, C.ASSERT_NOT) and av[0] == 1:
            total += av[1].getwidth()[1] + _assert_width(av[1])
        elif op in (C.SUBPATTERN,):
            total += _assert_width(av[-1])
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            total += _assert_width(av[2])
        elif op is C.BRANCH:
            total += max((_assert_width(b) for b in av[1]), default=0)
    return total


def _width(pattern: str, flags: int) -> tuple[int, int, int]:
    tree = _parser.parse(pattern, flags)
    lo, hi = tree.getwidth()
    return lo, hi, _assert_width(tree)


@dataclass(frozen=True, slots=True)
class Near:
    """`pattern` split as prefix + anchor, where the anchor must match right after the prefix (module
    doc). Without an anchor (the pattern could not be split safely) it is a plain `finditer`."""

    pattern: re.Pattern[str]
    anchor: re.Pattern[str] | None
    before: int = 0
    span: int = 0

    def finditer(self, text: str, lo: int = 0, hi: int | None = None) -> Iterator[re.Match[str]]:
        """The matches of `pattern.finditer(text, lo, hi)`, in order, with the same spans and groups."""
        hi = len(text) if hi is None else hi
        if self.anchor is None:
            yield from self.pattern.finditer(text, lo, hi)
            return
        find, search = self.anchor.search, self.pattern.search
        pos = lo
        while pos < hi:
            a = find(text, pos, hi)
            if a is None:
                return
            c = a.start()
            m = search(text, max(pos, c - self.before), min(hi, c + self.span))
            if m is not None and m.start() <= c:
                yield m
                pos = m.end()
            else:
                pos = c + 1


def near(pattern: re.Pattern[str], split: str, anchor: str | None = None) -> Near:
    """A `Near` for `pattern`, split where `split` first occurs in its source.

    The anchor is the rest of the pattern from there, or `anchor` when given (it must match wherever
    the rest does, e.g. the alternatives of a lookahead the rest opens with). When the source no longer
    splits cleanly there (the rules changed), this degrades to a plain `finditer`, never to a wrong one:
    the prefix must be a complete top-level expression of bounded width, the whole pattern bounded and
    never empty, and not one top-level alternation.
    """
    src = pattern.pattern
    flags = pattern.flags & ~re.UNICODE
    i = src.find(split)
    try:
        if i < 0 or src.count(split) != 1:
            raise ValueError("split not found once")
        prefix, rest = src[:i], src[i:]
        tree, head = _parser.parse(src, flags), _parser.parse(prefix, flags)
        if len(tree) == 1 and tree[0][0] is C.BRANCH or len(head) == 1 and head[0][0] is C.BRANCH:
            raise ValueError("top-level alternation")
        _parser.parse(rest, flags)  # the rest must be a complete expression too
        lo, hi = tree.getwidth()
        before = head.getwidth()[1]
        tail = anchor if anchor is not None else rest
        if lo == 0 or _width(tail, flags)[0] == 0 or max(before, hi) >= C.MAXREPEAT:
            raise ValueError("unbounded or empty")
    except (ValueError, re.error):
        return Near(pattern, None)
    return Near(pattern, re.compile(tail, flags), before, hi + _assert_width(tree) + 2)


def _cls(chars: list[str]) -> str:
    return re.escape(chars[0]) if len(chars) == 1 else "[" + "".join(map(re.escape, chars)) + "]"


def _dispatch(items: list[tuple[list[str], str]]) -> str:
    """Alternatives that start with different characters, split in halves behind a character-class
    lookahead each: a miss costs a few class tests instead of one test per alternative."""
    if len(items) <= 6:
        return "|".join(rx for _, rx in items)
    half = len(items) // 2
    return "|".join(f"(?={_cls(sorted(c for cs, _ in part for c in cs))})(?:{_dispatch(part)})"
                    for part in (items[:half], items[half:]))


def trie(words: list[str] | tuple[str, ...] | set[str] | frozenset[str]) -> str:
    """A regex matching exactly what `w1|w2|…` (longest first) matches, as a prefix tree.

    Why: the engine tries an alternation's words one by one at every position, so a list of a few
    hundred words (boundary words, place names) costs hundreds of steps per character; the tree
    costs a few. Exact: at any position only words that are prefixes of the text there can match,
    and these are nested; the tree tries the longer continuation before accepting a shorter word,
    so it tries them longest first, as the sorted alternation does, also when backtracking. The
    branches of a node start with different characters, so at most one of them can match, and
    their order (and the lookaheads that skip groups of them) changes nothing.
    """
    root: dict[str, dict] = {}
    for w in words:  # an empty word makes the root a word end: it matches where no other word does
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        leaves = sorted(ch for ch, child in node.items() if ch and set(child) == {""})
        items = [([ch], re.escape(ch) + emit(child)) for ch, child in sorted(node.items())
                 if ch and set(child) != {""}]
        if leaves:
            items.append((leaves, _cls(leaves)))
        body = _dispatch(items)
        if "" in node:
            return f"(?:{body}|)"  # the word ending here, after every longer one
        return body if len(items) == 1 else f"(?:{body})"

    return emit(root)
