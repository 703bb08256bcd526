#!/usr/bin/python3
"""json_schema.py — JSON Schema validation throughput: vigil in SQLite and in
PostgreSQL against python-jsonschema and Ajv, with each engine's parse-only
anchor, in the same run, over the same documents (issue 12).

    /usr/bin/python3 bench/json_schema.py [--docs N] [--quick] [--rounds R] [--no-pg] [--all-cents]

Schema: bench/data/order.schema.json (draft 2020-12; an order with a uuid id,
a customer with an email, a date-time, enums, lines through $ref to $defs
with a pattern, an integer minimum, exclusiveMinimum and multipleOf 0.01, a
shipping address through $ref with additionalProperties false, and tags with
uniqueItems). Documents: N orders (100,000; --quick: 10,000) generated here
from a fixed seed, about one in ten broken in one of the ways listed in
MUTATIONS. Every validator reads each document as JSON text and answers
valid or not; the time is text in, verdicts counted.

  vigil, SQLite     SELECT count(*) FROM docs WHERE vigil_json_schema_valid(?, doc)
                    (in-memory database, module from $VIGIL_BUILD, default build/)
    anchor          SELECT count(*) FROM docs WHERE json_valid(doc)
  vigil, PostgreSQL the same query over a text column in a temporary cluster,
                    with the vigil extension installed in the system; JIT and
                    parallel query off
    anchor          SELECT count(*) FROM docs WHERE doc::jsonb IS NOT NULL
  python-jsonschema Debian's python3-jsonschema, Draft202012Validator with a
                    FormatChecker: json.loads + is_valid per document
    anchor          json.loads alone
  Ajv               ajv (ajv/dist/2020) + ajv-formats under node, pinned
                    versions installed with `npm install --prefix` into
                    $VIGIL_BENCH_NPM (default /var/tmp/vigil-bench-npm);
                    skipped, with a message, when node or npm cannot get them
    anchor          JSON.parse alone

Formats are asserted by all four, so their answers can agree: vigil asserts
them by default, python-jsonschema through FormatChecker, Ajv through
ajv-formats (full mode). Debian 12 has no rfc3339-validator, without which
jsonschema 4.10.3's FormatChecker does not check date-time at all; this
script registers an RFC 3339 date-time check in its place (the same grammar
and calendar check as rfc3339-validator) and says so.

multipleOf 0.01: python-jsonschema and Ajv decide it by exact floating-point
division, so 19.99 (19.99 / 0.01 = 1998.9999999999998) is "not a multiple of
0.01" to them; vigil allows a relative 1e-9 and accepts it. Valid prices are
therefore drawn from the cent amounts whose quotient is exact, on which all
agree; --all-cents draws from every cent amount and shows the disagreement.

Every validator's valid count is printed; a mismatch is reported loudly with
the documents on which they differ. The medians of R rounds (default 3) are
shown. Exits 0.
"""
import argparse
import calendar
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings

from benchlib import BUILD, ROOT, pg_cluster, pg_medians, psql, sqlite_db

SCHEMA_PATH = os.path.join(ROOT, "bench", "data", "order.schema.json")
AJV_SCRIPT = os.path.join(ROOT, "bench", "json_schema_ajv.mjs")
NPM_DIR = os.environ.get("VIGIL_BENCH_NPM", "/var/tmp/vigil-bench-npm")
AJV_VERSION = "8.20.0"
AJV_FORMATS_VERSION = "3.0.1"
SEED = 12

# ---------------------------------------------------------------- documents

FIRST = ["Anna", "Ben", "Chloé", "David", "Émile", "Fatima", "Grace", "Hiro", "Ingrid", "Jonas", "Kofi",
         "Léa", "Mateo", "Nadia", "Olga", "Pál", "Quentin", "Rosa", "Søren", "Tomás", "Uma", "Victor",
         "Wen", "Ximena", "Yusuf", "Zoë"]
LAST = ["Müller", "Smith", "García", "Nguyen", "Okafor", "Rossi", "Kowalski", "Dubois", "Tanaka", "Ødegaard",
        "Silva", "Johansson", "O'Brien", "Novák", "Schmidt", "Brown", "Fernández", "Kim", "Haddad", "Lefèvre"]
