// zh: 某乡镇历年报告中的目标与实际完成情况对照（按指标和时期）。
// en: Targets versus actuals of one town across its report years, per indicator and period.
// param: town string = 杨寨镇 | 镇名 / town name
// param: indicator string = "" | 指标概念；空 = 全部 / indicator concept; empty = every indicator
// columns: indicator, period, unit, target, target_growth, target_year, actual, actual_growth, actual_year
// target/actual are normalized values (yuan, USD or %: see `unit`), *_growth growth rates in %, *_year the
// year of the report that stated them: a target set in one year's report meets the actual reported the next.
// Plan: the target/actual patterns end in a fresh indicator matched by id (`gi.id = i.id`): with both ends
// already bound, LadybugDB joins every MEASURES relationship of the store (~170 ms at 10,000 reports, 4 ms so).
MATCH (t:Town)-[:REPORTS]->(o:Observation)-[:MEASURES]->(i:Indicator)
WHERE t.name = $town AND ($indicator = '' OR i.name = $indicator)
WITH DISTINCT t, i, o.period AS period
OPTIONAL MATCH (t)-[:REPORTS]->(g:Observation)-[:MEASURES]->(gi:Indicator)
WHERE gi.id = i.id AND g.kind = 'target' AND g.period = period
OPTIONAL MATCH (g)-[:FROM_REPORT]->(gr:Report)
OPTIONAL MATCH (t)-[:REPORTS]->(a:Observation)-[:MEASURES]->(ai:Indicator)
WHERE ai.id = i.id AND a.kind = 'actual' AND a.period = period
OPTIONAL MATCH (a)-[:FROM_REPORT]->(ar:Report)
RETURN DISTINCT i.name AS indicator, period, coalesce(a.normalized_unit, g.normalized_unit) AS unit,
       g.normalized AS target, g.growth_pct AS target_growth, gr.year AS target_year,
       a.normalized AS actual, a.growth_pct AS actual_growth, ar.year AS actual_year
ORDER BY indicator, period
