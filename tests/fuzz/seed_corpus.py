#!/usr/bin/env python3
"""seed_corpus.py — writes the committed seed corpus, tests/fuzz/corpus/<target>/.

Seeds come from the case corpus (tests/cases/*.jsonl), the public vectors
(../shared/testdata) and hand-made hostile inputs (deep nesting, 1e309,
invalid UTF-8, NUL bytes). Each file is one input in the target's format
(see the target's banner). Crash reproducers (crash-*) are added by hand
when a fuzz run finds something, and this script leaves them alone.

    tests/fuzz/seed_corpus.py            # rewrite every case-*, vec-*, hostile-* seed
"""
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
TESTDATA = os.path.join(ROOT, "..", "shared", "testdata")
PER_SOURCE = 40  # seeds per target and source, at most: the corpus stays small

# Kinds() order (common/validate/registry.cc); then the target's extras.
KINDS = ["email", "url", "uuid", "phone", "iso8601", "ipv4", "ipv6", "cidr", "iban", "luhn", "json",
         "crypto_symbol", "btc_address", "eth_address", "username", "semver"]
PHONE_REGION, UUID_VERSION, IBAN_NORMALIZE = len(KINDS), len(KINDS) + 1, len(KINDS) + 2

seeds = {}  # target -> {name: bytes}


def add(target, prefix, data, cap=PER_SOURCE):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    bucket = seeds.setdefault(target, {})
    if sum(1 for n in bucket if n.startswith(prefix + "-")) >= cap:
        return
    if data in bucket.values():
        return
    bucket[f"{prefix}-{hashlib.sha1(data).hexdigest()[:12]}"] = data


def arg(a):
    """A case argument as bytes ({repeat,times,suffix} and {hex} build it)."""
    if isinstance(a, dict) and "repeat" in a:
        return (a["repeat"] * min(a["times"], 70000) + a.get("suffix", "")).encode()
    if isinstance(a, dict) and "hex" in a:
        return bytes.fromhex(a["hex"])
    if a is None:
        return None
    return a.encode() if isinstance(a, str) else json.dumps(a).encode()