ASCII = str.maketrans("éÉèçöüøØåáíóúàâñëäő", "eEecouoOaaiouaaneao")
DOMAINS = ["example.com", "mail.example.org", "shop.example.net", "example.co.uk", "kunden.example.de"]
CITIES = [("Berlin", "DE", "10115"), ("Paris", "FR", "75002"), ("London", "GB", "SW1A 1AA"), ("Madrid", "ES", "28013"),
          ("Oslo", "NO", "0150"), ("Zürich", "CH", "8001"), ("Boston", "US", "02108"), ("Toronto", "CA", "M5H 2N2"),
          ("Amsterdam", "NL", "1012 JS"), ("Kraków", "PL", "31-001")]
STREETS = ["Hauptstraße", "Rue de Rivoli", "High Street", "Calle Mayor", "Karl Johans gate", "Bahnhofstrasse",
           "Main Street", "King Street West", "Damrak", "Floriańska"]
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CHF"]
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
TAGS = ["gift", "express", "fragile", "b2b", "repeat", "promo", "wholesale", "eco", "priority", "insured"]


def cents_exact(c):
    """Whether c/100, as a double, is an exact multiple of 0.01 by plain
    floating-point division (the test python-jsonschema and Ajv apply)."""
    q = (c / 100) / 0.01
    return q == int(q)


class Orders:
    def __init__(self, seed, all_cents):
        self.rng = random.Random(seed)
        self.all_cents = all_cents

    def price(self):
        while True:
            c = self.rng.choice([self.rng.randint(1, 2000), self.rng.randint(100, 50000), self.rng.randint(1, 99) * 100 - 1])
            if self.all_cents or cents_exact(c):
                return c / 100

    def created_at(self):
        r = self.rng
        y, m = r.randint(2023, 2026), r.randint(1, 12)
        d = r.randint(1, calendar.monthrange(y, m)[1])
        frac = r.choice(["", "", ".%03d" % r.randint(0, 999), ".%06d" % r.randint(0, 999999)])
        zone = r.choice(["Z", "Z", "+01:00", "+02:00", "-05:00", "+05:30", "-08:00"])
        return f"{y:04d}-{m:02d}-{d:02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}{frac}{zone}"

    def order(self):
        r = self.rng
        first, last = r.choice(FIRST), r.choice(LAST)
        local = f"{first}.{last}".translate(ASCII).lower().replace("'", "")
        if r.random() < 0.2:
            local += "+" + r.choice(TAGS)
        elif r.random() < 0.2:
            local += str(r.randint(1, 99))
        city, country, postal = r.choice(CITIES)
        address = {"line1": f"{r.choice(STREETS)} {r.randint(1, 250)}", "city": city, "postal_code": postal,
                   "country": country}
        if r.random() < 0.3:
            address["line2"] = f"Apt {r.randint(1, 60)}"
        doc = {
            "id": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "customer": {"email": f"{local}@{r.choice(DOMAINS)}", "name": f"{first} {last}"},
            "created_at": self.created_at(),
            "currency": r.choice(CURRENCIES),
            "status": r.choice(STATUSES),
            "lines": [{"sku": f"{''.join(r.choice('ABCDEFGHJKLMNPQRSTUVWXYZ') for _ in range(3))}-"
                              f"{r.randint(0, 10 ** r.randint(4, 6) - 1):0{r.choice([4, 5, 6])}d}",
                       "quantity": r.choice([1, 1, 1, 2, 2, 3, 5, 10, 24]),
                       "unit_price": self.price()} for _ in range(r.choice([1, 1, 2, 2, 3, 4, 6, 10]))],
            "shipping_address": address,
        }
        if r.random() < 0.2:
            doc["customer"]["vip"] = r.random() < 0.5
        if r.random() < 0.5:
            doc["tags"] = r.sample(TAGS, r.randint(1, 4))
        if r.random() < 0.1:
            doc["note"] = "Bitte beim Nachbarn abgeben." if r.random() < 0.5 else "Leave at the door, please."
        return doc


def _line(doc, rng):
    return rng.choice(doc["lines"])


