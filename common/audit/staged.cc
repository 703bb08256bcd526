// staged.cc — staged audit batches (see staged.h).
#include "audit/staged.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/companion.h"
#include "base/error.h"
#include "companions/api.h"
#include "base/json.h"
#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core::audit::staged {
namespace {

[[noreturn]] void Malformed(const char* what) {
  throw Error(ErrorCode::kPrerequisite, std::string("a staged audit batch is malformed: ") + what, {},
              "vigil_audit_batch was changed outside vigil; restore it from a backup");
}

void AppendOptional(std::string& out, const std::optional<std::string_view>& v) {
  Value x;
  if (v) {
    x.kind = Value::kText;
    x.bytes = *v;
  }
  AppendValue(out, x);
}

std::string Quote(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

std::vector<std::string> Names(const nlohmann::json& v, const char* what, std::size_t max) {
  if (!v.is_array()) throw Error(ErrorCode::kPrerequisite, std::string("an audit layout's ") + what + " is not an array");
  if (v.size() > max) throw Error(ErrorCode::kPrerequisite, std::string("an audit layout has too many ") + what);
  std::vector<std::string> out;
  for (const auto& n : v) {
    if (!n.is_string()) throw Error(ErrorCode::kPrerequisite, std::string("an audit layout's ") + what + " holds a non-string");
    const std::string& s = n.get_ref<const std::string&>();
    if (s.empty() || s.find('\0') != std::string::npos || !text::IsValidUtf8(s))
      throw Error(ErrorCode::kPrerequisite, std::string("an audit layout's ") + what + " holds a name that is not one");
    out.push_back(s);
  }
  return out;
}

std::int64_t Unzigzag(std::uint64_t z) { return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1)); }

}  // namespace

void AppendVarint(std::string& out, std::uint64_t v) {
  char b[10];
  out.append(b, PutVarint(b, v));
}

std::size_t PutHeader(char* out, std::uint64_t layout, Op op, std::int64_t at_ms, std::optional<std::int64_t> previous_at,
                      const std::optional<std::optional<std::string_view>>& actor,
                      const std::optional<std::optional<std::string_view>>& statement, std::uint64_t count) noexcept {
  std::size_t n = PutVarint(out, layout);
  out[n++] = static_cast<char>(static_cast<std::uint8_t>(op) | (actor ? 4 : 0) | (statement ? 8 : 0) |
                               (previous_at ? 0 : 16));
  n += PutVarint(out + n, previous_at ? Zigzag(at_ms - *previous_at) : static_cast<std::uint64_t>(at_ms));
  for (const auto* given : {&actor, &statement}) {
    if (!*given) continue;
    Value v;
    if (**given) {
      v.kind = Value::kText;
      v.bytes = ***given;
    }
    n += PutValueHead(out + n, v);
    if (!v.bytes.empty()) std::memcpy(out + n, v.bytes.data(), v.bytes.size());
    n += v.bytes.size();
  }
  return n + PutVarint(out + n, count);
}

void AppendHeader(std::string& out, std::uint64_t layout, Op op, std::int64_t at_ms,
                  std::optional<std::int64_t> previous_at, const std::optional<std::optional<std::string_view>>& actor,
                  const std::optional<std::optional<std::string_view>>& statement, std::uint64_t count) {
  std::size_t max = kMaxHeader;
  for (const auto* given : {&actor, &statement})
    if (*given) max += kMaxValueHead + (**given ? (**given)->size() : 0);
  std::size_t at = out.size();
  out.resize(at + max);
  out.resize(at + PutHeader(out.data() + at, layout, op, at_ms, previous_at, actor, statement, count));
}

void AppendState(std::string& out, std::int64_t at_ms, std::optional<std::string_view> actor,
                 std::optional<std::string_view> statement) {
  AppendVarint(out, 0);
  out.push_back(static_cast<char>(4 | 8 | 16 | 32));
  AppendVarint(out, static_cast<std::uint64_t>(at_ms));
  AppendOptional(out, actor);
  AppendOptional(out, statement);
  AppendVarint(out, 0);
}

