// zh: 各乡镇有哪些企业？它们参与哪些项目、这些项目属于哪些政策项目？
// en: Companies per town, with the projects they take part in and the programs those projects come under.
// param: town string = "" | 镇名；空 = 全部 / town name; empty = every town
// columns: town, company, type, project, program
// type: company, cooperative or family_farm. Empty project/program: none named for that company.
MATCH (t:Town)-[:HOSTS]->(c:Company)
WHERE $town = '' OR t.name = $town
OPTIONAL MATCH (t)-[:HAS_PROJECT]->(j:Project)-[:INVOLVES]->(c)
OPTIONAL MATCH (j)-[:UNDER_PROGRAM]->(p:Program)
RETURN DISTINCT t.name AS town, c.name AS company, c.type AS type, j.name AS project, p.name AS program
ORDER BY town, company, project, program
