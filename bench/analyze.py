#!/usr/bin/python3
"""analyze.py — vigil_analyze_query per call, on both engines (issue 15).

    /usr/bin/python3 bench/analyze.py [CALLS_PER_STATEMENT]

Over 240 realistic statements of 100 to 300 bytes on the cryptotrading
schema (traders, trades), each statement called CALLS_PER_STATEMENT times
(default 200) inside the engine (SQLite: one statement over a 200-row
table; PostgreSQL: a PL/pgSQL loop, so no client round trip is measured):

- without plan ({"plan": false}): the static rules, the target is a median
  under 20 µs per call; the anchor, in the same run, is vigil_normalize
  on the same statements (the lexer pass every analysis starts with);
- with the plan only: EXPLAIN (FORMAT JSON) on PostgreSQL, EXPLAIN QUERY
  PLAN on SQLite, on tables of 20,000 trades;
- the default: the plan, the rules that read the schema and index
  suggestions proven against the planner (each candidate planned again).
PostgreSQL runs as the cluster's superuser, so the plan calls pass
{"plan_as_superuser": true}.

Prints the median over statements of the time per call and the ratio to
the anchor. Reported, never asserted. Needs the Meson build, and for
PostgreSQL the extension installed where pg_config points (a temporary
cluster is started)."""
import statistics
import sys
import time

from benchlib import pg_cluster, psql, sqlite_db

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "ADA-EUR"]


def statements():
    out = []
    i = 0
    while len(out) < 240:
        s = SYMBOLS[i % 4]
        shape = i % 6
        if shape == 0:
            q = (f"SELECT t.id, t.price, t.qty, u.email FROM trades t JOIN traders u ON u.id = t.trader_id "
                 f"WHERE t.symbol = '{s}' AND t.price > {100 + i} ORDER BY t.price DESC LIMIT {10 + i % 90}")
        elif shape == 1:
            ids = ", ".join(str(1000 + i * 7 + k) for k in range(i % 12 + 1))
            q = f"select id, symbol, side from trades where trader_id in ({ids}) and side = 'buy' and qty >= {i % 50}.5"
        elif shape == 2:
            q = (f"INSERT INTO trades (trader_id, symbol, side, price, qty) VALUES ({i}, '{s}', 'sell', "
                 f"{20000 + i}.25, 0.{i % 97})")
        elif shape == 3:
            q = (f"UPDATE traders SET email = 'user{i}@example.com', country = 'DE' WHERE id = {i} "
                 f"AND email <> 'user{i}@example.com' -- profile")
        elif shape == 4:
            q = (f"SELECT count(*), sum(price * qty) FROM trades WHERE symbol LIKE '%{s[:3]}%' AND price "
                 f"BETWEEN {i} AND {i + 5000} GROUP BY side HAVING count(*) > {i % 10}")
        else:
            q = f"/* cleanup */ DELETE FROM trades WHERE trader_id = {i} AND price < {i % 30}.5 AND side = 'sell'"
        if 100 <= len(q) <= 300:
            out.append(q)
        i += 1
    return out


SCHEMA = [
    "CREATE TABLE traders (id INTEGER PRIMARY KEY, username TEXT NOT NULL, email TEXT, country TEXT)",
    "CREATE TABLE trades (id INTEGER PRIMARY KEY, trader_id INTEGER, symbol TEXT, side TEXT, price NUMERIC, qty NUMERIC)",
]


def sqlite_medians(stmts):
    db = sqlite_db()
    for s in SCHEMA:
        db.execute(s)
    db.execute("CREATE TABLE n (i INTEGER)")
    db.executemany("INSERT INTO n VALUES (?)", [(k,) for k in range(CALLS)])
    db.execute("BEGIN")
    db.executemany("INSERT INTO traders (username, email, country) VALUES (?, ?, 'DE')",
                   [(f"u{k}", f"u{k}@example.com") for k in range(2000)])
    db.executemany("INSERT INTO trades (trader_id, symbol, side, price, qty) VALUES (?, ?, ?, ?, 1)",
                   [(k % 2000, SYMBOLS[k % 4], "buy" if k % 2 else "sell", k) for k in range(20000)])
    db.execute("COMMIT")
    db.execute("ANALYZE")
    # ?1 || substr(i, 1, 0) is the statement, made per row: SQLite would
    # otherwise compute a deterministic function of a constant once.
    calls = {
        "normalize (anchor)": "SELECT count(vigil_normalize(?1 || substr(i, 1, 0))) FROM n",
        "vigil, no plan": "SELECT count(vigil_analyze_query(?1 || substr(i, 1, 0), '{\"plan\": false}')) FROM n",
        "vigil, plan only": "SELECT count(vigil_analyze_query(?1 || substr(i, 1, 0), "
                            "'{\"index_advice\": false, \"schema_lint\": false}')) FROM n",
        "vigil, default": "SELECT count(vigil_analyze_query(?1 || substr(i, 1, 0))) FROM n",
    }
    times = {name: [] for name in calls}
    for q in stmts:
        for name, sql in calls.items():
            t0 = time.perf_counter()
            db.execute(sql, (q,)).fetchone()
            times[name].append((time.perf_counter() - t0) / CALLS * 1e6)
    return {name: statistics.median(v) for name, v in times.items()}


