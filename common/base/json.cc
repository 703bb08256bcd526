// json.cc — bounded JSON input (json.h).
#include "base/json.h"

#include <vector>

#include "base/cancel.h"
#include "base/decimal.h"
#include "base/error.h"
#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core::json_in {
namespace {

using nlohmann::json;

// Builder is a SAX handler that builds the value with an explicit stack, so
// neither parsing nor the depth limit depends on the C++ stack.
class Builder {
 public:
  Builder(std::string_view what, Numbers* numbers) : what_(what), numbers_(numbers) {}

  bool null() { return Add(json(nullptr)); }
  bool boolean(bool v) { return Add(json(v)); }
  bool number_integer(json::number_integer_t v) {
    Record(std::to_string(v));
    return Add(json(v));
  }
  bool number_unsigned(json::number_unsigned_t v) {
    Record(std::to_string(v));
    return Add(json(v));
  }
  bool number_float(json::number_float_t v, const json::string_t& spelling) {
    // A double holds 1e-2000000 (as 0), the rules' exact decimals do not
    // (an exponent beyond ±Decimal::kMaxExponent, a spelling beyond
    // kMaxText): a caller that reads the spellings gets it refused like
    // 1e309, so a row's number never turns into "not a number" later.
    if (numbers_ != nullptr && !Decimal::Parse(spelling))
      throw Error(ErrorCode::kInvalidParameter, std::string(what_) + ": a number is out of range", {},
                  "vigil reads JSON numbers as exact decimals: at most " + std::to_string(Decimal::kMaxText) +
                      " characters, exponent within ±" + std::to_string(Decimal::kMaxExponent) + ".");
    Record(spelling);
    return Add(json(v));
  }
  bool string(json::string_t& v) { return Add(json(std::move(v))); }
  bool binary(json::binary_t&) { return Add(json(nullptr)); }  // JSON text has no binary values
  bool start_object(std::size_t) { return Open(json::object()); }
  bool start_array(std::size_t) { return Open(json::array()); }
  bool key(json::string_t& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    std::string where = "at byte " + std::to_string(position);
    if (e.id == 406)  // out_of_range.406: a number no double can hold
      throw Error(ErrorCode::kInvalidParameter, std::string(what_) + ": a number is out of range", where,
                  "JSON numbers in vigil's arguments must fit a double (about 1.8e308).");
    throw Error(ErrorCode::kInvalidText, std::string(what_) + " is not valid JSON", where);
  }

  json Take() { return std::move(root_); }

 private:
  std::string Path() const {
    std::string p;
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      p += '/';
      p += segments_[i];
    }
    return p;
  }
  // The path segment of the value about to be added to the open container.
  void Segment() {
    if (stack_.empty()) return;
    json* top = stack_.back();
    segments_.back() = top->is_array() ? std::to_string(top->size()) : PointerTo(key_).substr(1);
  }
  void Record(const std::string& spelling) {
    if (numbers_ == nullptr) return;
    Segment();
    (*numbers_)[Path()] = spelling;
  }
  json* Place(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json* top = stack_.back();
    if (top->is_array()) {
      top->push_back(std::move(v));
      return &top->back();
    }
    json& slot = (*top)[key_];
    slot = std::move(v);
    return &slot;
  }
  bool Add(json v) {
    if ((++events_ & 4095) == 0) PollCancel();  // a 50 MB document can be cancelled
    Place(std::move(v));
    return true;
  }
  bool Open(json container) {
    if (static_cast<int>(stack_.size()) >= kMaxDepth)
      throw Error(ErrorCode::kProgramLimit,
                  std::string(what_) + " nested deeper than " + std::to_string(kMaxDepth) + " levels");
    Segment();
    stack_.push_back(Place(std::move(container)));
    segments_.emplace_back();
    return true;
  }
  bool Close() {
    stack_.pop_back();
    segments_.pop_back();
    return true;
  }

  std::string_view what_;
  Numbers* numbers_;
  json root_;
  std::vector<json*> stack_;
  std::vector<std::string> segments_;
  std::string key_;
  std::size_t events_ = 0;
};

}  // namespace

std::string PointerTo(std::string_view key) {
  std::string p = "/";
  for (char c : key) {
    if (c == '~') p += "~0";
    else if (c == '/') p += "~1";
    else p += c;
  }
  return p;
}

json ParseInput(std::string_view text, std::string_view what, Numbers* numbers) {
  Builder builder(what, numbers);
  json::sax_parse(text.begin(), text.end(), &builder);
  return builder.Take();
}

namespace {

// DumpTo writes `v` as dump() does (compact, keys in order), numbers as
// spelled in `numbers`. Recursion is bounded: every value went through
// ParseInput, so it is at most kMaxDepth levels deep.
void DumpTo(const json& v, const Numbers& numbers, std::string& path, std::string& out) {
  if (v.is_number()) {
    auto it = numbers.find(path);
    out += it != numbers.end() ? it->second : v.dump();
  } else if (v.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ',';
      first = false;
      out += json(it.key()).dump();
      out += ':';
      std::size_t mark = path.size();
      path += PointerTo(it.key());
      DumpTo(it.value(), numbers, path, out);
      path.resize(mark);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ',';
      std::size_t mark = path.size();
      path += '/';
      path += std::to_string(i);
      DumpTo(v[i], numbers, path, out);
      path.resize(mark);
    }
    out += ']';
  } else {
    out += v.dump();
  }
}

}  // namespace

std::string Dump(const json& value, const Numbers& numbers) {
  std::string path, out;
  DumpTo(value, numbers, path, out);
  return out;
}

int Depth(const json& value) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> todo{{&value, 0}};
  while (!todo.empty()) {
    auto [v, d] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    if (d + 1 > deepest) deepest = d + 1;
    for (const json& child : *v) todo.push_back({&child, d + 1});
  }
  return deepest;
}

}  // namespace vigil::core::json_in
