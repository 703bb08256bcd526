// canonical.cc — the audit trail's canonical encoding and hash chain (see
// canonical.h and docs/audit.md).
#include "audit/canonical.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/cancel.h"
#include "base/error.h"
#include "base/json.h"
#include "base/text.h"
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

std::string EncodeReference(std::string_view json_text) {
  json_in::Numbers numbers;
  json v = json_in::ParseInput(json_text, "audit: value", &numbers);
  std::string out, path;
  std::size_t nodes = 0;
  EncodeValue(v, numbers, path, out, &nodes);
  return out;
}

namespace {

// FastEncoder writes the v1 encoding straight from JSON text, without a
// document: the row images of every audited change go through it. It
// takes the common shape only — depth at most 64, numbers of at most 40
// characters with small exponents, strings whose bytes are valid UTF-8 and
// whose escapes are well formed — and gives up (returns false) on
// anything else, which EncodeReference then encodes or refuses. Both give
// the same bytes wherever both answer (tests/fuzz/audit_canonical.cc
// checks it on every input).
class FastEncoder {
 public:
  explicit FastEncoder(std::string_view s) : s_(s) {}

  bool Run(std::string& out) {
    Space();
    if (!Value(out, 0)) return false;
    Space();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 64;

  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Hex4(unsigned* v) {
    if (i_ + 4 > s_.size()) return false;
    unsigned x = 0;
    for (int k = 0; k < 4; ++k) {
      int d = HexDigit(s_[i_ + k]);
      if (d < 0) return false;
      x = x * 16 + static_cast<unsigned>(d);
    }
    i_ += 4;
    *v = x;
    return true;
  }
  static void Utf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // String reads a string (at its opening quote) into `text`.
  bool String(std::string& text) {
    ++i_;
    for (;;) {
      std::size_t start = i_;
      bool high = false;
      while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\') {
        unsigned char c = static_cast<unsigned char>(s_[i_]);
        if (c < 0x20) return false;
        high |= c >= 0x80;
        ++i_;
      }
      if (i_ >= s_.size()) return false;
      std::string_view run = s_.substr(start, i_ - start);
      if (high && !text::IsValidUtf8(run)) return false;
      text.append(run);
      if (s_[i_] == '"') {
        ++i_;
        return true;
      }
      ++i_;  // backslash
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case '"': text += '"'; break;
        case '\\': text += '\\'; break;
        case '/': text += '/'; break;
        case 'b': text += '\b'; break;
        case 'f': text += '\f'; break;
        case 'n': text += '\n'; break;
        case 'r': text += '\r'; break;
        case 't': text += '\t'; break;
        case 'u': {
          unsigned cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low;
            if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
            i_ += 2;
            if (!Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          Utf8(cp, text);
          break;
        }
        default: return false;
      }
    }
  }
  bool Number(std::string& out) {
    std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E' ||
                              s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    std::string_view n = s_.substr(start, i_ - start);
    // Long spellings and large exponents are the reference's to judge
    // (a double's range, the exact decimals' bounds).
    if (n.empty() || n.size() > 40) return false;
    std::size_t e = n.find_first_of("eE");
    if (e != std::string_view::npos && n.size() - e > 4) return false;
    std::string canonical;
    bool ok = true;
    try {
      canonical = CanonicalNumber(n);
    } catch (const Error&) {
      ok = false;
    }
    if (!ok) return false;
    Tagged(out, 'd', canonical);
    return true;
  }
  bool Value(std::string& out, int depth) {
    if ((++nodes_ & 4095) == 0) PollCancel();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    switch (c) {
      case 'n': out += 'n'; return Literal("null");
      case 't': out += 't'; return Literal("true");
      case 'f': out += 'f'; return Literal("false");
      case '"': {
        std::string text;
        if (!String(text)) return false;
        Tagged(out, 's', text);
        return true;
      }
      case '[': {
        if (depth >= kMaxDepth) return false;
        ++i_;
        std::string items;
        std::uint64_t count = 0;
        Space();
        if (i_ < s_.size() && s_[i_] == ']') {
          ++i_;
        } else {
          for (;;) {
            Space();
            if (!Value(items, depth + 1)) return false;
            ++count;
            Space();
            if (i_ >= s_.size()) return false;
            if (s_[i_] == ',') {
              ++i_;
              continue;
            }
            if (s_[i_] != ']') return false;
            ++i_;
            break;
          }
        }
        out += 'a';
        Length(out, count);
        out += items;
        return true;
      }
      case '{': {
        if (depth >= kMaxDepth) return false;
        ++i_;
        struct Member {
          std::string key;
          std::size_t begin, end;
        };
        std::vector<Member> members;
        std::string values;
        Space();
        if (i_ < s_.size() && s_[i_] == '}') {
          ++i_;
        } else {
          for (;;) {
            Space();
            if (i_ >= s_.size() || s_[i_] != '"') return false;
            Member m;
            if (!String(m.key)) return false;
            Space();
            if (i_ >= s_.size() || s_[i_] != ':') return false;
            ++i_;
            Space();
            m.begin = values.size();
            if (!Value(values, depth + 1)) return false;
            m.end = values.size();
            members.push_back(std::move(m));
            Space();
            if (i_ >= s_.size()) return false;
            if (s_[i_] == ',') {
              ++i_;
              continue;
            }
            if (s_[i_] != '}') return false;
            ++i_;
            break;
          }
        }
        // Keys sorted by their bytes; a key given twice keeps its last value.
        std::vector<std::size_t> order(members.size());
        for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return members[a].key < members[b].key; });
        std::vector<std::size_t> kept;
        for (std::size_t k = 0; k < order.size(); ++k) {
          if (k + 1 < order.size() && members[order[k + 1]].key == members[order[k]].key) continue;
          kept.push_back(order[k]);
        }
        out += 'o';
        Length(out, kept.size());
        for (std::size_t k : kept) {
          Tagged(out, 's', members[k].key);
          out.append(values, members[k].begin, members[k].end - members[k].begin);
        }
        return true;
      }
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return Number(out);
        return false;
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::size_t nodes_ = 0;
};

}  // namespace

std::string Encode(std::string_view json_text) {
  std::string out;
  FastEncoder fast(json_text);
  if (fast.Run(out)) return out;
  return EncodeReference(json_text);
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