def cases(name):
    with open(os.path.join(ROOT, "tests", "cases", name), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                yield json.loads(line)


FN_KIND = {f"vigil_is_{k}": k for k in KINDS}

for c in cases("validators.jsonl"):
    fn, args = c.get("fn"), [arg(a) for a in c.get("args", [])]
    if any(a is None for a in args):
        continue
    if fn in FN_KIND and len(args) == 1:
        add("validators", "case-" + FN_KIND[fn], bytes([KINDS.index(FN_KIND[fn])]) + args[0], 8)
    elif fn == "vigil_is_phone" and len(args) == 2:
        add("validators", "case-phone_region", bytes([PHONE_REGION]) + args[1][:2].ljust(2) + args[0], 8)
    elif fn == "vigil_validate" and len(args) == 2 and args[0].decode(errors="replace") in KINDS:
        add("validators", "case-" + args[0].decode(), bytes([KINDS.index(args[0].decode())]) + args[1], 8)
    elif fn == "vigil_uuid_version":
        add("validators", "case-uuid_version", bytes([UUID_VERSION]) + args[0], 8)
    elif fn == "vigil_iban_normalize":
        add("validators", "case-iban_normalize", bytes([IBAN_NORMALIZE]) + args[0], 8)
    elif fn == "vigil_json_schema_valid" and len(args) == 2:
        add("json_schema", "case", args[0] + b"\0" + args[1])
    elif fn == "vigil_rule_check" and len(args) == 3:
        add("rule", "case", args[0] + b"\0" + args[1] + b"\0" + args[2])
    if fn == "vigil_is_json":
        add("json_input", "case", args[0])

rules_by_table = {}
for c in cases("rules.jsonl"):
    fn, args = c.get("fn"), c.get("args", [])
    if fn == "vigil_rule_add" and len(args) >= 3:
        params = args[3] if len(args) > 3 else None
        kind = args[2].encode()
        p = b"\0" + (b"" if params is None else params.encode())
        add("rule", "case", kind + p + b"\0" + b"42")
        rules_by_table.setdefault(args[0], []).append((args[1] or "", args[2], params))
    for a in args:
        if isinstance(a, str) and a.startswith("{"):
            add("json_input", "case", a)
            for table, rs in rules_by_table.items():
                body = b"".join(b"\0" + col.encode() + b"\0" + kind.encode() +
                                (b"\0" + p.encode() if p is not None else b"\0") for col, kind, p in rs[:6])
                add("row_check", "case", a.encode() + body)

for name in ("migrations.jsonl", "migrations_outside.jsonl"):
    for c in cases(name):
        args = c.get("args", [])
        if c.get("fn") == "vigil_migration_add":
            for a in args[2:]:
                if isinstance(a, str):
                    for flags in (0, 1, 2, 3):
                        add("migrate_scanner", "case", bytes([flags]) + a.encode())
                    add("sql_lexer", "case", a)
            if args and isinstance(args[0], str):
                add("migrate_scanner", "case", b"\0" + args[0].encode())
        if c.get("fn") == "vigil_checksum" and args and isinstance(args[0], str):
            add("migrate_scanner", "case", b"\0" + args[0].encode())
        if "exec" in c or "sql" in c:
            add("sql_lexer", "case", c.get("exec") or c.get("sql"))
            add("sql_normalize", "case", b"\0" + (c.get("exec") or c.get("sql")).encode())

# Public vectors: JSON-Schema-Test-Suite style files of strings per kind.
for rel, kind in (("uuid/uuid.json", "uuid"), ("email/email.json", "email"), ("email/idn-email.json", "email"),
                  ("iso8601/date-time.json", "iso8601"), ("url/uri.json", "url")):
    path = os.path.join(TESTDATA, rel)
    if not os.path.exists(path):
        continue
    for group in json.load(open(path, encoding="utf-8")):
        for t in group["tests"]:
            if isinstance(t["data"], str):
                add("validators", "vec-" + kind, bytes([KINDS.index(kind)]) + t["data"].encode("utf-8", "surrogatepass"), 15)
btc = os.path.join(TESTDATA, "bitcoin", "key_io_valid.json")
if os.path.exists(btc):
    for v in json.load(open(btc))[:15]:
        add("validators", "vec-btc_address", bytes([KINDS.index("btc_address")]) + v[0].encode())
eth = os.path.join(TESTDATA, "ethereum", "erc-55_test_cases.txt")
if os.path.exists(eth):
    for line in open(eth):
        if line.strip().startswith("0x"):
            add("validators", "vec-eth_address", bytes([KINDS.index("eth_address")]) + line.strip().encode(), 15)
suite = os.path.join(TESTDATA, "json-schema-test-suite", "tests", "draft2020-12")
for path in sorted(glob.glob(os.path.join(suite, "*.json"))):
    groups = json.load(open(path, encoding="utf-8"))
    g = groups[0]
    t = g["tests"][0]
    add("json_schema", "vec", json.dumps(g["schema"]).encode() + b"\0" + json.dumps(t["data"]).encode())
    if len(seeds["json_schema"]) >= 120:
        break
for path in sorted(glob.glob(os.path.join(suite, "optional", "format", "*.json"))):
    for g in json.load(open(path, encoding="utf-8")):
        fmt = g["schema"].get("format") if isinstance(g["schema"], dict) else None
        if not isinstance(fmt, str):
            continue
        for t in g["tests"]:
            if isinstance(t["data"], str):
                add("json_formats", "vec-" + fmt, fmt.encode() + b"\0" + t["data"].encode("utf-8", "surrogatepass"), 12)
for n, v in {"regex-deep": b"regex\0" + b"(" * 30000 + b"a" + b")" * 30000,
             "regex-classes": b"regex\0[\\u{10FFFF}-\\u{0}][\\d-z]\\k<x>(?<x>)\\99999999999",
             "uri-long": b"uri\0http://" + b"a" * 60000, "iri-bad-utf8": b"iri\0http://\xc0\xaf/",
             "idn-dots": b"idn-hostname\0" + "\u3002".encode() * 300, "idn-long-label": b"idn-hostname\0" + "\u00fc".encode() * 200,
             "template-open": b"uri-template\0" + b"{" * 20000, "duration-digits": b"duration\0P" + b"9" * 60000 + b"D",
             "time-leap": b"time\x0023:59:60-23:59", "vigil-kind": b"vigil:email\0a@b.example"}.items():
    seeds.setdefault("json_formats", {})[f"hostile-{n}"] = v

# The audit encoder's reference vectors (tests/audit/canonical_ref.py).
for n, v in {"row": '{"id": 1, "price": 1.50, "name": "caf\\u00e9", "tags": ["a", null, true, false], "b": {"z": 1e2, "a": -0.0}}',
             "big": '{"big": 123456789012345678901234567890.000, "tiny": 0.000000000000000000001}',
             "number": "-0.15E+3", "empty": "[]"}.items():
    seeds.setdefault("audit_canonical", {})[f"vec-{n}"] = v.encode()

# Hostile inputs, the same for every JSON reader.
deep = lambda n: "[" * n + "]" * n
hostile_json = {
    "deep-512": deep(512), "deep-513": deep(513), "deep-open-60000": "[" * 60000,
    "deep-object": '{"a":' * 600 + "1" + "}" * 600,
    "huge-1e309": "1e309", "huge-neg": "-1e309", "tiny": "1e-400", "long-digits": "9" * 5000,
    "exp-huge": "1e999999999999999999999", "row-1e309": '{"a": 1e309}',
    "row-exact": '{"a": 0.1000000000000000000001, "b": 123456789012345678901234567890}',
    "bad-utf8": b'{"a": "\xff\xfe"}', "overlong-utf8": b'"\xc0\xaf"', "surrogate-escape": '"\\ud800"',
    "nul-in-string": b'{"a": "x\0y"}', "nul-raw": b"\0", "dup-keys": '{"a": 1, "a": 2}',
    "unterminated": '{"a": [1, 2', "bom": b"\xef\xbb\xbf{}", "empty": b"",
}
for n, v in hostile_json.items():
    seeds.setdefault("audit_canonical", {})[f"hostile-{n}"] = v.encode() if isinstance(v, str) else v
    for t in ("json_input", "decimal" if n.startswith(("huge", "tiny", "long", "exp")) else None):
        if t:
            seeds.setdefault(t, {})[f"hostile-{n}"] = v.encode() if isinstance(v, str) else v
    seeds.setdefault("row_check", {})[f"hostile-{n}"] = (v.encode() if isinstance(v, str) else v) + b"\0a\0range\0{\"max\": 3}"
for n, v in {"deep-schema": '{"items":' * 600 + "{}" + "}" * 600 + "\0[]",
             "ref-loop": '{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}\0 1',
             "ref-fanout": '{"$defs":{"a":{"allOf":[' + ",".join(['{"$ref":"#/$defs/b"}'] * 20) +
                           ']},"b":{"allOf":[' + ",".join(['{"$ref":"#/$defs/c"}'] * 20) +
                           ']},"c":{"type":"integer"}},"$ref":"#/$defs/a"}\0 1',
             "pattern": '{"type":"string","pattern":"(a+)+$"}\0"' + "a" * 50 + '!"',
             "huge-bounds": '{"minimum":1e308,"maximum":1e309}\0 1e308',
             "multiple-tiny": '{"multipleOf":1e-300}\0 1e300',
             "bad-utf8": b'{"type":"string"}\0"\xff"', "nul": b'{}\0"\0"'}.items():
    seeds.setdefault("json_schema", {})[f"hostile-{n}"] = v.encode() if isinstance(v, str) else v
for n, v in {"regex-bad": b'regex\0{"pattern": "("}\0x', "regex-huge": b'regex\0{"pattern": "a{1000}{1000}"}\0a',
             "range-1e309": b'range\0{"min": 1e309}\x005', "range-exact": b'range\0{"max": 1e30}\0' + b"9" * 31,
             "precision-huge": b'precision\0{"digits": 1000000000, "scale": -5}\0' + b"1e400",
             "one-of-numbers": b'one_of\0[1e2, "x", null, true, {"a": 1}]\0' + b"100.000",
             "length-bad-utf8": b'length\0{"max": 2}\0\xff\xfe\xfd', "nul-value": b'not_null\0\0a\0b',
             "positive-tiny": b"positive\0\0" + b"1e-400", "unknown": b"nope\0{}\0x",
             "references": b'references\0{"table": "t", "column": "c"}\0x', "deep-params": b"range\0" + deep(600).encode() + b"\0 1"}.items():
    seeds.setdefault("rule", {})[f"hostile-{n}"] = v
for n, v in {"nested-comment": "/* /* */ ; */ SELECT 1;", "dollar": "DO $x$ BEGIN ; END $x$; VACUUM;",
             "dollar-unterminated": "SELECT $a$ ;", "e-string": "SELECT E'\\'; VACUUM'; VACUUM;",
             "trigger": "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; SELECT 2; END; VACUUM;",
             "begin-atomic": "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END; COMMIT;",
             "bad-utf8": b"SELECT '\xff'; \xc0 VACUUM;", "nul": b"SELECT 1;\0VACUUM;", "crlf": "a;\r\nb;\rc;",
             "options": "-- vigil: lock_timeout=5s no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
             "options-bad": "-- vigil: lock_timeout=99999999999999999999min\nSELECT 1;",
             "many-semis": ";" * 20000, "deep-parens": "(" * 20000}.items():
    b = v.encode() if isinstance(v, str) else v
    seeds.setdefault("sql_lexer", {})[f"hostile-{n}"] = b
    seeds.setdefault("sql_normalize", {})[f"hostile-{n}"] = b"\0" + b
    seeds["sql_normalize"][f"hostile-{n}-sqlite"] = b"\1" + b
    seeds.setdefault("migrate_scanner", {})[f"hostile-{n}"] = b"\0" + b
    seeds["migrate_scanner"][f"hostile-{n}-sqlite"] = b"\1" + b
# Normalisation: what must not leak (sql/normalize.h), in both dialects.
for n, v in {"password": "UPDATE users SET pw = 'secret' WHERE id = 42",
             "e-escape": "UPDATE users SET pw = E'\\' secret' WHERE id = -1",
             "u-amp": "SELECT U&'\\0073ecret' UESCAPE '!', U&\"n\"",
             "dollar-tags": "SELECT $x$ secret $y$ more $x$, $$ a $$, $\u00e9$ b $\u00e9$",
             "nested-comment": "SELECT /* a /* b */ secret */ 1",
             "dash-in-string": "SELECT 'a -- secret', 'b /* secret'",
             "unterminated": "UPDATE t SET a = 'secret",
             "in-list": "SELECT * FROM t WHERE a IN (1, -2, 'x', $1) AND b NOT IN (?, :a, @b) AND c IN (d, 3)",
             "signs": "SELECT -1, x - 1, x=-5, x@-5, +2.5e-3, 0x1F, .5, 1..5",
             "sqlite-params": "SELECT ?, ?12, :name, @name, $name, $a::b(c), #x FROM [t] WHERE `c` = X'ff'",
             "casts": "SELECT a::int, (b).c, d[1:2], t.* FROM s.\"T\"; ;; SELECT 2;"}.items():
    seeds.setdefault("sql_normalize", {})[f"hostile-{n}"] = b"\0" + v.encode()
    seeds["sql_normalize"][f"hostile-{n}-sqlite"] = b"\1" + v.encode()
for n, v in {"version-long": "1." * 5000 + "1", "version-zeros": "0000000000000000000000000001.01_2",
             "file-name": "V1.2__add_users.sql", "file-undo": "U20240101120000__x.sql",
             "diff": "a\nb\nc\n\0a\nc\nd\n", "diff-big": "x\n" * 3000 + "\0" + "y\n" * 3000}.items():
    seeds["migrate_scanner"][f"hostile-{n}"] = b"\0" + v.encode()
for n, v in {"exp-max": "1e1000000", "exp-over": "1e1000001", "long": "0." + "0" * 10000 + "1",
             "pair": "1e2\0" + "100.000", "neg-zero": "-0.0\0" + "0", "int64-edge": "9223372036854775807\0-9223372036854775808",
             "points": "1.2.3", "signs": "+-1", "dot-only": ".", "dot-exp": ".5e-3\0" + "5.e-4"}.items():
    seeds.setdefault("decimal", {})[f"hostile-{n}"] = v.encode()
for n, v in {"email-long": b"\0" + b"a" * 70000 + b"@example.com", "email-idn-bad": b"\0x@\xff.com",
             "url-nul": b"\1http://a\0b/", "phone-region-bad": bytes([PHONE_REGION]) + b"ZZ123",
             "phone-region-nul": bytes([PHONE_REGION]) + b"\0\0+1", "json-deep": bytes([KINDS.index("json")]) + deep(60000).encode(),
             "iban-spaces": bytes([IBAN_NORMALIZE]) + b"de89 3704 0044 0532 0130 00\xff",
             "eth-upper": bytes([KINDS.index("eth_address")]) + b"0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
             "btc-bech32-long": bytes([KINDS.index("btc_address")]) + b"bc1" + b"q" * 100}.items():
    seeds["validators"][f"hostile-{n}"] = v

# The analyser reads what the normaliser reads (same format: a dialect
# byte, then SQL), and every statement a rule case analyses.
seeds["sql_analyze"] = dict(seeds["sql_normalize"])
for c in cases("query.jsonl"):
    args = c.get("args", [])
    if c.get("fn") == "vigil_analyze_query" and args and isinstance(args[0], str):
        for dialect in (b"\0", b"\1"):
            seeds["sql_analyze"][f"rule-{hashlib.sha256(dialect + args[0].encode()).hexdigest()[:12]}"] = dialect + args[0].encode()

# History rows as vigil writes them, and hostile ones (tests/core/monitor_test.cc).
seeds["monitor_history"] = {
    "empty": b"",
    "one": b"97:7\0select ?\0" + b"2026-12-05T10:00:00.000000Z",
    "many": b"0:1,1:2,97:3,255:18446744073709551615\0select * from t where id = ?\0",
    "bucket-out-of-range": b"256:1\0q\0",
    "overflow": b"1:18446744073709551616\0q\0",
    "trailing-comma": b"1:2,\0q\0",
    "invalid-utf8-query": b"1:1\0select \xff\xfe \xc3\0\xff",
    "long-digits": b"00000000000000000000001:1\0q\0",
}

# Health options as users write them, hostile ones, and names with the
# bytes a label or a JSON document must escape (tests/core/health_test.cc).
seeds["health_options"] = {
    "empty": b"{}\0",
    "deep": b'{"deep": true}\0public.trades',
    "checks": b'{"checks": ["disk_space", "lock_waits", "quick_check"]}\0pid 4242',
    "unknown-check": b'{"checks": ["nope"]}\0',
    "not-object": b"[1, 2]\0",
    "deep-not-bool": b'{"deep": "yes"}\0',
    "nested": b'{"checks": [[[[[[["x"]]]]]]]}\0',
    "label-escapes": b'{}\0a"b\\c\nd',
    "invalid-utf8-subject": b"{}\0\xff\xfe\xc3",
}

for target, bucket in sorted(seeds.items()):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        if not old.startswith("crash-"):
            os.remove(os.path.join(folder, old))
    for name, data in bucket.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data[:65536])
    print(f"{target}: {len(bucket)} seeds", file=sys.stderr)