# Each breaks one rule of the schema; every validator must reject the result.
MUTATIONS = {
    "id not a uuid": lambda d, r: d.update(id=d["id"][:-1]),
    "id uuid without hyphens": lambda d, r: d.update(id=d["id"].replace("-", "")),
    "email without @": lambda d, r: d["customer"].update(email=d["customer"]["email"].replace("@", " at ")),
    "name empty": lambda d, r: d["customer"].update(name=""),
    "name over 80 chars": lambda d, r: d["customer"].update(name="Ä" * 81),
    "customer missing": lambda d, r: d.pop("customer"),
    "created_at without zone": lambda d, r: d.update(created_at=re.sub(r"(Z|[+-]\d\d:\d\d)$", "", d["created_at"])),
    "created_at Feb 30": lambda d, r: d.update(created_at="2025-02-30" + d["created_at"][10:]),
    "created_at a date only": lambda d, r: d.update(created_at=d["created_at"][:10]),
    "currency lower case": lambda d, r: d.update(currency=d["currency"].lower()),
    "status unknown": lambda d, r: d.update(status="refunded"),
    "lines empty": lambda d, r: d.update(lines=[]),
    "lines an object": lambda d, r: d.update(lines=d["lines"][0]),
    "sku lower case": lambda d, r: (lambda l: l.update(sku=l["sku"].lower()))(_line(d, r)),
    "sku too short": lambda d, r: (lambda l: l.update(sku=l["sku"][:6]))(_line(d, r)),
    "quantity 0": lambda d, r: _line(d, r).update(quantity=0),
    "quantity 1.5": lambda d, r: _line(d, r).update(quantity=1.5),
    "quantity a string": lambda d, r: (lambda l: l.update(quantity=str(l["quantity"])))(_line(d, r)),
    "unit_price 0": lambda d, r: _line(d, r).update(unit_price=0),
    "unit_price negative": lambda d, r: (lambda l: l.update(unit_price=-l["unit_price"]))(_line(d, r)),
    "unit_price 3 decimals": lambda d, r: _line(d, r).update(unit_price=r.randint(1, 999) + 0.005),
    "line extra property": lambda d, r: _line(d, r).update(discount=0.1),
    "address missing city": lambda d, r: d["shipping_address"].pop("city"),
    "address extra property": lambda d, r: d["shipping_address"].update(phone="+4930123456"),
    "address country lower": lambda d, r: d["shipping_address"].update(country=d["shipping_address"]["country"].lower()),
    "tags duplicated": lambda d, r: d.update(tags=["gift", "express", "gift"]),
    "vip a string": lambda d, r: d["customer"].update(vip="yes"),
}


def generate(n, all_cents):
    """n documents as JSON text, and for each the mutation applied (None if
    it is meant to be valid)."""
    gen = Orders(SEED, all_cents)
    pick = random.Random(SEED + 1)
    names = list(MUTATIONS)
    docs, kinds = [], []
    for _ in range(n):
        doc = gen.order()
        kind = None
        if pick.random() < 0.10:
            kind = pick.choice(names)
            MUTATIONS[kind](doc, pick)
        docs.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        kinds.append(kind)
    return docs, kinds


# ---------------------------------------------------------------- validators

def rate(n, ms):
    return n / (ms / 1000)


def subset(error):
    """The draft support of a vigil that rejects `if` (the evaluator before
    the full draft 2020-12 rewrite), from the error it raised."""
    first = error.strip().splitlines()[0].removeprefix("ERROR:").strip()
    return "2020-12 subset: " + ("no if/then/else" if "keyword if" in first else first)


def bench_sqlite(schema, docs, rounds):
    db = sqlite_db()
    db.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO docs VALUES (?, ?)", enumerate(docs))
    db.execute("COMMIT")
    queries = {"anchor": ("SELECT count(*) FROM docs WHERE json_valid(doc)", ()),
               "vigil": ("SELECT count(*) FROM docs WHERE vigil_json_schema_valid(?, doc)", (schema,))}
    times, counts = {k: [] for k in queries}, {}
    for _ in range(rounds):
        for name, (sql, args) in queries.items():
            t0 = time.perf_counter()
            counts[name] = db.execute(sql, args).fetchone()[0]
            times[name].append((time.perf_counter() - t0) * 1000)
    invalid = {i for (i,) in db.execute("SELECT id FROM docs WHERE NOT vigil_json_schema_valid(?, doc)", (schema,))}
    try:
        db.execute("SELECT vigil_json_schema_valid('{\"if\": true, \"then\": true}', '1')").fetchone()
        draft = "2020-12"
    except sqlite3.Error as e:
        draft = subset(str(e))
    return {"version": sqlite3.sqlite_version, "anchor_ms": statistics.median(times["anchor"]),
            "anchor_valid": counts["anchor"], "ms": statistics.median(times["vigil"]), "valid": counts["vigil"],
            "invalid": invalid, "draft": draft}


