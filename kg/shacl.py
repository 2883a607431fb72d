"""SHACL validation of TownKG RDF against ontology/shapes.ttl, as data a terminal can print line by line.

`kg.rdf.shacl_validate` returns pyshacl's long text report; here each result becomes a `Violation`
(focus node, path, message, value) so `kg validate` prints one readable line per problem and
`kg build` can store a one-line verdict. The data graph is the union of all named graphs: shapes follow
links from report graphs into the shared entities graph (a town's observations, a fact's report).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode, Quad, Store

from kg.rdf import SHAPES_PATH, to_ntriples
from kg.sparql import compact, store_dir

SH = "http://www.w3.org/ns/shacl#"
_RDFLIB_LITERAL = re.compile(r"'?Literal\(\"((?:[^\"\\]|\\.)*)\"(?:, (?:datatype|lang)=[^)]*)?\)'?")


@dataclass(frozen=True, slots=True, order=True)
class Violation:
    focus: str
    path: str
    message: str
    value: str = ""
    severity: str = "Violation"

    def line(self) -> str:
        """One line: `focus  path: message (value: …)`."""
        value = f" (value: {self.value})" if self.value and self.value != self.focus else ""
        sev = "" if self.severity == "Violation" else f"[{self.severity}] "
        return " ".join(f"{sev}{self.focus}  {self.path}: {self.message}{value}".split())


@dataclass(slots=True)
class ValidationResult:
    conforms: bool
    triples: int
    violations: list[Violation] = field(default_factory=list)
    shapes: Path = SHAPES_PATH

    def summary_line(self) -> str:
        """The verdict `kg validate` prints last."""
        where = _shapes_name(self.shapes)
        if self.conforms:
            return f"SHACL: conforms to {where} ({self.triples} triples)"
        n = len(self.violations)
        return f"SHACL: {n} violation{'s' if n != 1 else ''} of {where} ({self.triples} triples)"

    def to_dict(self) -> dict[str, object]:
        return {"conforms": self.conforms, "violations": len(self.violations), "triples": self.triples}


def _shapes_name(path: Path) -> str:
    return f"ontology/{SHAPES_PATH.name}" if path == SHAPES_PATH else str(path)


def verdict_line(verdict: dict[str, Any], build_dir: Path) -> str:
    """`kg build`'s one line from summary.json["shacl"] (see `ValidationResult.to_dict`)."""
    if verdict.get("conforms") is None:
        return f"SHACL: not checked ({verdict.get('error', 'no verdict')})"
    if verdict["conforms"]:
        return f"SHACL: conforms to {_shapes_name(SHAPES_PATH)} ({verdict.get('triples', 0)} triples)"
    n = verdict.get("violations", 0)
    return (f"SHACL: {n} violation{'s' if n != 1 else ''} of {_shapes_name(SHAPES_PATH)}; "
            f"list them with `kg validate --build {build_dir}`")


def _term(t: object) -> str:
    """Compact display of an rdflib term (IRIs prefixed and percent-decoded, literals bare)."""
    import rdflib

    if t is None:
        return ""
    if isinstance(t, rdflib.URIRef):
        return compact(NamedNode(str(t)))
    if isinstance(t, rdflib.BNode):
        return "[complex path]"
    if isinstance(t, rdflib.Literal):
        dt = f"^^{compact(NamedNode(str(t.datatype)))}" if t.datatype else ""
        lang = f"@{t.language}" if t.language else ""
        return f'"{t}"{lang}{dt}'
    return str(t)


def _message(results: Any, r: Any, sh: Any) -> str:
    """The result's message; for a nested shape (sh:node, sh:or), the messages that explain it."""
    details = sorted({str(m) for d in results.objects(r, sh.detail)
                      for m in results.objects(d, sh.resultMessage)})
    text = "; ".join(details) or str(results.value(r, sh.resultMessage) or "constraint not met")
    return _RDFLIB_LITERAL.sub(r'"\1"', text)


def validate_quads(quads: Iterable[Quad], shapes: Path = SHAPES_PATH) -> ValidationResult:
    """Run pyshacl (no inference; Oxigraph materializes what the shapes need) on the union graph."""
    import pyshacl
    import rdflib

    data = rdflib.Graph().parse(data=to_ntriples(quads), format="nt")
    with warnings.catch_warnings():  # pyshacl calls rdflib APIs that rdflib 7 deprecates, once per triple
        warnings.simplefilter("ignore", DeprecationWarning)
        conforms, results, _ = pyshacl.validate(data, shacl_graph=str(shapes), inference="none",
                                                advanced=True)
    sh = rdflib.Namespace(SH)
    violations = set()  # top-level results only (nested sh:detail results explain them); no duplicates
    report = results.value(predicate=rdflib.RDF.type, object=sh.ValidationReport)
    for r in results.objects(report, sh.result):
        path = results.value(r, sh.resultPath)
        severity = results.value(r, sh.resultSeverity)
        violations.add(Violation(
            focus=_term(results.value(r, sh.focusNode)),
            path=_term(path) if path is not None else "(node)",
            message=_message(results, r, sh),
            value=_term(results.value(r, sh.value)),
            severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation"))
    return ValidationResult(bool(conforms), len(data), sorted(violations), shapes)


def validate_build(build_dir: Path, shapes: Path = SHAPES_PATH) -> ValidationResult:
    """Validate what a build's Oxigraph store holds (opened read-only)."""
    store = Store.read_only(str(store_dir(build_dir)))
    return validate_quads(list(store), shapes)
