// zh: 投资额不低于某个数（元）的项目有哪些？
// en: Projects with an investment of at least X yuan.
// param: min_yuan number = 1000000000 | 最低投资额（元），默认 10 亿元 / minimum investment in yuan (default 1 billion = 10亿元)
// columns: town, project, yuan, value, unit, status
// `yuan` is the investment normalized to yuan; `value`/`unit` as written (58 亿元).
MATCH (t:Town)-[:HAS_PROJECT]->(j:Project)
WHERE j.investment_yuan >= $min_yuan
RETURN DISTINCT t.name AS town, j.name AS project, j.investment_yuan AS yuan, j.investment_value AS value,
       j.investment_unit AS unit, j.status AS status
ORDER BY yuan DESC, town, project
