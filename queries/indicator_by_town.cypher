// zh: 同一时期、同一指标，各乡镇的数值比较（折算为元）。
// en: One indicator compared across towns for the same period, normalized to yuan.
// param: indicator string = 规上工业产值 | 指标概念 / indicator concept (财政总收入, 固定资产投资…)
// param: period string = 2022 | 时期：2022、2023-H1、2023-01..2023-07；空 = 全部 / period; empty = all
// param: kind string = actual | actual（实际）或 target（目标）；空 = 两者 / actual or target; empty = both
// columns: town, period, kind, yuan, value, unit, growth_pct, wording
// Only values stated in yuan (normalized unit CNY); `value`/`unit` as written, `wording` the report's own name.
MATCH (t:Town)-[:REPORTS]->(o:Observation)-[:MEASURES]->(i:Indicator)
WHERE i.name = $indicator AND o.normalized_unit = 'CNY' AND o.normalized IS NOT NULL
  AND ($period = '' OR o.period = $period) AND ($kind = '' OR o.kind = $kind)
RETURN DISTINCT t.name AS town, o.period AS period, o.kind AS kind, o.normalized AS yuan, o.value AS value,
       o.unit AS unit, o.growth_pct AS growth_pct, o.name AS wording
ORDER BY yuan DESC, town, period
