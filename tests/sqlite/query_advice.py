#!/usr/bin/python3
"""query_advice.py MODULE — vigil_analyze_query's index suggestions on SQLite
(issue 15), on the cryptotrading schema with 20,000 trades and statistics.

A query whose plan improves with a suggested index gets it, and the
suggested DDL creates an index SQLite then uses; a query an index already
serves gets none; the caller's schema is unchanged after every analysis,
a read-only file is advised too, and a schema SQLite's copy cannot hold
(a virtual table, a hostile row in sqlite_schema) is left out, never run.
Prints 'N passed, N failed'."""
import json
import os
import sqlite3
import sys
import tempfile

from harness import Checks
from harness import connect as connect_module

MODULE = os.path.abspath(sys.argv[1])
check = Checks()


def analyze(db, sql, options=None):
    args = (sql,) if options is None else (sql, options)
    return json.loads(db.execute(f"SELECT vigil_analyze_query({', '.join('?' * len(args))})", args).fetchone()[0])


def schema(db):
    return db.execute("SELECT type, name, sql FROM sqlite_schema ORDER BY name").fetchall()


def plan_details(db, sql):
    return [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql)]


tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "trading.db")
db = connect_module(MODULE, path)
db.executescript("""
CREATE TABLE traders (id INTEGER PRIMARY KEY, username TEXT NOT NULL, email TEXT, country TEXT);
CREATE TABLE trades (id INTEGER PRIMARY KEY, trader_id INTEGER REFERENCES traders (id), symbol TEXT, side TEXT,
                     price NUMERIC, qty NUMERIC);
CREATE VIEW big_trades AS SELECT id, symbol, price * qty AS notional FROM trades WHERE price * qty > 1000;
""")
db.execute("BEGIN")
db.executemany("INSERT INTO traders (username, email, country) VALUES (?, ?, ?)",
               [(f"u{k}", f"u{k}@example.com", ["DE", "FR", "US", "JP"][k % 4]) for k in range(2000)])
db.executemany("INSERT INTO trades (trader_id, symbol, side, price, qty) VALUES (?, ?, ?, ?, ?)",
               [(k % 2000, f"{['BTC', 'ETH', 'SOL', 'ADA'][k % 4]}-{k % 50}", "buy" if k % 2 else "sell", k, 1 + k % 3)
                for k in range(20000)])
db.execute("COMMIT")
db.execute("ANALYZE")
before = schema(db)

# Improves: the suggestion comes with its plans, and its DDL gives an index SQLite then uses.
q = "SELECT id, price FROM trades WHERE symbol = 'BTC-4' AND price > 100"
r = analyze(db, q)
s = r["index_suggestions"]
check(len(s) == 1 and s[0]["table"] == "trades" and s[0]["columns"] == ["symbol", "price"]
      and s[0]["removes_full_scans"] == ["trades"], f"a filtered scan gets a (symbol, price) index: {s}")
check(s and s[0]["plan_before"]["full_scans"] == ["trades"] and s[0]["plan_after"]["full_scans"] == []
      and "trades_symbol_price_idx" in s[0]["plan_after"]["scans"][0]["detail"], f"before and after: {s}")
check(schema(db) == before, "the analysis left the schema as it was")
db.execute(s[0]["ddl"])
check(any("trades_symbol_price_idx" in d for d in plan_details(db, q)), "the suggested DDL creates an index SQLite uses")
# Served now: no suggestion.
r = analyze(db, q)
check(r["index_suggestions"] == [], f"a query its index serves gets none: {r['index_suggestions']}")

# A join: the index behind the foreign key.
q = "SELECT t.id, u.email FROM trades t JOIN traders u ON u.id = t.trader_id WHERE u.country = 'JP' AND t.side = 'buy'"
s = analyze(db, q)["index_suggestions"]
check(any(x["table"] == "trades" and x["columns"][0] in ("trader_id", "side") for x in s),
      f"a join over an unindexed foreign key gets an index on trades: {[x['ddl'] for x in s]}")
