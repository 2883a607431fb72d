"""TownKG: knowledge graphs from Chinese town government work reports.

The library is the product and the `kg` command is a thin shell around it:

    from kg.build import build            # files/directories → a complete build directory
    from kg.extract import extract_file   # one report → kg.model.Extraction

Stages, one module (or subpackage) each, data flowing one way:
read (`kg.read`) → normalize (`kg.normalize`, `kg.document`) → extract (`kg.extractors`) →
resolve (`kg.resolve`) → triples (`kg.graph`, `kg.rdf`) → stores (`kg.stores`) →
queries/visuals (`kg.viz`); `kg.build` orchestrates them for a set of files.

Nothing is imported here eagerly, so `import kg.errors` stays cheap for tools that only need one stage.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
