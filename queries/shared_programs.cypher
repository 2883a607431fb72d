// zh: 哪些政策项目被两个及以上乡镇提及？分别是哪些镇，立场（已实施/计划）如何？
// en: Which programs are named by two or more towns, by which towns, and with what stance (implemented or planned)?
// param: min_towns integer = 2 | 至少被几个镇提及 / named by at least this many towns
// columns: program, towns, town, stance
// One row per program, town and stance; `towns` counts the distinct towns naming the program.
MATCH (t:Town)-[:IMPLEMENTS]->(p:Program)
WITH p, count(DISTINCT t) AS towns
WHERE towns >= $min_towns
MATCH (t2:Town)-[r:IMPLEMENTS]->(p)
RETURN DISTINCT p.name AS program, towns, t2.name AS town, r.stance AS stance
ORDER BY towns DESC, program, town, stance
