// vectors_test.cc — every public test vector in ../shared/testdata.
//
// Each file's expectations must hold; the few deliberate disagreements are
// listed here, each with its reason, and repeated in docs/validation.md.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "validate/encoding.h"
#include "validate/validators.h"

namespace vigil::core {
namespace {

using nlohmann::json;

std::string TestdataPath(const std::string& rel) {
  const char* dir = std::getenv("VIGIL_TESTDATA");
  return std::string(dir ? dir : "../shared/testdata") + "/" + rel;
}

std::string ReadFile(const std::string& rel) {
  std::ifstream in(TestdataPath(rel), std::ios::binary);
  if (!in) ADD_FAILURE() << "missing test vector file " << TestdataPath(rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json ReadJson(const std::string& rel) { return json::parse(ReadFile(rel)); }

// RunSchemaSuite checks a JSON-Schema-Test-Suite format file against a
// validator: string data only; `disagree` maps data to the reason we differ.
int RunSchemaSuite(const std::string& rel, CheckFn check, const std::map<std::string, std::string>& disagree) {
  int checked = 0;
  for (const json& group : ReadJson(rel)) {
    for (const json& t : group["tests"]) {
      if (!t["data"].is_string()) continue;
      std::string data = t["data"].get<std::string>();
      bool expected = t["valid"].get<bool>();
      if (disagree.count(data)) expected = !expected;
      Reason r = check(data);
      EXPECT_EQ(r == nullptr, expected) << rel << ": " << t["description"] << " data=" << json(data).dump()
                                        << " reason=" << (r ? r : "(valid)");
      ++checked;
    }
  }
  return checked;
}

TEST(Vectors, JsonSchemaSuiteEmail) {
  EXPECT_GT(RunSchemaSuite("email/email.json", CheckEmail, {}), 10);
}

TEST(Vectors, JsonSchemaSuiteIdnEmail) {
  EXPECT_GT(RunSchemaSuite("email/idn-email.json", CheckEmail, {}), 2);
}

TEST(Vectors, JsonSchemaSuiteUuid) {
  EXPECT_GT(RunSchemaSuite("uuid/uuid.json", CheckUuid, {}), 10);
}

TEST(Vectors, JsonSchemaSuiteDateTime) {
  EXPECT_GT(RunSchemaSuite("iso8601/date-time.json", CheckIso8601, {}), 20);
}

// uri.json covers every scheme; vigil's url kind is http, https and ftp
// only, so: invalid URIs must be rejected, and valid ones with those schemes
// accepted, except where SPEC §1 is stricter than RFC 3986 (listed).
TEST(Vectors, JsonSchemaSuiteUri) {
  const std::map<std::string, std::string> stricter = {
      // RFC 3986 reg-names that look like IPv4 but are not valid dotted
      // quads: SPEC §1 requires a hostname, an IPv4 address or [IPv6].
      {"http://087.10.0.1/", "leading zero in an IPv4-looking host"},
      {"http://999.999.999.999/", "octets above 255 in an IPv4-looking host"},
  };
  int checked = 0;
  for (const json& group : ReadJson("url/uri.json")) {
    for (const json& t : group["tests"]) {
      if (!t["data"].is_string()) continue;
      std::string data = t["data"].get<std::string>();
      bool valid = t["valid"].get<bool>();
      std::string scheme = data.substr(0, data.find(':'));
      for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      bool ours = scheme == "http" || scheme == "https" || scheme == "ftp";
      Reason r = CheckUrl(data);
      if (!valid || !ours) {
        EXPECT_NE(r, nullptr) << "uri.json: must reject " << data;
      } else if (stricter.count(data) == 0) {
        EXPECT_EQ(r, nullptr) << "uri.json: must accept " << data << " reason=" << r;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

// urltestdata.json: every absolute input the WHATWG parser refuses must be
// refused here too. Inputs it accepts are not asserted: WHATWG is lenient
// (spaces, backslashes, tabs) where RFC 3986 is not.
TEST(Vectors, WhatwgUrlFailures) {
  int checked = 0;
  for (const json& t : ReadJson("url/urltestdata.json")) {
    if (!t.is_object() || !t["base"].is_null()) continue;
    if (!t.contains("failure") || !t["failure"].get<bool>()) continue;
    std::string input = t["input"].get<std::string>();
    EXPECT_NE(CheckUrl(input), nullptr) << "urltestdata: must reject " << json(input).dump();
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

// isemail: decode the XML entities and the U+2400 control pictures.
std::string DecodeXml(const std::string& s) {
  std::string out;
  auto put_cp = [&out](unsigned cp) {
    if (cp >= 0x2400 && cp <= 0x241F) {
      out.push_back(static_cast<char>(cp - 0x2400));
      return;
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      // Literal UTF-8 control pictures (E2 90 80..9F) map back to bytes too.
      if (static_cast<unsigned char>(s[i]) == 0xE2 && i + 2 < s.size() &&
          static_cast<unsigned char>(s[i + 1]) == 0x90 && static_cast<unsigned char>(s[i + 2]) >= 0x80 &&
          static_cast<unsigned char>(s[i + 2]) <= 0x9F) {
        out.push_back(static_cast<char>(static_cast<unsigned char>(s[i + 2]) - 0x80));
        i += 2;
        continue;
      }
      out.push_back(s[i]);
      continue;
    }
    std::size_t semi = s.find(';', i);
    std::string ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.size() > 1 && ent[0] == '#' && (ent[1] == 'x' || ent[1] == 'X')) put_cp(std::stoul(ent.substr(2), nullptr, 16));
    else if (ent.size() > 1 && ent[0] == '#') put_cp(std::stoul(ent.substr(1)));
    else ADD_FAILURE() << "unknown entity " << ent;
    i = semi;
  }
  return out;
}

int RunIsemail(const std::string& rel, const std::map<std::string, std::string>& disagree) {
  std::string xml = ReadFile(rel);
  // Element text between <tag> and </tag> inside [from, to), or "" for <tag/>.
  auto element = [&xml](const std::string& tag, std::size_t from, std::size_t to, bool* found) {
    std::size_t open = xml.find("<" + tag + ">", from);
    if (open != std::string::npos && open < to) {
      std::size_t body = open + tag.size() + 2;
      std::size_t close = xml.find("</" + tag + ">", body);
      *found = close != std::string::npos && close < to;
      return *found ? xml.substr(body, close - body) : std::string();
    }
    std::size_t empty = xml.find("<" + tag + "/>", from);
    *found = empty != std::string::npos && empty < to;
    return std::string();
  };
  int checked = 0;
  for (std::size_t pos = xml.find("<test id=\""); pos != std::string::npos; pos = xml.find("<test id=\"", pos + 1)) {
    std::size_t id_start = pos + 10;
    std::string id = xml.substr(id_start, xml.find('"', id_start) - id_start);
    std::size_t end = xml.find("</test>", pos);
    bool a = false, c = false, d = false;
    std::string raw_address = element("address", pos, end, &a);
    std::string category = element("category", pos, end, &c);
    std::string diagnosis = element("diagnosis", pos, end, &d);
    if (!a || !c || !d) {
      ADD_FAILURE() << rel << ": unparsable test " << id;
      continue;
    }
    std::string address = DecodeXml(raw_address);
    // SOURCES.md mapping for the RFC 5321 Mailbox profile.
    bool expected = (category == "ISEMAIL_VALID_CATEGORY" || category == "ISEMAIL_DNSWARN" ||
                     category == "ISEMAIL_RFC5321") &&
                    diagnosis != "ISEMAIL_RFC5321_TLD" && diagnosis != "ISEMAIL_RFC5321_TLDNUMERIC" &&
                    diagnosis != "ISEMAIL_RFC5321_IPV6DEPRECATED";
    std::string key = rel + "#" + id;
    if (disagree.count(key)) expected = !expected;
    Reason r = CheckEmail(address);
    EXPECT_EQ(r == nullptr, expected) << key << " " << json(address).dump() << " " << category << "/" << diagnosis
                                      << " reason=" << (r ? r : "(valid)");
    ++checked;
  }
  return checked;
}

// SPEC §1 requires at least one dot in the domain: "test@io" is an
// RFC 5321-valid mailbox for a TLD-only domain, not for an application.
TEST(Vectors, IsemailTests) {
  EXPECT_EQ(RunIsemail("email/tests.xml", {{"email/tests.xml#5", "domain without a dot (SPEC §1)"}}), 164);
}
// "xn--example" is not valid Punycode: vigil checks A-labels (RFC 5891
// §5.4, through libidn2), isemail reads them as plain LDH labels.
TEST(Vectors, IsemailTestsOriginal) {
  EXPECT_EQ(RunIsemail("email/tests-original.xml",
                       {{"email/tests-original.xml#279", "A-label that is not valid Punycode (RFC 5891)"}}),
            279);
}

TEST(Vectors, BitcoinKeyIoValid) {
  int checked = 0;
  for (const json& row : ReadJson("bitcoin/key_io_valid.json")) {
    std::string s = row[0].get<std::string>();
    const json& meta = row[2];
    std::string chain = meta["chain"].get<std::string>();
    bool privkey = meta["isPrivkey"].get<bool>();
    bool is_regtest_bech32 = chain == "regtest" && s.rfind("bcrt1", 0) == 0;
    // vigil accepts mainnet and testnet (signet shares testnet's encodings);
    // regtest's bcrt HRP is out of profile, and keys are not addresses.
    bool expected = !privkey && !is_regtest_bech32;
    Reason r = CheckBtcAddress(s);
    EXPECT_EQ(r == nullptr, expected) << s << " chain=" << chain << " reason=" << (r ? r : "(valid)");
    if (expected && meta.value("tryCaseFlip", false)) {
      std::string flipped = s;
      for (char& c : flipped) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      EXPECT_EQ(CheckBtcAddress(flipped), nullptr) << flipped;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 70);
}

TEST(Vectors, BitcoinKeyIoInvalid) {
  int checked = 0;
  for (const json& row : ReadJson("bitcoin/key_io_invalid.json")) {
    std::string s = row[0].get<std::string>();
    EXPECT_NE(CheckBtcAddress(s), nullptr) << s;
    ++checked;
  }
  EXPECT_EQ(checked, 79);
}

TEST(Vectors, Base58Codec) {
  int checked = 0;
  for (const json& row : ReadJson("bitcoin/base58_encode_decode.json")) {
    std::string hex = row[0].get<std::string>();
    for (char& ch : hex) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::vector<std::uint8_t> decoded;
    ASSERT_TRUE(encoding::Base58Decode(row[1].get<std::string>(), &decoded)) << row[1];
    std::string got;
    char buf[3];
    for (auto b : decoded) {
      std::snprintf(buf, sizeof(buf), "%02x", b);
      got += buf;
    }
    EXPECT_EQ(got, hex) << row[1];
    ++checked;
  }
  EXPECT_EQ(checked, 21);
}

TEST(Vectors, Bech32Reference) {
  json v = ReadJson("bitcoin/sipa_bech32_ref_python_tests_vectors.json");
  auto variant = [](const std::string& s) {
    std::string hrp;
    std::vector<std::uint8_t> data;
    const char* reason = nullptr;
    return encoding::Bech32Decode(s, &hrp, &data, &reason);
  };
  auto as_string = [](const json& j) { return j.is_string() ? j.get<std::string>() : j["string"].get<std::string>(); };
  for (const json& s : v["valid_bech32"]) EXPECT_EQ(variant(as_string(s)), encoding::Bech32Variant::kBech32) << s;
  for (const json& s : v["valid_bech32m"]) EXPECT_EQ(variant(as_string(s)), encoding::Bech32Variant::kBech32m) << s;
  for (const json& s : v["invalid_bech32"]) EXPECT_NE(variant(as_string(s)), encoding::Bech32Variant::kBech32) << s;
  for (const json& s : v["invalid_bech32m"]) EXPECT_NE(variant(as_string(s)), encoding::Bech32Variant::kBech32m) << s;
  for (const json& a : v["valid_address"]) {
    std::string addr = a.is_array() ? a[0].get<std::string>() : a["address"].get<std::string>();
    EXPECT_EQ(CheckBtcAddress(addr), nullptr) << addr;
  }
  for (const json& a : v["invalid_address"]) {
    std::string addr = a.is_string() ? a.get<std::string>() : a["address"].get<std::string>();
    EXPECT_NE(CheckBtcAddress(addr), nullptr) << addr;
  }
}

TEST(Vectors, Eip55) {
  std::istringstream in(ReadFile("ethereum/erc-55_test_cases.txt"));
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_EQ(CheckEthAddress(line), nullptr) << line;
    // Flipping the case of one letter breaks the checksum...
    std::string broken = line;
    for (std::size_t i = 2; i < broken.size(); ++i) {
      if (std::isalpha(static_cast<unsigned char>(broken[i]))) {
        broken[i] = static_cast<char>(std::islower(static_cast<unsigned char>(broken[i])) ? std::toupper(broken[i]) : std::tolower(broken[i]));
        break;
      }
    }
    bool mixed_after = false, lo = false, up = false;
    for (std::size_t i = 2; i < broken.size(); ++i) {
      lo |= std::islower(static_cast<unsigned char>(broken[i])) != 0;
      up |= std::isupper(static_cast<unsigned char>(broken[i])) != 0;
    }
    mixed_after = lo && up;
    if (mixed_after) {
      EXPECT_NE(CheckEthAddress(broken), nullptr) << broken;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

}  // namespace
}  // namespace vigil::core
