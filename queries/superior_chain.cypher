// zh: 各乡镇的上级政府链（县→市→省）。
// en: The superior chain of each town (county → city → province).
// param: town string = "" | 镇名；空 = 全部 / town name; empty = every town
// columns: town, depth, superior, level
// depth 1 is the immediate superior (SUBORDINATE_TO), then one more per PART_OF link upwards.
MATCH (t:Town)-[:SUBORDINATE_TO]->(g:Government)
WHERE $town = '' OR t.name = $town
MATCH p = (g)-[:PART_OF*0..8]->(s:Government)
RETURN DISTINCT t.name AS town, length(p) + 1 AS depth, s.name AS superior, s.level AS level
ORDER BY town, depth
