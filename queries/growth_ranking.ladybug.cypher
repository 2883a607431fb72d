// zh: 某指标的增速排名：哪些乡镇增长最快？
// en: Growth-rate ranking for an indicator: which towns grew it fastest?
// param: indicator string = 财政总收入 | 指标概念 / indicator concept
// param: period string = "" | 时期（如 2022）；空 = 全部时期 / period such as 2022; empty = every period
// param: kind string = actual | actual（实际增速）或 target（目标增速）/ actual or target growth
// columns: rank, town, period, growth_pct, value, unit, wording
// rank = 1 + the number of rows with a higher growth rate (ties share a rank). Periods differ between
// reports (2022, 2022-01..2022-10…); give `period` to rank like with like.
// LadybugDB only: the rivals' growth rates are collected once and counted per row with list_filter (a lambda;
// LadybugDB has no list comprehension), instead of the quadratic OPTIONAL MATCH (~130 → ~12 ms at 10,000 reports).
MATCH (o2:Observation)-[:MEASURES]->(i2:Indicator)
WHERE i2.name = $indicator AND o2.kind = $kind AND o2.growth_pct IS NOT NULL
  AND ($period = '' OR o2.period = $period)
WITH collect(o2.growth_pct) AS rivals
MATCH (t:Town)-[:REPORTS]->(o:Observation)-[:MEASURES]->(i:Indicator)
WHERE i.name = $indicator AND o.kind = $kind AND o.growth_pct IS NOT NULL
  AND ($period = '' OR o.period = $period)
RETURN size(list_filter(rivals, g -> g > o.growth_pct)) + 1 AS rank, t.name AS town, o.period AS period,
       o.growth_pct AS growth_pct, o.value AS value, o.unit AS unit, o.name AS wording
ORDER BY rank, town, period
