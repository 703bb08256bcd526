#!/usr/bin/python3
"""generate.py — deterministic crypto-trading data with known, injected
defects, for the demo and for the quality tests.

    generate.py --sql            portable SQL (both engines) on stdout
    generate.py --validated      the same data as vigil_insert calls after the rules,
                                 so the defects are rejected row by row (the demo):
                                 each row is first checked with vigil_check into
                                 temp.vigil_load (n, table_name, row, problems),
                                 and inserted only when it has no problem, so the
                                 demo shows the rejected rows and why as a table
    generate.py --corpus FILE    the quality scenario for tests/parity

Tables: users, trades, market_data. Defects (every one known by key, so a
test can assert exact counts and sample keys):
  users        NULL emails, invalid emails, duplicate usernames
  trades       orphaned trades (user_id not in users), out-of-range prices
  market_data  stale data (the newest row is days old)
The expected report figures are computed here from the injected defects and
the score formula of docs/quality.md, not by running vigil.
"""
import argparse
import json
import random
import sys

SEED = 20261126
N_USERS, N_TRADES, N_MARKET = 200, 500, 100
NULL_EMAILS = [17, 42, 88, 121, 150, 171, 199]
BAD_EMAILS = {9: "trader@@example.com", 33: "no-at-sign.example.com", 64: "space in@example.com",
              97: "dot.@example.com", 140: "x@localhost"}
DUPLICATE_USERNAMES = {(12, 57), (80, 133), (101, 190)}   # the second takes the first's name
ORPHANED_TRADES = {41: 9001, 122: 9002, 303: 9003, 477: 9004}
BAD_PRICES = {7: -1, 58: 2500000, 199: -0.5, 260: 1000000.01, 341: 9999999, 420: -100}

COUNTRIES = ["US", "GB", "DE", "JP", "SG", "CH", "FR"]
SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "BTC-EUR", "ETH-BTC"]

RULES = [
    ("users", "email", "email", None),
    ("users", "username", "unique", None),
    ("trades", "user_id", "references", {"table": "users", "column": "id"}),
    ("trades", "price", "range", {"min": 0, "max": 1000000}),
    ("trades", "side", "one_of", ["buy", "sell"]),
]

SCHEMA = [
    "CREATE TABLE users (id integer PRIMARY KEY, username text NOT NULL, email text, country text, created_at text)",
    "CREATE TABLE trades (id integer PRIMARY KEY, user_id integer, symbol text, side text, price numeric, qty numeric)",
    "CREATE TABLE market_data (id integer PRIMARY KEY, symbol text, price numeric, ts text)",
]


