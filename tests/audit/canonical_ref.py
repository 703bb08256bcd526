#!/usr/bin/python3
"""canonical_ref.py — an independent reference of the audit trail's
canonical encoding v1 (common/audit/canonical.h, docs/audit.md), in Python's
standard library. tests/core/audit_test.cc embeds the digests this prints;
a second implementation that agrees is the evidence that the definition,
not one program, fixes the bytes.

    /usr/bin/python3 tests/audit/canonical_ref.py
"""
import decimal
import hashlib
import hmac
import json
import struct


def canonical_number(text):
    d = decimal.Decimal(text)
    if d == 0:
        return "0"
    sign, digits, exponent = d.as_tuple()
    digits = "".join(map(str, digits)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return ("-" if sign else "") + stripped + (f"e{exponent}" if exponent else "")


def encode(value):
    if value is None:
        return b"n"
    if value is True:
        return b"t"
    if value is False:
        return b"f"
    if isinstance(value, str):
        b = value.encode("utf-8")
        return b"s" + struct.pack(">Q", len(b)) + b
    if isinstance(value, decimal.Decimal):
        b = canonical_number(str(value)).encode()
        return b"d" + struct.pack(">Q", len(b)) + b
    if isinstance(value, list):
        return b"a" + struct.pack(">Q", len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-8"))
        return b"o" + struct.pack(">Q", len(keys)) + b"".join(encode(k) + encode(value[k]) for k in keys)
    raise TypeError(value)


def parse(text):
    return json.loads(text, parse_float=decimal.Decimal, parse_int=decimal.Decimal)


def row_digest(text):
    return hashlib.sha256(b"vigil-audit-row-v1" + encode(parse(text))).digest()


def entry_digest(text):
    return hashlib.sha256(b"vigil-audit-entry-v1" + encode(parse(text))).digest()


def link(previous, entry, key=None):
    data = b"vigil-audit-chain-v1" + (previous or bytes(32)) + entry
    return hmac.new(key, data, hashlib.sha256).digest() if key is not None else hashlib.sha256(data).digest()


VECTORS = [
    '{"id": 1, "price": 1.50, "name": "caf\\u00e9", "tags": ["a", null, true, false], "b": {"z": 1e2, "a": -0.0}}',
    '{"price":15e-1,"id":1.0,"b":{"a":0,"z":100},"tags":["a",null,true,false],"name":"café"}',
    '[]',
    '{"big": 123456789012345678901234567890.000, "tiny": 0.000000000000000000001}',
]

if __name__ == "__main__":
    for v in VECTORS:
        print(json.dumps(v), row_digest(v).hex())
    e = '{"seq": 1, "op": "UPDATE", "table": "public.trades", "old": "%s", "new": null}' % row_digest(VECTORS[0]).hex()
    d = entry_digest(e)
    print("entry", d.hex())
    l1 = link(None, d)
    print("link1", l1.hex())
    print("link2", link(l1, d).hex())
    print("hmac1", link(None, d, b"k3y").hex())
    print("numbers", [canonical_number(x) for x in ["1.50", "15e-1", "0.15E1", "100", "-0.0", "0", "12", "-1e-7", "1E+3"]])
