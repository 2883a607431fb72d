// zh: 哪些政策项目常在同一段落中一起出现？出现了几次？
// en: Program co-occurrence: which programs are named together in one paragraph, and how often?
// param: min_count integer = 2 | 至少在几个段落中同时出现 / named together in at least this many paragraphs
// param: program string = "" | 只看含此政策项目的组合；空 = 全部 / only pairs with this program; empty = all
// columns: program_a, program_b, paragraphs, towns
// A program is placed in the paragraph of its first mention in each report (IMPLEMENTS `paragraph`, see
// kg/paragraphs.py; in a report without line breaks, its sentence), the rule of the co-occurrence view.
// program_a < program_b (code-point order); `paragraphs` counts paragraphs over all reports, `towns` their towns.
// The pairs are counted at build time (CO_OCCURS, kg/aggregates.py) from the IMPLEMENTS facts: the same
// count as a self-join of IMPLEMENTS on report and paragraph (tests/named_queries_naive holds that query).
MATCH (a:Program)-[c:CO_OCCURS]->(b:Program)
WHERE c.paragraphs >= $min_count AND ($program = '' OR a.name = $program OR b.name = $program)
RETURN a.name AS program_a, b.name AS program_b, c.paragraphs AS paragraphs, c.towns AS towns
ORDER BY paragraphs DESC, program_a, program_b