def bench_pg(schema, docs, rounds, tmp):
    path = os.path.join(tmp, "docs.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        for i, d in enumerate(docs):
            f.write(f'{i},"' + d.replace('"', '""') + '"\n')
    assert "$vs$" not in schema and "$$" not in schema
    lit = f"$vs${schema}$vs$"
    with pg_cluster("shared_buffers = '512MB'") as env:
        psql(f"""
            CREATE EXTENSION vigil;
            CREATE TABLE docs (id int PRIMARY KEY, doc text NOT NULL);
            \\copy docs FROM '{path}' WITH (FORMAT csv)
            VACUUM ANALYZE docs;
        """, env)
        med = pg_medians(env, {"anchor": "SELECT count(*) INTO n FROM docs WHERE doc::jsonb IS NOT NULL;",
                               "vigil": f"SELECT count(*) INTO n FROM docs WHERE vigil_json_schema_valid({lit}, doc);"},
                         rounds)
        out = psql(f"""
            SET jit = off; SET max_parallel_workers_per_gather = 0;
            SELECT count(*) FROM docs WHERE doc::jsonb IS NOT NULL;
            SELECT count(*) FROM docs WHERE vigil_json_schema_valid({lit}, doc);
            SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM docs WHERE NOT vigil_json_schema_valid({lit}, doc);
            SELECT split_part(current_setting('server_version'), ' ', 1);
            SELECT extversion FROM pg_extension WHERE extname = 'vigil';
        """, env).split("\n")
        probe = subprocess.run(["psql", "-X", "-q", "-At", "-c",
                                """SELECT vigil_json_schema_valid('{"if": true, "then": true}', '1')"""],
                               env=env, capture_output=True, text=True)
        draft = "2020-12" if probe.returncode == 0 else subset(probe.stderr)
    return {"version": out[3], "extversion": out[4], "anchor_ms": med["anchor"], "anchor_valid": int(out[0]),
            "ms": med["vigil"], "valid": int(out[1]), "invalid": {int(i) for i in out[2].split(",") if i},
            "draft": draft}


RFC3339 = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?"
                     r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$", re.ASCII | re.IGNORECASE)


def rfc3339_date_time(instance):
    """RFC 3339 date-time, as jsonschema checks it with rfc3339-validator
    0.1.4: ASCII digits, T and Z in either case, no leap second, year 0
    rejected, the day within its month."""
    if not isinstance(instance, str):
        return True
    m = RFC3339.match(instance)
    if not m:
        return False
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return y > 0 and 1 <= d <= calendar.monthrange(y, mo)[1]


def bench_python(schema, docs, rounds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import jsonschema
        from jsonschema import Draft202012Validator, FormatChecker
        import jsonschema.validators
        try:
            from importlib.metadata import version
            ver = version("jsonschema")
        except Exception:
            ver = jsonschema.__version__
    drafts = [n[5:-9] for n in dir(jsonschema.validators) if n.startswith("Draft") and n.endswith("Validator")]
    drafts = sorted(drafts, key=lambda s: (len(s) > 1, s))
    checker = FormatChecker()
    note = "formats by FormatChecker"
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(rfc3339_date_time)
        note += "; date-time by this script's RFC 3339 check (no rfc3339-validator on Debian 12)"
    validator = Draft202012Validator(json.loads(schema), format_checker=checker)
    for kind, example in (("uuid", "not-a-uuid"), ("email", "no-at-sign"), ("date-time", "2025-02-30T00:00:00Z")):
        assert not validator.evolve(schema={"format": kind}).is_valid(example), f"jsonschema does not assert {kind}"
    parse_ms, ms = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for d in docs:
            json.loads(d)
        parse_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        n = 0
        for d in docs:
            if validator.is_valid(json.loads(d)):
                n += 1
        ms.append((time.perf_counter() - t0) * 1000)
    invalid = {i for i, d in enumerate(docs) if not validator.is_valid(json.loads(d))}
    return {"version": ver, "drafts": ", ".join(d.replace("2019", "2019-").replace("2020", "2020-") for d in drafts),
            "note": note, "anchor_ms": statistics.median(parse_ms), "ms": statistics.median(ms), "valid": n, "invalid": invalid}


def npm_installed(pkg):
    try:
        with open(os.path.join(NPM_DIR, "node_modules", pkg, "package.json")) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return None


def bench_ajv(schema_path, docs, rounds, tmp):
    """Ajv's figures, or a string saying why it was skipped."""
    if not shutil.which("node"):
        return "node is not installed (apt-get install nodejs npm)"
    if npm_installed("ajv") != AJV_VERSION or npm_installed("ajv-formats") != AJV_FORMATS_VERSION:
        if not shutil.which("npm"):
            return "npm is not installed (apt-get install nodejs npm)"
        os.makedirs(NPM_DIR, exist_ok=True)
        try:
            out = subprocess.run(["npm", "install", "--prefix", NPM_DIR, "--no-audit", "--no-fund", "--save-exact",
                                  "--fetch-retries=1", "--fetch-retry-maxtimeout=10000", "--fetch-timeout=60000",
                                  f"ajv@{AJV_VERSION}", f"ajv-formats@{AJV_FORMATS_VERSION}"],
                                 capture_output=True, text=True, timeout=300, cwd=tmp)
        except subprocess.TimeoutExpired:
            return f"npm install into {NPM_DIR} timed out (no network to the npm registry?)"
        if out.returncode or npm_installed("ajv") != AJV_VERSION:
            lines = [l for l in out.stderr.splitlines() if l.strip() and "complete log" not in l]
            return f"npm install into {NPM_DIR} failed (no network to the npm registry?): " + \
                " / ".join(lines[:3] or ["?"])
    path = os.path.join(tmp, "docs.ndjson")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(docs) + "\n")
    out = subprocess.run(["node", AJV_SCRIPT, NPM_DIR, schema_path, path, str(rounds)], capture_output=True, text=True)
    if out.returncode:
        return "node bench/json_schema_ajv.mjs failed: " + out.stderr.strip()[-500:]
    r = json.loads(out.stdout)
    return {"version": r["ajv"], "formats": r["ajv_formats"], "node": r["node"],
            "anchor_ms": statistics.median(r["parse_ms"]), "ms": statistics.median(r["validate_ms"]),
            "valid": r["valid"], "invalid": set(r["invalid_ids"])}


# ---------------------------------------------------------------- report

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10,000 documents (smoke run)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--all-cents", action="store_true",
                    help="draw prices from every cent amount (python-jsonschema and Ajv then reject some valid ones)")
    args = ap.parse_args()
    n = 10_000 if args.quick else args.docs

    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.dumps(json.load(f), separators=(",", ":"))
    t0 = time.perf_counter()
    docs, kinds = generate(n, args.all_cents)
    expected_valid = kinds.count(None)
    print(f"{n:,} order documents (seed {SEED}), {sum(map(len, docs)) / n:.0f} bytes on average, "
          f"generated in {time.perf_counter() - t0:.1f} s; {n - expected_valid:,} broken on purpose "
          f"({len(set(k for k in kinds if k))} kinds), so {expected_valid:,} should be valid.")
    print(f"schema: {os.path.relpath(SCHEMA_PATH, ROOT)}; medians of {args.rounds} rounds; "
          f"every row takes JSON text in and counts the valid documents.")

    rows, results = [], {}
    with tempfile.TemporaryDirectory(prefix="vigil-json-schema-") as tmp:
        s = bench_sqlite(schema, docs, args.rounds)
        print(f"SQLite {s['version']}, vigil module {os.path.join(BUILD, 'sqlite_ext', 'vigil.so')}")
        rows.append((f"anchor: SQLite {s['version']} json_valid(doc)", "parse only", s["anchor_ms"], s["anchor_valid"]))
        rows.append(("vigil, SQLite: vigil_json_schema_valid(?, doc)", s["draft"], s["ms"], s["valid"]))
        results["vigil, SQLite"] = s

        if not args.no_pg:
            p = bench_pg(schema, docs, args.rounds, tmp)
            print(f"PostgreSQL {p['version']}, vigil extension {p['extversion']} as installed in the system")
            rows.append((f"anchor: PostgreSQL {p['version']} doc::jsonb IS NOT NULL", "parse only", p["anchor_ms"],
                         p["anchor_valid"]))
            rows.append(("vigil, PostgreSQL: vigil_json_schema_valid($1, doc)", p["draft"], p["ms"], p["valid"]))
            results["vigil, PostgreSQL"] = p

        py = bench_python(schema, docs, args.rounds)
        print(f"python-jsonschema {py['version']} (Debian python3-jsonschema, {sys.executable} "
              f"{sys.version.split()[0]}): drafts {py['drafts']}; Draft202012Validator; {py['note']}")
        rows.append((f"anchor: Python {sys.version.split()[0]} json.loads", "parse only", py["anchor_ms"], n))
        rows.append((f"python-jsonschema {py['version']}", f"2020-12 (has {py['drafts']})", py["ms"], py["valid"]))
        results["python-jsonschema"] = py

        a = bench_ajv(SCHEMA_PATH, docs, args.rounds, tmp)
        if isinstance(a, str):
            print(f"Ajv SKIPPED: {a}")
        else:
            print(f"Ajv {a['version']} (ajv/dist/2020) + ajv-formats {a['formats']} (full mode, formats asserted) "
                  f"under node {a['node']}, from {NPM_DIR}")
            rows.append((f"anchor: node {a['node']} JSON.parse", "parse only", a["anchor_ms"], n))
            rows.append((f"Ajv {a['version']} + ajv-formats {a['formats']}", "2020-12 (Ajv 8: 6, 7, 2019-09, 2020-12)",
                         a["ms"], a["valid"]))
            results["Ajv"] = a

    py_rate = rate(n, results["python-jsonschema"]["ms"])
    ajv_rate = rate(n, results["Ajv"]["ms"]) if "Ajv" in results else None
    print(f"\nJSON Schema validation, {n:,} documents (ratio = this row's docs/s ÷ that validator's docs/s):")
    w = max(len(r[0]) for r in rows)
    dw = min(max(len(r[1]) for r in rows), 48)
    print(f"  {'validator':{w}s}  {'draft support':{dw}s}  {'docs/s':>11s}  {'vs python':>9s}  {'vs Ajv':>7s}  valid")
    for name, draft, ms, valid in rows:
        r = rate(n, ms)
        vs_ajv = f"{r / ajv_rate:7.2f}" if ajv_rate else f"{'–':>7s}"
        print(f"  {name:{w}s}  {draft[:dw]:{dw}s}  {r:11,.0f}  {r / py_rate:9.2f}  {vs_ajv}  {valid:,}")
    if any(len(r[1]) > dw for r in rows):
        for name, draft, _, _ in rows:
            if len(draft) > dw:
                print(f"  ({name}: {draft})")

    counts = {k: v["valid"] for k, v in results.items()}
    if len(set(counts.values())) == 1 and expected_valid in counts.values():
        print(f"\nAll validators agree: {expected_valid:,} valid, as generated.")
    else:
        print("\n" + "!" * 78)
        print("!!! MISMATCH in the valid counts: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
              + f"; generated to be valid: {expected_valid:,}")
        differ = sorted(i for i in range(n)
                        if len({i in v["invalid"] for v in results.values()} | {kinds[i] is not None}) > 1)
        print(f"!!! {len(differ):,} documents on which they differ (first 5):")
        for i in differ[:5]:
            verdicts = ", ".join(f"{k}: {'invalid' if i in v['invalid'] else 'valid'}" for k, v in results.items())
            print(f"!!!   doc {i} (broken: {kinds[i] or 'no'}): {verdicts}")
            print(f"!!!     {docs[i][:300]}")
        print("!" * 78)
    return 0


if __name__ == "__main__":
    sys.exit(main())