def q(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def data():
    rnd = random.Random(SEED)
    users = []
    names = {}
    for i in range(1, N_USERS + 1):
        name = f"{rnd.choice(['sat', 'vit', 'ada', 'alan', 'grace', 'linus'])}_{i:03d}"
        names[i] = name
        email = f"{name}@example.com"
        if i in NULL_EMAILS:
            email = None
        if i in BAD_EMAILS:
            email = BAD_EMAILS[i]
        users.append([i, name, email, rnd.choice(COUNTRIES), f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00Z"])
    for first, second in DUPLICATE_USERNAMES:
        users[second - 1][1] = names[first]
    trades = []
    for i in range(1, N_TRADES + 1):
        user = ORPHANED_TRADES.get(i, rnd.randint(1, N_USERS))
        price = BAD_PRICES.get(i, round(rnd.uniform(10, 90000), 2))
        trades.append([i, user, rnd.choice(SYMBOLS), rnd.choice(["buy", "sell"]), price, round(rnd.uniform(0.01, 5), 4)])
    market = [[i, rnd.choice(SYMBOLS), round(rnd.uniform(10, 90000), 2), f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"]
              for i in range(1, N_MARKET + 1)]
    return users, trades, market


def inserts(table, rows):
    return f"INSERT INTO {table} VALUES " + ", ".join("(" + ", ".join(q(v) for v in r) + ")" for r in rows)


def rule_sql(table, column, rule, params):
    p = "NULL" if params is None else q(json.dumps(params))
    return f"SELECT vigil_rule_add({q(table)}, {q(column)}, {q(rule)}, {p})"


def expected():
    """The report figures the injected defects imply (docs/quality.md)."""
    w = {"completeness": 0.25, "validity": 0.30, "uniqueness": 0.15, "integrity": 0.20, "freshness": 0.10}

    def score(parts):
        return round(100 * sum(w[k] * v for k, v in parts.items()) / sum(w[k] for k in parts), 2)

    u_cells = N_USERS * 5
    users = {
        "rows": N_USERS,
        "completeness": {"percent": round(100 * (u_cells - len(NULL_EMAILS)) / u_cells, 2)},
        "validity": {"rows_invalid": len(BAD_EMAILS), "violation_percent": round(100 * len(BAD_EMAILS) / N_USERS, 2),
                     "rules": [{"column": "email", "rule": "email", "violations": len(BAD_EMAILS),
                                "samples": sorted(BAD_EMAILS)[:5]}]},
        "uniqueness": [{"columns": ["id"], "source": "primary key", "enforced": True, "duplicates": 0},
                       {"columns": ["username"], "source": "rule", "enforced": False,
                        "duplicates": len(DUPLICATE_USERNAMES),
                        "samples": sorted(k for pair in DUPLICATE_USERNAMES for k in pair)[:5]}],
        "score": score({"completeness": (u_cells - len(NULL_EMAILS)) / u_cells,
                        "validity": 1 - len(BAD_EMAILS) / N_USERS,
                        "uniqueness": 1 - len(DUPLICATE_USERNAMES) / N_USERS}),
        "passed": False,
    }
    trades = {
        "rows": N_TRADES,
        "validity": {"rows_invalid": len(BAD_PRICES),
                     "rules": [{"column": "price", "rule": "range", "violations": len(BAD_PRICES),
                                "samples": sorted(BAD_PRICES)[:5]},
                               {"column": "side", "rule": "one_of", "violations": 0}]},
        "integrity": {"percent": round(100 * (N_TRADES - len(ORPHANED_TRADES)) / N_TRADES, 2),
                      "relationships": [{"columns": ["user_id"], "references": {"table": "users", "columns": ["id"]},
                                         "source": "rule", "checked": N_TRADES, "orphans": len(ORPHANED_TRADES),
                                         "samples": sorted(ORPHANED_TRADES)[:5]}]},
        "score": score({"completeness": 1.0, "validity": 1 - len(BAD_PRICES) / N_TRADES,
                        "integrity": (N_TRADES - len(ORPHANED_TRADES)) / N_TRADES}),
        "passed": False,
    }
    market = {"rows": N_MARKET, "freshness": {"column": "ts", "max_age_hours": 24.0, "passed": False},
              "score": score({"completeness": 1.0, "freshness": 0.0}), "passed": False}
    return users, trades, market


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sql", action="store_true")
    ap.add_argument("--validated", action="store_true")
    ap.add_argument("--corpus")
    args = ap.parse_args()
    users, trades, market = data()
    statements = SCHEMA + [inserts("users", users), inserts("trades", trades), inserts("market_data", market)]
    if args.sql:
        for s in statements:
            print(s + ";")
        for r in RULES:
            print(rule_sql(*r) + ";")
        return 0
    if args.validated:
        for s in SCHEMA:
            print(s + ";")
        for r in RULES:
            print(rule_sql(*r) + ";")
        columns = {"users": ["id", "username", "email", "country", "created_at"],
                   "trades": ["id", "user_id", "symbol", "side", "price", "qty"],
                   "market_data": ["id", "symbol", "price", "ts"]}
        # A rejected row is an answer to show, not a script error: the check
        # is kept, and the insert runs only for a row without problems (the
        # same rules vigil_insert applies, checked against the rows before it).
        print("CREATE TEMP TABLE vigil_load (n integer PRIMARY KEY, table_name text, row text, problems text);")
        n = 0
        for table, rows in (("users", users), ("trades", trades), ("market_data", market)):
            for row in rows:
                n += 1
                obj = q(json.dumps(dict(zip(columns[table], row))))
                print(f"INSERT INTO temp.vigil_load VALUES ({n}, {q(table)}, {obj}, vigil_check({q(table)}, {obj}));")
                print(f"SELECT vigil_insert({q(table)}, {obj}) WHERE (SELECT problems FROM temp.vigil_load WHERE n = {n}) = '[]';")
        return 0
    if args.corpus:
        eu, et, em = expected()
        fresh = {"freshness_column": "ts", "max_age_hours": 24}
        lines = ["# Generated by examples/cryptotrading/generate.py --corpus: the quality scenario.",
                 "# Expectations come from the injected defects and the documented score formula;",
                 "# expect_subset compares only the keys listed."]
        cases = [{"exec": s, "expect": "ok"} for s in statements]
        cases += [{"exec": rule_sql(*r), "expect": "ok"} for r in RULES]
        cases.append({"fn": "vigil_quality_check", "args": ["users"], "expect": eu, "expect_subset": True})
        cases.append({"fn": "vigil_quality_check", "args": ["trades"], "expect": et, "expect_subset": True})
        cases.append({"fn": "vigil_quality_check", "args": ["market_data", json.dumps(fresh)], "expect": em,
                      "expect_subset": True})
        cases.append({"sql": "(SELECT count(*) FROM vigil_quality_history)", "expect": 3})
        cases.append({"sql": "(SELECT count(*) FROM vigil_alerts WHERE source = 'quality' AND severity = 'warning')",
                      "expect": 1})
        overall = round((eu["score"] + et["score"] + em["score"]) / 3, 2)
        cases.append({"fn": "vigil_quality_report", "args": [json.dumps({"tables": {"market_data": fresh}})],
                      "expect": {"overall_score": overall, "passed": False,
                                 "tables": [{"table": "market_data", "score": em["score"]},
                                            {"table": "trades", "score": et["score"]},
                                            {"table": "users", "score": eu["score"]}]},
                      "expect_subset": True})
        cases.append({"sql": "(SELECT count(*) FROM vigil_quality_history)", "expect": 7})
        # The same report as rows (vigil_quality_issues): one per defect
        # kind the targets catch; 7 NULL emails in 200 rows stay above 95 %.
        opts = json.dumps({"tables": {"market_data": fresh}}).replace("'", "''")

        def issue(where):
            return f"(SELECT count(*) FROM vigil_quality_issues('{opts}') WHERE {where})"

        def keys(k):
            return json.dumps(sorted(k)[:5], separators=(",", ":"))
        cases.append({"sql": f"(SELECT count(*) FROM vigil_quality_issues('{opts}'))", "expect": 5})
        cases.append({"sql": issue("table_name = 'market_data' AND dimension = 'freshness' AND column_name = 'ts'"
                                   " AND target = '<= 24' AND value > 24 AND NOT passed"), "expect": 1})
        cases.append({"sql": issue(f"table_name = 'trades' AND dimension = 'validity' AND column_name = 'price'"
                                   f" AND value = {round(100 * len(BAD_PRICES) / N_TRADES, 2)}"
                                   f" AND sample_keys = '{keys(BAD_PRICES)}'"), "expect": 1})
        cases.append({"sql": issue(f"table_name = 'trades' AND dimension = 'integrity' AND column_name = 'user_id'"
                                   f" AND value = {len(ORPHANED_TRADES)} AND sample_keys = '{keys(ORPHANED_TRADES)}'"),
                      "expect": 1})
        cases.append({"sql": issue(f"table_name = 'users' AND dimension = 'validity' AND column_name = 'email'"
                                   f" AND value = {round(100 * len(BAD_EMAILS) / N_USERS, 2)}"
                                   f" AND sample_keys = '{keys(BAD_EMAILS)}'"), "expect": 1})
        cases.append({"sql": issue(f"table_name = 'users' AND dimension = 'uniqueness' AND column_name = 'username'"
                                   f" AND value = {len(DUPLICATE_USERNAMES)}"
                                   f" AND sample_keys = '{keys(k for pair in DUPLICATE_USERNAMES for k in pair)}'"),
                      "expect": 1})
        cases.append({"sql": "(SELECT count(*) FROM vigil_quality_history)", "expect": 7})
        cases.append({"sql": "(SELECT count(*) FROM vigil_alerts WHERE severity = 'warning')", "expect": 1})
        cases.append({"fn": "vigil_quality_check", "args": ["users", '{"sample_percent": 0}'],
                      "expect": {"error": "quality option \"sample_percent\" must be a number in (0, 100]",
                                 "sqlstate": "22023"}})
        cases.append({"fn": "vigil_quality_check", "args": ["users", '{"freshness_column": "nope"}'],
                      "expect": {"error": "column \"nope\" of table \"users\" does not exist", "sqlstate": "42703"}})
        cases.append({"fn": "vigil_quality_check", "args": ["nope"],
                      "expect": {"error": "table \"nope\" does not exist", "sqlstate": "42P01"}})
        cases.append({"fn": "vigil_config", "args": ["quality_alert_score"], "expect": "80"})
        cases.append({"fn": "vigil_config", "args": ["quality_alert_score", "99"], "expect": "99"})
        cases.append({"fn": "vigil_config", "args": ["quality_alert_score", "x"],
                      "expect": {"error": "setting quality_alert_score must be an integer from 0 to 100",
                                 "sqlstate": "22023"}})
        cases.append({"fn": "vigil_config", "args": ["nope"],
                      "expect": {"error": "unknown setting \"nope\"", "sqlstate": "22023"}})
        with open(args.corpus, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(line + "\n")
            for c in cases:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        return 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