# Sorting: an index that also sorts ends the temporary B-tree.
s = analyze(db, "SELECT id FROM trades ORDER BY price DESC LIMIT 10")["index_suggestions"]
check(len(s) == 1 and s[0]["columns"] == ["price"] and s[0]["plan_before"]["temp_b_tree"]
      and not s[0]["plan_after"]["temp_b_tree"], f"ORDER BY ... LIMIT gets an index on the sort key: {s}")
# Already served: the primary key, and nothing to filter.
for q in ["SELECT price FROM trades WHERE id = 42", "SELECT count(*) FROM trades",
          "SELECT id FROM traders WHERE lower(email) = 'u1@example.com'"]:
    s = analyze(db, q)["index_suggestions"]
    check(s == [], f"no suggestion for {q}: {s}")
# A view's table is found through the copied view.
s = analyze(db, "SELECT id FROM big_trades WHERE symbol = 'ETH-3'")
check(s["plan"] is not None, f"a query on a view plans: {s.get('plan_error')}")
# Options: advice off, and only with a plan.
r = analyze(db, "SELECT id FROM trades WHERE side = 'sell' AND qty = 2", '{"index_advice": false}')
check("index_suggestions" not in r and r["plan"] is not None, "index_advice false: a plan, no suggestions")
try:
    analyze(db, "SELECT 1", '{"plan": false, "index_advice": true}')
    check(False, "index_advice without plan is refused")
except sqlite3.Error as e:
    check("needs" in str(e), f"index_advice without plan is refused: {e}")
now = schema(db)
check([row for row in now if row[1] != "trades_symbol_price_idx"] == before and len(now) == len(before) + 1,
      "after all these analyses the schema holds only what the test created")
after = schema(db)
db.close()

# A read-only file is advised too: nothing is built in it.
ro = connect_module(MODULE, path, readonly=True)
s = analyze(ro, "SELECT id FROM trades WHERE side = 'sell' AND qty = 2")["index_suggestions"]
check(len(s) >= 1 and s[0]["table"] == "trades", f"a read-only database gets advice: {s}")
check(schema(ro) == after, "and stays as it was")
ro.close()

# A schema the copy cannot hold: a virtual table is left out (its query has no
# suggestion, the others still do); a row of sqlite_schema that is not a
# CREATE is never run in the copy.
db = connect_module(MODULE, os.path.join(tmp, "odd.db"))
db.executescript("""
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT);
INSERT INTO t (a, b) SELECT 'x' || value, value FROM json_each('[1,2,3,4,5,6,7,8,9,10]');
CREATE VIRTUAL TABLE r USING rtree(id, x0, x1);
""")
db.execute("PRAGMA writable_schema = ON")
db.execute("INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) "
           "VALUES ('view', 'evil', 'evil', 0, 'CREATE VIEW evil AS SELECT 1; ATTACH ''/tmp/vigil-evil.db'' AS e')")
db.execute("PRAGMA writable_schema = OFF")
db.close()
db = connect_module(MODULE, os.path.join(tmp, "odd.db"))
try:
    s = analyze(db, "SELECT id FROM t WHERE a = 'x3'")
    check(len(s["index_suggestions"]) == 1, f"a plain table next to odd objects is advised: {s.get('index_suggestions')}")
    s = analyze(db, "SELECT id FROM r WHERE x0 > 1")
    check(s["index_suggestions"] is None and "virtual tables" in s.get("index_advice_error", ""),
          f"a virtual table gets no suggestion, and why: {s.get('index_advice_error')}")
except sqlite3.Error as e:
    # SQLite itself may refuse the crafted schema; then nothing ran either.
    check("malformed" in str(e), f"a crafted schema is refused by SQLite: {e}")
check(not os.path.exists("/tmp/vigil-evil.db"), "the crafted statement never ran")
db.close()

