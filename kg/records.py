"""Extraction records on disk: one JSON line per report in a build's extractions.jsonl, and back.

The line is `dataclasses.asdict` (computed by `plain`: the same dicts without asdict's deep copies; asdict
was a tenth of a build worker's time) in field order with real characters and no whitespace, so the same
extraction always gives the same bytes (builds are byte-identical across runs and worker counts), and
`from_dict` rebuilds the nested dataclasses from it. How to convert each field is worked out once per
class (`_plan`): reading 10,000 reports back spends its time in JSON, not in `typing`.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from kg.errors import Code, TownKGError
from kg.model import Extraction

EXTRACTIONS = "extractions.jsonl"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def extraction_json(ex: Extraction) -> str:
    """One JSONL line: dataclass field order (stable), real characters, no whitespace to drift."""
    return json.dumps(plain(ex), ensure_ascii=False, separators=(",", ":"))


_SCALARS = frozenset({str, int, float, bool, type(None)})


@cache
def _field_names(cls: type[Any]) -> tuple[str, ...] | None:
    return tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None


def plain(value: Any) -> Any:
    """`dataclasses.asdict` for JSON: nested dataclasses as dicts in field order, lists and tuples as lists.

    >>> from kg.model import Government
    >>> plain([Government(name="岱山县", level="县")])
    [{'name': '岱山县', 'level': '县', 'code': None, 'invoked': False, 'prov': None}]
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _field_names(kind)
    if names is not None:
        return {n: plain(getattr(value, n)) for n in names}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    return value


def _converter(tp: Any) -> Callable[[Any], Any] | None:
    """How to rebuild a value of type `tp` from JSON (None: as is). Worked out once per field."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _converter(next(a for a in typing.get_args(tp) if a is not type(None)))
    if origin is list:
        inner = _converter(typing.get_args(tp)[0])
        return None if inner is None else (lambda v: [None if x is None else inner(x) for x in v])
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return lambda v: from_dict(tp, v)
    return None


@cache
def _plan(cls: type[Any]) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls))


def from_dict(cls: type[Any], data: dict[str, Any]) -> Any:
    """Rebuild a (nested) model dataclass from `dataclasses.asdict` output; unknown keys are ignored.

    >>> from kg.model import Government
    >>> from_dict(Government, {"name": "岱山县", "level": "县", "extra": 1})
    Government(name='岱山县', level='县', code=None, invoked=False, prov=None)
    """
    kwargs = {}
    for name, conv in _plan(cls):
        if name in data:
            v = data[name]
            kwargs[name] = v if conv is None or v is None else conv(v)
    return cls(**kwargs)


def load_extractions(out: Path) -> list[Extraction]:
    """Read a build's extractions back, so views can be redrawn without extracting again."""
    out = Path(out)
    path = out / EXTRACTIONS if out.is_dir() or not out.suffix else out
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TownKGError(Code.UNREADABLE, "no build found here; run `kg build` first", str(path)) from None
    result = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            result.append(from_dict(Extraction, json.loads(line)))
        except (ValueError, TypeError, KeyError) as e:
            raise TownKGError(Code.CORRUPT, f"line {n} is not an extraction record ({_one_line(str(e))}); "
                              "rebuild with `kg build`", str(path)) from None
    return result
