// normalize.h — one canonical text per statement shape, for the audit
// trail's `statement` option (issue 13) and query analysis (SPEC §7,
// vigil_normalize / vigil_fingerprint, issue 15).
//
// The canonical form, built from sql::Tokenize's tokens:
//  - every string constant, number (with a sign that directly follows an
//    operator, "(", ",", a keyword such as select/where/and/in/then, or
//    nothing), and parameter ($1; ?, ?NNN, :name, @name, $name) becomes ?;
//    true, false and null are keywords and stay;
//  - an IN list that holds only such constants becomes "in (?)", however
//    many there were: "x IN (1, -2, 'a', $3)" -> "x in (?)";
//  - comments go; unquoted words are lower-cased (ASCII; both engines fold
//    or ignore their case); quoted identifiers stay as written;
//  - tokens are separated by one space, except none after "(" and "[",
//    before ")", "]", "," and ";", between a name and the "(" of its call,
//    around "." between names and around PostgreSQL's "::". The output
//    reads back into the same tokens, and normalising it again changes
//    nothing;
//  - statements stay separated by "; "; empty statements and a final ";"
//    are dropped.
// Examples:
//   UPDATE users SET pw = 'secret' WHERE id = 42   -> update users set pw = ? where id = ?
//   SELECT a.x, count(*) FROM "T" a WHERE y IN (1,2,3) -- c
//                                                   -> select a.x, count(*) from "T" a where y in (?)
//   select -1::int, E'it\'s', $1;;                  -> select ?::int, ?, ?
//
// Security: no byte of a string or number constant reaches the output
// (tests/core/sql_normalize_test.cc checks it on hostile and random
// inputs), as long as the engine reads the text by these rules. Two limits
// the caller must know: PostgreSQL is read with standard_conforming_strings
// on (with it off, 'a\'b' is one string there but here ends at the
// backslash); and SQLite, when a double-quoted name matches no column,
// takes it as a string ("secret"), which this form keeps as written, as it
// keeps every quoted identifier.
#pragma once

#include <string>
#include <string_view>

#include "sql/dialect.h"

namespace vigil::core::sql {

// Normalize returns the canonical form above. It throws only
// Error(kCanceled) (base/cancel.h) and std::bad_alloc.
std::string Normalize(std::string_view sql, Dialect dialect);

// Fingerprint returns the first 8 bytes of SHA-256(Normalize(sql)) as 16
// lower-case hex digits: statements that differ only in constants, spacing,
// comments or the case of their keywords share it. Throws as hash::Sha256
// does when the OpenSSL companion is missing.
std::string Fingerprint(std::string_view sql, Dialect dialect);

// FingerprintOfNormalized is Fingerprint for text Normalize returned.
std::string FingerprintOfNormalized(std::string_view normalized);

}  // namespace vigil::core::sql