# vigil_index_advice: suggestions merged over statements (an index whose
# columns start another's folds into it), ranked by the whole-table scans
# they end times calls; duplicate and redundant indexes; no unused list
# (SQLite counts no index scans).
db = connect_module(MODULE, os.path.join(tmp, "advice.db"))
db.executescript("""
CREATE TABLE trades (id INTEGER PRIMARY KEY, trader_id INTEGER, symbol TEXT, side TEXT, price NUMERIC);
CREATE INDEX trades_side ON trades (side);
CREATE INDEX trades_side_again ON trades (side);
CREATE INDEX trades_side_symbol ON trades (side, symbol);
""")
a = json.loads(db.execute("SELECT vigil_index_advice(?)", (json.dumps([
    "SELECT id FROM trades WHERE symbol = ?1",
    {"sql": "SELECT id FROM trades WHERE symbol = 'BTC' AND price > 5", "calls": 100},
    "SELECT id FROM trades WHERE trader_id = 7",
    "SELECT id FROM nowhere"]),)).fetchone()[0])
s = a["suggestions"]
check(a["statements"] == 4 and a["planned"] == 3 and a["ranked_by"] == "full_scans", f"counts and ranking: {a}")
check(len(s) == 2 and s[0]["columns"] == ["symbol", "price"] and s[0]["statements"] == [1, 2] and s[0]["calls"] == 101
      and s[1]["columns"] == ["trader_id"], f"merged and ranked: {s}")
check(a["errors"] == [{"statement": 4, "error": "no such table: nowhere"}], f"a statement that does not plan is reported: {a['errors']}")
check([d["index"] for d in a["duplicate_indexes"]] == ["trades_side_again"] and a["duplicate_indexes"][0]["duplicate_of"] == "trades_side",
      f"a duplicate index: {a['duplicate_indexes']}")
check([d["index"] for d in a["redundant_indexes"]] == ["trades_side"], f"a redundant index: {a['redundant_indexes']}")
check(a["unused_indexes"] is None and "SQLite" in a["unused_note"], "SQLite says it cannot tell unused indexes")
db.execute(s[0]["ddl"])
a = json.loads(db.execute("SELECT vigil_index_advice(?)", (json.dumps(["SELECT id FROM trades WHERE symbol = 'BTC' AND price > 5"]),)).fetchone()[0])
check(a["suggestions"] == [], f"served once created: {a['suggestions']}")
db.close()

# Lint that reads the schema: a function on an indexed column, a leading
# wildcard on a large table (ANALYZE's row count), a join along a foreign
# key without an index; and near misses (no index, a small table, an
# indexed foreign key, no statistics).
db = connect_module(MODULE, os.path.join(tmp, "lint.db"))
db.executescript("""
CREATE TABLE traders (id INTEGER PRIMARY KEY, username TEXT, email TEXT, country TEXT);
CREATE INDEX traders_email ON traders (email);
CREATE TABLE trades (id INTEGER PRIMARY KEY, trader_id INTEGER REFERENCES traders (id), symbol TEXT);
CREATE TABLE fills (id INTEGER PRIMARY KEY, trade_id INTEGER REFERENCES trades (id));
CREATE INDEX fills_trade ON fills (trade_id);
""")


def rules(sql):
    return [i["rule"] for i in analyze(db, sql)["issues"]]


check("wildcard_scan_large_table" not in rules("SELECT id FROM traders WHERE username LIKE '%bob'"),
      "no statistics: the table's size is unknown, no large-table finding")