void AppendValue(std::string& out, const Value& v) {
  char head[kMaxValueHead];
  out.append(head, PutValueHead(head, v));
  if (v.kind == Value::kText || v.kind == Value::kBlob) out.append(v.bytes.data(), v.bytes.size());
}

namespace {

const VigilLz4Api* TryLz4() noexcept {
  return companion::Try<VigilLz4Api>("vigil_lz4", VIGIL_LZ4_API_ENTRY, VIGIL_LZ4_API_VERSION);
}

}  // namespace

void Pack(std::string& out, std::string_view entries) {
  out.clear();
  // Below a few hundred bytes LZ4 saves little: not worth loading it for.
  if (entries.size() >= 256 && entries.size() <= kMaxPackedRaw) {
    if (const VigilLz4Api* lz4 = TryLz4(); lz4 != nullptr) {
      std::size_t bound = lz4->bound(entries.size());
      if (bound != 0) {
        char head[11];
        head[0] = kStoredLz4;
        std::size_t h = 1 + PutVarint(head + 1, entries.size());
        out.resize(h + bound);
        std::memcpy(out.data(), head, h);
        std::size_t n = lz4->compress(entries.data(), entries.size(), out.data() + h, bound);
        if (n != 0 && h + n < 1 + entries.size()) {
          out.resize(h + n);
          return;
        }
        out.clear();
      }
    }
  }
  out.reserve(1 + entries.size());
  out.push_back(kStoredPlain);
  out.append(entries);
}

std::string_view Unpack(std::string_view stored, std::string* scratch) {
  if (stored.empty()) Malformed("it has no format");
  if (stored[0] == kStoredPlain) return stored.substr(1);
  if (stored[0] != kStoredLz4) Malformed("its format is unknown");
  if (scratch == nullptr) Malformed("it is compressed, and this engine writes no compressed batch");
  // The size: a varint, read as Reader reads one.
  std::uint64_t n = 0;
  std::size_t at = 1;
  for (int shift = 0;; shift += 7) {
    if (at >= stored.size() || shift > 35) Malformed("its size is not one");
    auto b = static_cast<std::uint8_t>(stored[at++]);
    n |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  std::string_view block = stored.substr(at);
  // LZ4 expands a block at most 255-fold, and vigil compresses at most
  // kMaxPackedRaw bytes: a size beyond either is a lie, refused before any
  // allocation.
  if (n == 0 || n > kMaxPackedRaw || n > 255 * static_cast<std::uint64_t>(block.size()) + 16)
    Malformed("its size is impossible for its block");
  const auto& lz4 = companion::Require<VigilLz4Api>("vigil_lz4", VIGIL_LZ4_API_ENTRY, VIGIL_LZ4_API_VERSION);
  scratch->resize(static_cast<std::size_t>(n));
  if (lz4.decompress(block.data(), block.size(), scratch->data(), scratch->size()) != 1)
    Malformed("its LZ4 block is not one of its size");
  return *scratch;
}

std::uint64_t Reader::Varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at_ >= data_.size()) Malformed("it ends inside a number");
    auto b = static_cast<std::uint8_t>(data_[at_++]);
    if (shift == 63 && b > 1) Malformed("a number is too large");
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  Malformed("a number is too long");
}

std::string_view Reader::Take(std::uint64_t n) {
  if (n > data_.size() - at_) Malformed("a value runs past its end");
  std::string_view s = data_.substr(at_, n);
  at_ += n;
  return s;
}

