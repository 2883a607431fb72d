// zh: 哪些政策项目常在同一段落中一起出现？出现了几次？
// en: Program co-occurrence: which programs are named together in one paragraph, and how often?
// param: min_count integer = 2 | 至少在几个段落中同时出现 / named together in at least this many paragraphs
// param: program string = "" | 只看含此政策项目的组合；空 = 全部 / only pairs with this program; empty = all
// columns: program_a, program_b, paragraphs, towns
// A program is placed in the paragraph of its first mention in each report (IMPLEMENTS `paragraph`, see
// kg/paragraphs.py; in a report without line breaks, its sentence), the rule of the co-occurrence view.
// program_a < program_b (code-point order); `paragraphs` counts paragraphs over all reports, `towns` their towns.
// Plan: the programs of each paragraph are collected once and paired within it (pairs of one town's IMPLEMENTS
// would be ~40² per report); every IMPLEMENTS pair of a paragraph still counts once, as in a self-join.
MATCH (t:Town)-[a:IMPLEMENTS]->(p:Program)
WHERE a.report IS NOT NULL AND a.paragraph IS NOT NULL
WITH t, a.report AS report, a.paragraph AS paragraph, collect(p.name) AS names
UNWIND names AS program_a
UNWIND names AS program_b
WITH t, program_a, program_b
WHERE program_a < program_b AND ($program = '' OR program_a = $program OR program_b = $program)
WITH program_a, program_b, count(*) AS paragraphs, count(DISTINCT t) AS towns
WHERE paragraphs >= $min_count
RETURN program_a, program_b, paragraphs, towns
ORDER BY paragraphs DESC, program_a, program_b