db.execute("BEGIN")
db.executemany("INSERT INTO traders (username, email) VALUES (?, ?)", [(f"u{k}", f"u{k}@x") for k in range(20000)])
db.executemany("INSERT INTO trades (trader_id, symbol) VALUES (?, 'BTC')", [(k % 20000,) for k in range(500)])
db.execute("COMMIT")
db.execute("ANALYZE")
r = rules("SELECT id FROM traders WHERE lower(email) = 'a'")
check(r == ["function_on_column", "function_on_indexed_column"], f"a function on an indexed column: {r}")
r = rules("SELECT id FROM traders WHERE lower(country) = 'de'")
check(r == ["function_on_column"], f"no index on the column: the static finding only: {r}")
r = rules("SELECT id FROM traders WHERE username LIKE '%bob'")
check(r == ["wildcard_scan_large_table", "leading_wildcard_like"], f"a leading wildcard on 20,000 rows: {r}")
r = rules("SELECT id FROM trades WHERE symbol LIKE '%BTC'")
check(r == ["leading_wildcard_like"], f"on 500 rows, the static finding only: {r}")
r = rules("SELECT t.id FROM trades t JOIN traders u ON u.id = t.trader_id WHERE u.country = 'DE'")
check("unindexed_foreign_key" in r, f"a join along an unindexed foreign key: {r}")
r = rules("SELECT f.id FROM fills f JOIN trades t ON t.id = f.trade_id WHERE t.symbol = 'BTC'")
check("unindexed_foreign_key" not in r, f"an indexed foreign key: {r}")
r2 = [i["rule"] for i in analyze(db, "SELECT id FROM traders WHERE lower(email) = 'a'", '{"schema_lint": false}')["issues"]]
check(r2 == ["function_on_column"], f"schema_lint false: the static rules only: {r2}")
db.close()

# Found by the second attack review: the copy of a large schema cost SQLite
# a parse per object on every call (78 s for 20,000 tables). Only the
# statement's tables and their indexes are copied now; a statement on a
# view copies the whole schema, up to 2,000 objects, and beyond says so.
db = connect_module(MODULE, os.path.join(tmp, "wide.db"))
db.execute("BEGIN")
for k in range(2100):
    db.execute(f"CREATE TABLE w{k} (id INTEGER PRIMARY KEY, a INT, b TEXT)")
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b TEXT)")
db.execute("CREATE VIEW v AS SELECT id, a FROM t")
db.execute("COMMIT")
s = analyze(db, "SELECT id FROM t WHERE a = 5")
check(len(s["index_suggestions"]) == 1 and "index_advice_error" not in s, f"a table among 2,100 is advised: {s.get('index_suggestions')}")
s = analyze(db, "SELECT id FROM v WHERE a = 5")
check(s["plan"] is not None and s["index_suggestions"] is None and "more than 2000" in s.get("index_advice_error", ""),
      f"a view over a schema of 2,100 tables: the plan, and why no advice: {s.get('index_advice_error')}")
# The suggested name never collides with an existing object.
db.execute("CREATE INDEX t_a_idx ON t (b)")
s = analyze(db, "SELECT id FROM t WHERE a = 5")["index_suggestions"]
check(len(s) == 1 and s[0]["name"] == "t_a_idx_1" and "t_a_idx_1" in s[0]["plan_after"]["scans"][0]["detail"],
      f"a taken name gets a suffix, and the real index of that name is not taken for the candidate: {s}")
db.close()

# Found by an attack review: SQLite carries out a PRAGMA while it prepares
# EXPLAIN QUERY PLAN PRAGMA ..., so a view in a crafted file could turn the
# application's defences off through vigil_analyze_query. Only SELECT,
# VALUES, INSERT, UPDATE and DELETE reach the engine now.
db = connect_module(MODULE)
db.execute("PRAGMA trusted_schema = 0")
db.execute("PRAGMA query_only = 0")
for pragma in ["PRAGMA trusted_schema = 1", "/* c */ pragma query_only=1", "PRAGMA hard_heap_limit = 100000",
               "ATTACH ':memory:' AS x", "EXPLAIN SELECT 1", "VACUUM", "BEGIN"]:
    r = analyze(db, pragma)
    check(r["plan"] is None and "only SELECT" in r.get("plan_error", ""), f"{pragma} is not planned: {r.get('plan_error')}")
check(db.execute("PRAGMA trusted_schema").fetchone()[0] == 0 and db.execute("PRAGMA query_only").fetchone()[0] == 0,
      "the connection's settings are as they were")
check(db.execute("SELECT count(*) FROM pragma_database_list").fetchone()[0] == 1, "nothing was attached")
db.close()

sys.exit(check.summary("query advice"))
