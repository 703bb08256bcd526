// canonical.h — the audit trail's canonical encoding and hash chain
// (SPEC §5, issue 13; docs/audit.md "Canonical encoding").
//
// PostgreSQL's jsonb text and SQLite's json text spell the same row
// differently (key order, spacing, 1.50 against 1.5), so the chain hashes
// neither: both engines turn an entry into the bytes defined here, from the
// JSON value it means, and get the same digest byte for byte.
//
// Encoding v1 of a JSON value (every length and count an unsigned 64-bit
// big-endian integer):
//   null 'n' | true 't' | false 'f'
//   number 'd' len bytes   — the canonical decimal (CanonicalNumber)
//   string 's' len bytes   — UTF-8 as given
//   array  'a' count value...
//   object 'o' count (key value)...  — keys as strings, sorted by their
//          bytes; a key given twice keeps its last value (as jsonb does)
//
// An entry's digest is SHA-256 over "vigil-audit-entry-v1" followed by the
// encoding of the entry's JSON object, in which each row image is replaced
// by its digest (SHA-256 over "vigil-audit-row-v1" and the image's
// encoding): erasing an image keeps its digest, so the chain still
// verifies. The chain link of entry n is SHA-256 — or HMAC-SHA256 under
// the audit key — over "vigil-audit-chain-v1", link n-1 (32 zero bytes
// before the first) and the entry's digest.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace vigil::core::audit {

using Digest = hash::Digest;

// CanonicalNumber is a JSON number's canonical text: an optional '-', the
// significant digits without leading or trailing zeros, then 'e' and the
// exponent when it is not 0; zero is "0". 1.50, 15e-1 and 0.15E1 are all
// "15e-1"; 100 is "1e2"; -0.0 is "0". Throws Error(kInvalidText) for text
// that is not a JSON number.
std::string CanonicalNumber(std::string_view spelling);

// Encode is the v1 encoding of the JSON text `json_text` (parsed with the
// core's bounded parser: 512 levels; numbers keep their exact value).
std::string Encode(std::string_view json_text);
// EncodeReference is the same encoding through the core's JSON document
// (json_in::ParseInput): Encode's fallback and its check in the fuzzer.
std::string EncodeReference(std::string_view json_text);

// Pieces of the encoding, for callers that build a value's encoding
// without JSON text (an entry, whose keys are fixed): AppendString and
// AppendNumber write one string or number; AppendHeader writes an array's
// or object's tag and count.
void AppendString(std::string& out, std::string_view s);
void AppendNumber(std::string& out, std::string_view spelling);
void AppendHeader(std::string& out, char tag, std::uint64_t count);

// EntryDigestOf is the entry digest of an encoding already built.
Digest EntryDigestOf(std::string_view encoding);

// RowDigest is the digest of a row image (JSON text; SQL NULL has none).
Digest RowDigest(std::string_view row_json);

// EntryDigest is the digest of an entry given as a JSON object whose row
// images are already digests (hex strings).
Digest EntryDigest(std::string_view entry_json);

// Link is the chain link after `previous` (nullopt before the first entry)
// for an entry digest; with a key, HMAC-SHA256 under it.
Digest Link(const std::optional<Digest>& previous, const Digest& entry, std::optional<std::string_view> key);

using hash::FromHex;
using hash::Hex;
using hash::Sha256;

}  // namespace vigil::core::audit
