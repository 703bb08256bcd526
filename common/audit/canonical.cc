// canonical.cc — the audit trail's canonical encoding and hash chain (see
// canonical.h and docs/audit.md).
#include "audit/canonical.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/cancel.h"
#include "base/error.h"
#include "base/json.h"
#include "base/core_guard.h"

namespace vigil::core::audit {
namespace {

using nlohmann::json;

void Length(std::string& out, std::uint64_t n) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
}

void Tagged(std::string& out, char tag, std::string_view bytes) {
  out += tag;
  Length(out, bytes.size());
  out.append(bytes);
}

// EncodeValue writes the v1 encoding; `path` is the value's JSON Pointer,
// which finds a number's spelling in `numbers`.
void EncodeValue(const json& v, const json_in::Numbers& numbers, std::string& path, std::string& out,
                 std::size_t* nodes) {
  if ((++*nodes & 4095) == 0) PollCancel();
  switch (v.type()) {
    case json::value_t::null:
      out += 'n';
      return;
    case json::value_t::boolean:
      out += v.get<bool>() ? 't' : 'f';
      return;
    case json::value_t::string:
      Tagged(out, 's', v.get_ref<const std::string&>());
      return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: {
      auto it = numbers.find(path);
      std::string spelling = it != numbers.end() ? it->second : v.dump();
      Tagged(out, 'd', CanonicalNumber(spelling));
      return;
    }
    case json::value_t::array: {
      out += 'a';
      Length(out, v.size());
      std::size_t base = path.size();
      for (std::size_t i = 0; i < v.size(); ++i) {
        path += '/';
        path += std::to_string(i);
        EncodeValue(v[i], numbers, path, out, nodes);
        path.resize(base);
      }
      return;
    }
    case json::value_t::object: {
      // nlohmann's object is a std::map: its keys iterate in byte order.
      out += 'o';
      Length(out, v.size());
      std::size_t base = path.size();
      for (auto it = v.begin(); it != v.end(); ++it) {
        Tagged(out, 's', it.key());
        path += json_in::PointerTo(it.key());
        EncodeValue(it.value(), numbers, path, out, nodes);
        path.resize(base);
      }
      return;
    }
    default:
      throw Error(ErrorCode::kInvalidText, "audit: a value that is not JSON");
  }
}

Digest Prefixed(std::string_view prefix, std::string_view bytes) {
  std::string all(prefix);
  all.append(bytes);
  return Sha256(all);
}

}  // namespace

std::string CanonicalNumber(std::string_view s) {
  // RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  auto bad = [&]() -> std::string {
    throw Error(ErrorCode::kInvalidText, "audit: \"" + std::string(s.substr(0, 64)) + "\" is not a JSON number");
  };
  auto digit = [&](std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  std::size_t i = 0;
  bool negative = i < s.size() && s[i] == '-';
  if (negative) ++i;
  if (!digit(i)) return bad();
  std::string digits;
  long long exponent = 0;
  if (s[i] == '0') {
    digits += '0';
    ++i;
  } else {
    while (digit(i)) digits += s[i++];
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return bad();
    while (digit(i)) {
      digits += s[i++];
      --exponent;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (!digit(i)) return bad();
    long long e = 0;
    while (digit(i)) {
      if (e > 100'000'000) throw Error(ErrorCode::kInvalidText, "audit: a number's exponent is out of range");
      e = e * 10 + (s[i++] - '0');
    }
    exponent += eneg ? -e : e;
  }
  if (i != s.size()) return bad();
  std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return "0";
  digits.erase(0, first);
  std::size_t last = digits.find_last_not_of('0');
  exponent += static_cast<long long>(digits.size() - 1 - last);
  digits.resize(last + 1);
  std::string out = negative ? "-" : "";
  out += digits;
  if (exponent != 0) {
    out += 'e';
    out += std::to_string(exponent);
  }
  return out;
}

std::string Encode(std::string_view json_text) {
  json_in::Numbers numbers;
  json v = json_in::ParseInput(json_text, "audit: value", &numbers);
  std::string out, path;
  std::size_t nodes = 0;
  EncodeValue(v, numbers, path, out, &nodes);
  return out;
}

void AppendString(std::string& out, std::string_view s) { Tagged(out, 's', s); }
void AppendNumber(std::string& out, std::string_view spelling) { Tagged(out, 'd', CanonicalNumber(spelling)); }
void AppendHeader(std::string& out, char tag, std::uint64_t count) {
  out += tag;
  Length(out, count);
}
Digest EntryDigestOf(std::string_view encoding) { return Prefixed("vigil-audit-entry-v1", encoding); }

Digest RowDigest(std::string_view row_json) { return Prefixed("vigil-audit-row-v1", Encode(row_json)); }

Digest EntryDigest(std::string_view entry_json) { return Prefixed("vigil-audit-entry-v1", Encode(entry_json)); }

Digest Link(const std::optional<Digest>& previous, const Digest& entry, std::optional<std::string_view> key) {
  std::string bytes = "vigil-audit-chain-v1";
  Digest prev = previous.value_or(Digest{});
  bytes.append(reinterpret_cast<const char*>(prev.data()), prev.size());
  bytes.append(reinterpret_cast<const char*>(entry.data()), entry.size());
  return key ? hash::HmacSha256(*key, bytes) : Sha256(bytes);
}

}  // namespace vigil::core::audit
