// json.h — the one way the core reads JSON that a caller, a stored rule or
// a database file gave it.
//
// Every JSON input goes through ParseInput: at most kMaxDepth levels of
// nesting (a scalar is level 0, `[]` is level 1), so nothing that reads or
// writes the value later can recurse deeper than that; numbers keep the
// spelling they were given (a row's 0.1000000000000000000001 or a bound of
// 1e30 is compared exactly, base/decimal.h), and a number no double can
// hold (1e309) or bad syntax becomes a vigil Error naming the argument,
// never a library exception.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vigil::core::json_in {

inline constexpr int kMaxDepth = 512;

// Numbers maps the path of every number in the document to its spelling as
// given, by JSON Pointer (RFC 6901): "/min", "/3", "/a/0", "/a~1b".
using Numbers = std::map<std::string, std::string>;

// PointerTo is the JSON Pointer of a member of the top-level object.
std::string PointerTo(std::string_view key);

// ParseInput parses `text`, the argument called `what` ("row", "params",
// "options", ...). Throws Error: kInvalidText for bad syntax, kProgramLimit
// for nesting deeper than kMaxDepth, kInvalidParameter for a number out of
// range. With `numbers`, records every number's spelling, and a number
// Decimal::Parse cannot read (1e-2000000, which a double holds as 0) is
// out of range too.
nlohmann::json ParseInput(std::string_view text, std::string_view what, Numbers* numbers = nullptr);

// Dump writes a value ParseInput returned as compact JSON text (as
// nlohmann's dump(), keys in order), with every number as it was spelled:
// a bound of 18446744073709551617 or 0.1000000000000000000001 survives
// being stored and read again.
std::string Dump(const nlohmann::json& value, const Numbers& numbers);

// Depth is the nesting depth of a parsed value (iteratively, no recursion).
int Depth(const nlohmann::json& value);

}  // namespace vigil::core::json_in
