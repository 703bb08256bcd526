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

#include "base/error.h"
#include "rules/rules.h"
#include "validate/validators.h"

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
      {ErrorCode::kInternal, "XX000"},         {ErrorCode::kNullValue, "22004"},
      {ErrorCode::kUndefinedTable, "42P01"},   {ErrorCode::kUndefinedColumn, "42703"},
      {ErrorCode::kCheckViolation, "23514"},   {ErrorCode::kEngine, "XX000"},
      {ErrorCode::kPrerequisite, "55000"},     {ErrorCode::kUndefinedFile, "58P01"},
      {ErrorCode::kLockTimeout, "55P03"}};
  try {
    if (fn == "vigil_validate") {
      auto r = Explain(args[0], args[1]);
      return r ? json(*r) : json(nullptr);
    }
    if (fn == "vigil_uuid_version") return UuidVersion(args[0]);
    if (fn == "vigil_iban_normalize") return IbanNormalize(args[0]);
    if (fn == "vigil_json_schema_valid") return !JsonSchemaCheck(args[0], args[1]).has_value();
    if (fn == "vigil_rule_check") {
      ParsedRuleCache cache;
      auto r = RuleCheck(cache, args[0], args[1], args[2]);
      return r ? json(*r) : json(nullptr);
    }
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

// One example IBAN per registry country (the registry's own examples): each
// is accepted, covers a distinct country, and breaks when a digit changes.
TEST(Iban, RegistryExampleForEveryCountry) {
  const char* examples[] = {
      "AL47212110090000000235698741", "AD1200012030200359100100", "AT611904300234573201", "AZ21NABZ00000000137010001944",
      "BH67BMAG00001299123456", "BE68539007547034", "BA391290079401028494", "BR1800360305000010009795493C1",
      "BG80BNBG96611020345678", "CR05015202001026284066", "HR1210010051863000160", "CY17002001280000001200527600",
      "CZ6508000000192000145399", "DK5000400440116243", "DO28BAGR00000001212453611324", "EE382200221020145685",
      "FO6264600001631634", "FI2112345600000785", "FR1420041010050500013M02606", "GE29NB0000000101904917",
      "DE89370400440532013000", "GI75NWBK000000007099453", "GR1601101250000000012300695", "GL8964710001000206",
      "GT82TRAJ01020000001210029690", "HU42117730161111101800000000", "IS140159260076545510730339", "IE29AIBK93115212345678",
      "IL620108000000099999999", "IT60X0542811101000000123456", "JO94CBJO0010000000000131000302", "KZ86125KZT5004100100",
      "XK051212012345678906", "KW81CBKU0000000000001234560101", "LV80BANK0000435195001", "LB62099900000001001901229114",
      "LI21088100002324013AA", "LT121000011101001000", "LU280019400644750000", "MK07250120000058984",
      "MT84MALT011000012345MTLCAST001S", "MR1300020001010000123456753", "MU17BOMM0101101030300200000MUR", "MD24AG000225100013104168",
      "MC5811222000010123456789030", "ME25505000012345678951", "NL91ABNA0417164300", "NO9386011117947",
      "PK36SCBL0000001123456702", "PS92PALS000000000400123456702", "PL61109010140000071219812874", "PT50000201231234567890154",
      "QA58DOHB00001234567890ABCDEFG", "RO49AAAA1B31007593840000", "SM86U0322509800000000270100", "SA0380000000608010167519",
      "RS35260005601001611379", "SK3112000000198742637541", "SI56263300012039086", "ES9121000418450200051332",
      "SE4550000000058398257466", "CH9300762011623852957", "TN5910006035183598478831", "TR330006100519786457841326",
      "AE070331234567890123456", "GB29NWBK60161331926819", "VG96VPVG0000012345678901", "TL380080012345678910157",
      "UA213223130000026007233566001", "SC18SSCB11010000000000001497USD", "LC55HEMM000100010012001200023015", "IQ98NBIQ850123456789012",
      "BY13NBRB3600900000002Z00AB00", "SV62CENR00000000000000700025", "EG380019000500000000263180002", "LY83002048000020100120361",
      "SD2129010501234001", "ST68000100010051845310112", "VA59001123000012345678", "RU0304452522540817810538091310419",
      "BI4210000100010000332045181", "DJ2100010000000154000100186", "MN121234123456789123", "NI45BAPR00000013000003558124",
      "FK88SC123456789012", "SO211000001001000100141", "OM810180000001299123456",
  };
  std::set<std::string> countries;
  for (const char* e : examples) {
    std::string iban = e;
    EXPECT_EQ(CheckIban(iban), nullptr) << iban;
    countries.insert(iban.substr(0, 2));
    std::string changed = iban;
    changed.back() = changed.back() == '9' ? '0' : static_cast<char>(changed.back() + 1);
    if (std::isdigit(static_cast<unsigned char>(iban.back()))) {
      EXPECT_NE(CheckIban(changed), nullptr) << changed;
    }
  }
  EXPECT_EQ(countries.size(), sizeof(examples) / sizeof(examples[0]));
  EXPECT_EQ(countries.size(), 87u);  // every country in the registry table
}

}  // namespace
}  // namespace vigil::core
