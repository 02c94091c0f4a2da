CREATE TABLE t(n INTEGER, a TEXT, b TEXT);
.mode csv
.separator " "
.import records.txt t
.mode list
SELECT a, count(*), sum(n) % 100000 FROM t GROUP BY a ORDER BY a;
SELECT count(DISTINCT b), max(n), min(n) FROM t WHERE a < b;