def pg_medians(stmts):
    with pg_cluster() as env:
        psql("CREATE EXTENSION vigil;" + ";".join(SCHEMA).replace("INTEGER PRIMARY KEY", "serial PRIMARY KEY") + ";"
             "INSERT INTO traders (username, email, country) SELECT 'u' || g, 'u' || g || '@example.com', 'DE' "
             "FROM generate_series(1, 2000) g;"
             "INSERT INTO trades (trader_id, symbol, side, price, qty) SELECT g % 2000, "
             "(ARRAY['BTC-USD','ETH-USD','SOL-USD','ADA-EUR'])[1 + g % 4], CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END, g, 1 "
             "FROM generate_series(1, 20000) g; ANALYZE;", env)
        psql("CREATE TABLE stmts (k int, q text);" + "".join(
            f"INSERT INTO stmts VALUES ({k}, $q${q}$q$);" for k, q in enumerate(stmts)), env)
        body = f"""
SET jit = off;
CREATE TEMP TABLE timings (name text, k int, us float8);
DO $$ DECLARE t0 timestamptz; r jsonb; s record; BEGIN
FOR s IN SELECT k, q FROM stmts ORDER BY k LOOP
  t0 := clock_timestamp();
  FOR i IN 1..{CALLS} LOOP PERFORM vigil_normalize(s.q); END LOOP;
  INSERT INTO timings VALUES ('normalize (anchor)', s.k, 1e6 * extract(epoch FROM clock_timestamp() - t0) / {CALLS});
  t0 := clock_timestamp();
  FOR i IN 1..{CALLS} LOOP r := vigil_analyze_query(s.q, '{{"plan": false}}'); END LOOP;
  INSERT INTO timings VALUES ('vigil, no plan', s.k, 1e6 * extract(epoch FROM clock_timestamp() - t0) / {CALLS});
  t0 := clock_timestamp();
  FOR i IN 1..{CALLS // 10} LOOP
    r := vigil_analyze_query(s.q, '{{"plan_as_superuser": true, "index_advice": false, "schema_lint": false}}');
  END LOOP;
  INSERT INTO timings VALUES ('vigil, plan only', s.k, 1e6 * extract(epoch FROM clock_timestamp() - t0) / {CALLS // 10});
  t0 := clock_timestamp();
  FOR i IN 1..{CALLS // 10} LOOP r := vigil_analyze_query(s.q, '{{"plan_as_superuser": true}}'); END LOOP;
  INSERT INTO timings VALUES ('vigil, default', s.k, 1e6 * extract(epoch FROM clock_timestamp() - t0) / {CALLS // 10});
END LOOP; END $$;
SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FROM timings GROUP BY name;"""
        medians = dict(line.split("|") for line in psql(body, env).splitlines())
        return {name: float(v) for name, v in medians.items()}


def show(engine, medians):
    anchor = medians["normalize (anchor)"]
    print(f"\n{engine}: median over statements, µs per call")
    for name in ["normalize (anchor)", "vigil, no plan", "vigil, plan only", "vigil, default"]:
        print(f"  {name:20s} {medians[name]:8.1f} µs  ratio {medians[name] / anchor:5.2f}")
    ok = medians["vigil, no plan"] < 20
    print(f"  target: no plan under 20 µs: {'met' if ok else 'NOT met'} ({medians['vigil, no plan']:.1f} µs)")
    return ok


def main():
    stmts = statements()
    print(f"{len(stmts)} statements, {sum(map(len, stmts)) / len(stmts):.0f} bytes on average, {CALLS} calls each")
    ok = show("SQLite", sqlite_medians(stmts))
    ok = show("PostgreSQL", pg_medians(stmts)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
