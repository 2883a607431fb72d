"""Registered extraction components, spaCy-style: a name, a version and what each produces.

The name@version stamp of the component that found a fact goes into its provenance, so a graph
built by an older rule set can be told apart from a newer one. Components run in registration
order over one `Document` and fill one `Extraction`; `kg.resolve` then links and canonicalizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kg.document import Document
from kg.model import Extraction

ExtractFn = Callable[[Document, Extraction, str], None]


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    version: str
    produces: tuple[str, ...]
    func: ExtractFn

    @property
    def stamp(self) -> str:
        return f"{self.name}@{self.version}"


REGISTRY: dict[str, Component] = {}
# The town runs first: later components use it (a company is never the town itself).
PIPELINE = ("town", "programs", "companies", "projects", "indicators")


def component(name: str, version: str, produces: tuple[str, ...]) -> Callable[[ExtractFn], ExtractFn]:
    """Register an extractor; `produces` names the Extraction fields it fills."""

    def wrap(fn: ExtractFn) -> ExtractFn:
        REGISTRY[name] = Component(name, version, produces, fn)
        return fn

    return wrap


def _load_builtin() -> None:
    from kg.extractors import companies, indicators, programs, projects, town  # noqa: F401


def run_pipeline(doc: Document) -> Extraction:
    """Run every registered component in order, then resolve links and aliases."""
    from kg.resolve import resolve_extraction

    _load_builtin()
    ex = Extraction(meta=doc.meta, warnings=list(doc.warnings))
    order = [n for n in PIPELINE if n in REGISTRY] + [n for n in REGISTRY if n not in PIPELINE]
    for name in order:
        comp = REGISTRY[name]
        comp.func(doc, ex, comp.stamp)
    return resolve_extraction(doc, ex)


def clear_memos() -> None:
    """Forget what the rule helpers memoized per name (boundary cuts, word classes, indicator concepts).

    Why: benchmarks that run the same reports several times must time each run as a first reading,
    not as cache hits; results never depend on these caches.
    """
    from kg.extractors import indicators, lexicon

    for fn in (lexicon.cut_left, lexicon.strip_function_words, lexicon.is_specific, indicators._concept):
        fn.cache_clear()
