// zh: 哪些乡镇在实施某个政策项目？各镇在该政策下有哪些项目？
// en: Which towns carry out a given program, and which of their projects come under it?
// param: program string = 乡村振兴 | 政策项目的规范名称 / canonical program name
// columns: town, stance, project
// One row per town, stance and project; `project` is empty for a town naming no project under the program.
MATCH (t:Town)-[r:IMPLEMENTS]->(p:Program)
WHERE p.name = $program
OPTIONAL MATCH (t)-[:HAS_PROJECT]->(j:Project)-[:UNDER_PROGRAM]->(p)
RETURN DISTINCT t.name AS town, r.stance AS stance, j.name AS project
ORDER BY town, stance, project
