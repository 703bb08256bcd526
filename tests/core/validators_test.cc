// validators_test.cc — the shared case corpus (tests/cases/validators.jsonl)
// run against the core, plus checks of the kind table itself.
//
// The same corpus runs on SQLite and PostgreSQL (tests/parity); here each
// SQL function name is mapped to the core call its adapters make.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "vigil/error.h"
#include "vigil/validators.h"

namespace vigil::core {
namespace {

using nlohmann::json;

std::string CasesPath() {
  const char* dir = std::getenv("VIGIL_CASES");
  return std::string(dir ? dir : VIGIL_SOURCE_DIR "/tests/cases") + "/validators.jsonl";
}

std::string Arg(const json& a) {
  if (a.is_string()) return a.get<std::string>();
  if (a.contains("repeat")) {
    std::string s;
    for (int i = 0; i < a["times"].get<int>(); ++i) s += a["repeat"].get<std::string>();
    return s + a["suffix"].get<std::string>();
  }
  std::string hex = a["hex"].get<std::string>(), out;
  for (std::size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// Call evaluates one case the way the adapters do and returns the result as
// JSON: a boolean, an integer, a string, null, or {"error","sqlstate"}.
json Call(const std::string& fn, const std::vector<std::string>& args) {
  static const std::map<ErrorCode, std::string> kState = {
      {ErrorCode::kInvalidParameter, "22023"}, {ErrorCode::kInvalidText, "22P02"},
      {ErrorCode::kProgramLimit, "54000"},     {ErrorCode::kNotSupported, "0A000"},
      {ErrorCode::kInternal, "XX000"}};
  try {
    if (fn == "vigil_validate") {
      auto r = Explain(args[0], args[1]);
      return r ? json(*r) : json(nullptr);
    }
    if (fn == "vigil_uuid_version") return UuidVersion(args[0]);
    if (fn == "vigil_iban_normalize") return IbanNormalize(args[0]);
    if (fn == "vigil_json_schema_valid") return !JsonSchemaCheck(args[0], args[1]).has_value();
    if (fn == "vigil_is_phone" && args.size() == 2) return CheckPhoneInRegion(args[0], args[1]) == nullptr;
    if (fn.rfind("vigil_is_", 0) == 0) {
      const KindInfo* k = FindKind(fn.substr(9));
      if (k == nullptr) return json{{"error", "no such kind in the core: " + fn}};
      return k->check(args[0]) == nullptr;
    }
  } catch (const Error& e) {
    return json{{"error", e.what()}, {"sqlstate", kState.at(e.code())}};
  }
  return json{{"error", "no core mapping for " + fn}};
}

TEST(Corpus, EveryCaseHoldsInTheCore) {
  std::ifstream in(CasesPath());
  ASSERT_TRUE(in) << CasesPath();
  std::string line;
  int checked = 0;
  std::set<std::string> kinds_seen;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    json c = json::parse(line);
    if (c.contains("engines")) {
      bool for_core = false;
      for (const json& e : c["engines"]) for_core |= e == "core";
      if (!for_core) continue;
    }
    bool has_null = false;
    std::vector<std::string> args;
    for (const json& a : c["args"]) {
      if (a.is_null()) has_null = true;
      else args.push_back(Arg(a));
    }
    if (has_null) continue;  // NULL in, NULL out is the adapters' job
    std::string fn = c["fn"].get<std::string>();
    if (fn.rfind("vigil_is_", 0) == 0) kinds_seen.insert(fn.substr(9));
    json got = Call(fn, args);
    EXPECT_EQ(got, c["expect"]) << line.substr(0, 300);
    ++checked;
  }
  EXPECT_GT(checked, 200);
  std::size_t n;
  const KindInfo* kinds = Kinds(&n);
  for (std::size_t i = 0; i < n; ++i) EXPECT_TRUE(kinds_seen.count(kinds[i].name)) << "no case for kind " << kinds[i].name;
}

TEST(Kinds, EveryExampleIsValidAndNamesAreUnique) {
  std::size_t n;
  const KindInfo* kinds = Kinds(&n);
  EXPECT_EQ(n, 16u);
  std::set<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(names.insert(kinds[i].name).second) << kinds[i].name;
    EXPECT_EQ(kinds[i].check(kinds[i].example), nullptr) << kinds[i].name << " example " << kinds[i].example;
    EXPECT_EQ(FindKind(kinds[i].name), &kinds[i]);
  }
  EXPECT_EQ(FindKind("nope"), nullptr);
}

TEST(Errors, UnknownKindMessageIsSanitised) {
  try {
    Explain(std::string("bad\xff\x1b[31m", 9), "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidParameter);
    EXPECT_STREQ(e.what(), "unknown validator kind \"bad??[31m\"");
  }
}

TEST(Email, InvalidUtf8IsRejectedEverywhere) {
  EXPECT_NE(CheckEmail(std::string("\xc3(@example.com")), nullptr);
  EXPECT_NE(CheckEmail(std::string("a@\xed\xa0\x80.com")), nullptr);  // surrogate
  EXPECT_NE(CheckEmail(std::string("\"\xc0\xaf\"@example.com")), nullptr);  // overlong
}

}  // namespace
}  // namespace vigil::core