Value Reader::ReadValue() {
  if (at_ >= data_.size()) Malformed("it ends inside an entry");
  Value v;
  auto tag = static_cast<std::uint8_t>(data_[at_++]);
  switch (tag) {
    case Value::kNull: break;
    case Value::kInteger: {
      v.kind = Value::kInteger;
      v.integer = Unzigzag(Varint());
      break;
    }
    case Value::kReal: {
      std::string_view b = Take(8);
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(b[i])) << (8 * i);
      v.kind = Value::kReal;
      std::memcpy(&v.real, &bits, 8);
      break;
    }
    case Value::kText:
    case Value::kBlob:
      v.kind = static_cast<Value::Kind>(tag);
      v.bytes = Take(Varint());
      break;
    default: Malformed("a value has an unknown kind");
  }
  return v;
}

bool Reader::Next(Entry& e) {
  for (;;) {
    if (at_ >= data_.size()) return false;
    e.layout = Varint();
    if (at_ >= data_.size()) Malformed("it ends inside an entry");
    auto flags = static_cast<std::uint8_t>(data_[at_++]);
    if ((flags & 3) == 3 || (flags & ~0x3f) != 0) Malformed("an entry has unknown flags");
    e.op = static_cast<Op>(flags & 3);
    std::uint64_t at = Varint();
    if (flags & 16) {
      if (at > (std::uint64_t{1} << 62)) Malformed("an entry's time is out of range");
      at_ms_ = static_cast<std::int64_t>(at);
    } else {
      std::int64_t delta = Unzigzag(at);
      if (delta > (std::int64_t{1} << 61) || delta < -(std::int64_t{1} << 61) || at_ms_ + delta < 0 ||
          at_ms_ + delta > (std::int64_t{1} << 62))
        Malformed("an entry's time is out of range");
      at_ms_ += delta;
    }
    e.at_ms = at_ms_;
    auto optional = [&](std::optional<std::string_view>& slot) {
      Value v = ReadValue();
      if (v.kind == Value::kNull) slot.reset();
      else if (v.kind == Value::kText) slot = v.bytes;
      else Malformed("an actor or statement is not text");
    };
    if (flags & 4) optional(actor_);
    if (flags & 8) optional(statement_);
    e.actor = actor_;
    e.statement = statement_;
    std::uint64_t count = Varint();
    if (flags & 32) {  // a state record: no entry
      if (count != 0) Malformed("a state record holds values");
      continue;
    }
    if (count > kMaxValues) Malformed("an entry has too many values");
    e.values.clear();
    e.values.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) e.values.push_back(ReadValue());
    return true;
  }
}

std::string LayoutJson(const Layout& l) {
  auto list = [](const std::vector<std::string>& names) {
    std::string out = "[";
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i) out += ',';
      out += Quote(names[i]);
    }
    return out + "]";
  };
  return "{\"table\":" + Quote(l.table) + ",\"columns\":" + list(l.columns) + ",\"key\":" + list(l.key) +
         ",\"redact\":" + list(l.redact) + "}";
}

Layout ParseLayout(std::string_view text) {
  nlohmann::json v;
  try {
    v = json_in::ParseInput(text, "layout");
  } catch (const Error&) {
    throw Error(ErrorCode::kPrerequisite, "an audit layout is not JSON");
  }
  if (!v.is_object() || !v.contains("table") || !v["table"].is_string() || !v.contains("columns") ||
      !v.contains("key") || !v.contains("redact"))
    throw Error(ErrorCode::kPrerequisite, "an audit layout is not one");
  Layout l;
  l.table = v["table"].get<std::string>();
  if (l.table.empty() || l.table.find('\0') != std::string::npos || !text::IsValidUtf8(l.table))
    throw Error(ErrorCode::kPrerequisite, "an audit layout's table is not a name");
  l.columns = Names(v["columns"], "columns", 2000);
  l.key = Names(v["key"], "key", 2000);
  l.redact = Names(v["redact"], "redact", 2000);
  auto among = [&](const std::vector<std::string>& names) {
    for (const std::string& n : names)
      if (std::find(l.columns.begin(), l.columns.end(), n) == l.columns.end())
        throw Error(ErrorCode::kPrerequisite, "an audit layout names a column it does not list");
  };
  among(l.key);
  among(l.redact);
  return l;
}

}  // namespace vigil::core::audit::staged
