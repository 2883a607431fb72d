// zh: 某条事实出自哪里？给出报告、原句和原文字符位置。
// en: The provenance of a fact: the report, the sentence and the exact character span it was read from.
// param: subject string = 岱西镇 | 主体名称（镇或项目）/ subject name (a town or a project)
// param: object string = 乡村振兴 | 客体名称（政策项目、项目、企业或指标）/ object name (program, project, company or indicator)
// param: relation string = "" | 关系类型（IMPLEMENTS、HAS_PROJECT、UNDER_PROGRAM、INVOLVES、HOSTS、REPORTS）；空 = 任意 / relationship type; empty = any
// columns: relation, subject, object, report, file, span_start, span_end, quote, sentence, extractor
// span_start/span_end are raw character offsets of the report file as decoded (end exclusive): the file's
// characters [span_start, span_end) are exactly `quote`. REPORTS facts are indicator values (object = the
// indicator concept or the report's wording). A fact read in several reports gives one row per report.
// One UNION branch per relationship type: type(r) is label(r) in LadybugDB, so the type is spelled out.
MATCH (s:Town)-[r:IMPLEMENTS]->(o:Program)
WHERE s.name = $subject AND o.name = $object AND $relation IN ['', 'IMPLEMENTS']
RETURN 'IMPLEMENTS' AS relation, s.name AS subject, o.name AS object, r.report AS report, r.file AS file,
       r.start AS span_start, r.`end` AS span_end, r.quote AS quote, r.sentence AS sentence, r.extractor AS extractor
UNION
MATCH (s:Town)-[r:HAS_PROJECT]->(o:Project)
WHERE s.name = $subject AND o.name = $object AND $relation IN ['', 'HAS_PROJECT']
RETURN 'HAS_PROJECT' AS relation, s.name AS subject, o.name AS object, r.report AS report, r.file AS file,
       r.start AS span_start, r.`end` AS span_end, r.quote AS quote, r.sentence AS sentence, r.extractor AS extractor
UNION
MATCH (s:Project)-[r:UNDER_PROGRAM]->(o:Program)
WHERE s.name = $subject AND o.name = $object AND $relation IN ['', 'UNDER_PROGRAM']
RETURN 'UNDER_PROGRAM' AS relation, s.name AS subject, o.name AS object, r.report AS report, r.file AS file,
       r.start AS span_start, r.`end` AS span_end, r.quote AS quote, r.sentence AS sentence, r.extractor AS extractor
UNION
MATCH (s:Project)-[r:INVOLVES]->(o:Company)
WHERE s.name = $subject AND o.name = $object AND $relation IN ['', 'INVOLVES']
RETURN 'INVOLVES' AS relation, s.name AS subject, o.name AS object, r.report AS report, r.file AS file,
       r.start AS span_start, r.`end` AS span_end, r.quote AS quote, r.sentence AS sentence, r.extractor AS extractor
UNION
MATCH (s:Town)-[r:HOSTS]->(o:Company)
WHERE s.name = $subject AND o.name = $object AND $relation IN ['', 'HOSTS']
RETURN 'HOSTS' AS relation, s.name AS subject, o.name AS object, r.report AS report, r.file AS file,
       r.start AS span_start, r.`end` AS span_end, r.quote AS quote, r.sentence AS sentence, r.extractor AS extractor
UNION
MATCH (s:Town)-[:REPORTS]->(o:Observation)-[:MEASURES]->(i:Indicator)
WHERE s.name = $subject AND (i.name = $object OR o.name = $object) AND $relation IN ['', 'REPORTS']
RETURN 'REPORTS' AS relation, s.name AS subject, o.name AS object, o.report AS report, o.file AS file,
       o.start AS span_start, o.`end` AS span_end, o.quote AS quote, o.sentence AS sentence, o.extractor AS extractor
