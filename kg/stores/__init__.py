"""Graph sinks: one narrow interface (`kg.stores.base.GraphSink`), several backends.

`memory` (tests), `oxigraph_store` (embedded RDF/SPARQL), `ladybug_store` (embedded Cypher).
"""
