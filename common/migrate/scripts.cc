// migrations.cc — checksums, versions, the history chain, script inspection
// and line diffs for schema migrations.
#include "migrate/migrate.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "base/cancel.h"
#include "base/hash.h"
#include "base/text.h"
#include "sql/lexer.h"
#include "companions/api.h"
#include "base/error.h"
#include "base/core_guard.h"

namespace vigil::core {

std::string NormalizeScript(std::string_view s) {
  if (s.size() >= 3 && static_cast<unsigned char>(s[0]) == 0xEF && static_cast<unsigned char>(s[1]) == 0xBB &&
      static_cast<unsigned char>(s[2]) == 0xBF)
    s.remove_prefix(3);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) { return hash::Hex(hash::Sha256(bytes)); }

namespace {

std::string ChecksumV1(std::string_view script) { return "sha256:v1:" + Sha256Hex(NormalizeScript(script)); }

std::string NormalizeV2(std::string_view script) {
  std::string out = NormalizeScript(script);
  std::size_t end = out.find_last_not_of(" \t\n\f\v");
  out.resize(end == std::string::npos ? 0 : end + 1);
  return out;
}

}  // namespace

std::string Checksum(std::string_view script) { return "sha256:v2:" + Sha256Hex(NormalizeV2(script)); }

std::optional<std::string> ChecksumLike(std::string_view stored, std::string_view script) {
  if (stored.substr(0, 10) == "sha256:v1:") return ChecksumV1(script);
  if (stored.substr(0, 10) == "sha256:v2:") return Checksum(script);
  return std::nullopt;
}

bool SameScript(std::string_view stored, std::string_view stored_text, std::string_view script) {
  auto like = ChecksumLike(stored, script);
  if (like && *like == stored) return true;
  // The recorded text must be the one the checksum was taken of: a text
  // changed behind vigil's back is never a reason to call two scripts equal.
  auto recorded = ChecksumLike(stored, stored_text);
  return recorded && *recorded == stored && NormalizeV2(stored_text) == NormalizeV2(script);
}

ScriptOptions ParseScriptOptions(std::string_view script) {
  ScriptOptions out;
  std::string text = NormalizeScript(script);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    std::size_t a = line.find_first_not_of(" \t");
    if (a == std::string_view::npos) continue;  // blank
    line.remove_prefix(a);
    if (line.substr(0, 2) != "--") break;       // the first statement ends the header
    line.remove_prefix(2);
    std::size_t b = line.find_first_not_of(" \t");
    line.remove_prefix(b == std::string_view::npos ? line.size() : b);
    if (line.substr(0, 6) != "vigil:") continue;  // an ordinary comment
    line.remove_prefix(6);
    std::string opts(line);
    std::replace(opts.begin(), opts.end(), ',', ' ');
    std::size_t i = 0;
    while (i < opts.size()) {
      while (i < opts.size() && (opts[i] == ' ' || opts[i] == '\t')) ++i;
      if (i == opts.size()) break;
      std::size_t j = i;
      while (j < opts.size() && opts[j] != ' ' && opts[j] != '\t') ++j;
      std::string opt = opts.substr(i, j - i);
      i = j;
      std::size_t eq = opt.find('=');
      std::string key = opt.substr(0, eq), value = eq == std::string::npos ? "" : opt.substr(eq + 1);
      if (key == "lock_timeout") {
        std::size_t digits = 0;
        while (digits < value.size() && text::IsDigit(value[digits])) ++digits;
        std::string unit = value.substr(digits);
        // At most PostgreSQL's limit, INT_MAX milliseconds (about 24.8 days).
        long long n = digits == 0 || digits > 9 ? 0 : std::stoll(value.substr(0, digits));
        long long per = unit == "min" ? 60000 : unit == "s" ? 1000 : 1;
        if (digits == 0 || digits > 9 || !(unit.empty() || unit == "ms" || unit == "s" || unit == "min") ||
            n * per > 2147483647LL)
          throw Error(ErrorCode::kInvalidParameter, "invalid lock_timeout \"" + text::Printable(value, 32) +
                      "\" in the script's header", {}, "Write -- vigil: lock_timeout=5s (ms, s or min).");
        out.lock_timeout = value;
      } else if (key == "no-transaction" && eq == std::string::npos) {
        out.transaction = false;
      } else {
        throw Error(ErrorCode::kInvalidParameter, "unknown option \"" + text::Printable(key, 32) +
                    "\" in the script's header", {},
                    "The options a -- vigil: line may set: lock_timeout=<n>[ms|s|min], no-transaction.");
      }
    }
  }
  return out;
}

std::string NormalizeVersion(std::string_view v) {
  std::string out(v);
  std::replace(out.begin(), out.end(), '_', '.');
  return out;
}

std::string VersionSortKey(std::string_view version) {
  std::string v = NormalizeVersion(version);
  auto bad = [&](const char* why) -> std::string {
    throw Error(ErrorCode::kInvalidParameter, "invalid migration version \"" + text::Printable(version, 64) + "\": " + why,
                {}, "Versions are numbers separated by dots (or underscores): 1, 1.2.10, 20240101120000.");
  };
  if (v.empty()) return bad("empty");
  if (v.size() > 100) return bad("longer than 100 characters");
  std::string key;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    if (i < v.size() && v[i] != '.') {
      if (!text::IsDigit(v[i])) return bad("only digits and dots");
      continue;
    }
    std::string_view part(v.data() + start, i - start);
    if (part.empty()) return bad("empty part");
    while (part.size() > 1 && part[0] == '0') part.remove_prefix(1);
    if (part.size() > 20) return bad("a part longer than 20 digits");
    if (!key.empty()) key.push_back('.');
    key.append(20 - part.size(), '0');
    key.append(part);
    start = i + 1;
  }
  return key;
}

std::string ChainHash(std::string_view previous, long long seq, std::string_view version, std::string_view action,
                      std::string_view checksum) {
  std::string canonical = "vigil-history-v1\n";
  canonical.append(previous).append("\n").append(std::to_string(seq)).append("\n");
  canonical.append(version).append("\n").append(action).append("\n").append(checksum);
  return "sha256:" + Sha256Hex(canonical);
}


namespace {

bool Has(const std::vector<std::string>& w, const char* word) {
  return std::find(w.begin(), w.end(), word) != w.end();
}

}  // namespace

std::optional<Refusal> FindNonTransactional(std::string_view script, Dialect dialect, bool outside_transaction) {
#define VIGIL_OUTSIDE                                                                                   \
  "un it in a migration of its own marked \"-- vigil: no-transaction\" on its first line, applied by the " \
  "vigil command (docs/migrations.md)."
  static const std::string kOutside = "r" VIGIL_OUTSIDE;
  static const std::string kRunOutside = "R" VIGIL_OUTSIDE;
#undef VIGIL_OUTSIDE
  for (const sql::Statement& st : sql::SplitStatements(script, dialect)) {
    const auto& w = st.words;
    std::string first = w.empty() ? "" : w[0];
    std::string second = w.size() > 1 ? w[1] : "";
    if (outside_transaction) {
      if (first == "BEGIN" || first == "START" || first == "COMMIT" || first == "END" || first == "ROLLBACK" ||
          first == "SAVEPOINT" || first == "RELEASE" || (first == "PREPARE" && second == "TRANSACTION") ||
          first == "ABORT")
        return Refusal{st.line, first,
                       "a no-transaction migration runs each statement on its own; remove transaction control "
                       "from the script."};
      continue;
    }
    if ((first == "CREATE" || first == "DROP") && Has(w, "INDEX") && Has(w, "CONCURRENTLY")) {
      std::string hint = "PostgreSQL cannot build or drop an index concurrently inside a transaction. Use ";
      hint.append(first).append(" INDEX without CONCURRENTLY in the migration, or ").append(kOutside);
      std::string what = first;
      what.append(" INDEX CONCURRENTLY");
      return Refusal{st.line, what, hint};
    }
    if (first == "REINDEX" && (Has(w, "CONCURRENTLY") || second == "DATABASE" || second == "SYSTEM"))
      return Refusal{st.line, "REINDEX " + second, kRunOutside};
    if (first == "VACUUM") return Refusal{st.line, "VACUUM", kRunOutside};
    if ((first == "CREATE" || first == "DROP") && (second == "DATABASE" || second == "TABLESPACE" || second == "SUBSCRIPTION"))
      return Refusal{st.line, first + " " + second, kRunOutside};
    if (first == "ALTER" && second == "SYSTEM") return Refusal{st.line, "ALTER SYSTEM", kRunOutside};
    if (first == "CLUSTER" && w.size() == 1) return Refusal{st.line, "CLUSTER", kRunOutside};
    if (first == "BEGIN" || first == "START" || first == "COMMIT" || first == "END" || first == "ROLLBACK" ||
        first == "SAVEPOINT" || first == "RELEASE" || (first == "PREPARE" && second == "TRANSACTION") ||
        first == "ABORT")
      return Refusal{st.line, first,
                     "vigil runs each migration in its own transaction; remove transaction control from the script."};
  }
  return std::nullopt;
}

namespace {

std::vector<std::string_view> Lines(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      if (i > start || i < s.size()) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

std::string DiffLines(std::string_view before, std::string_view after) {
  std::vector<std::string_view> a = Lines(before), b = Lines(after);
  // Trim the common head and tail, LCS on the middle (bounded).
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  std::size_t n = a.size() - head - tail, m = b.size() - head - tail;
  std::string out;
  auto emit = [&](char sign, std::size_t line, std::string_view text) {
    out.push_back(sign);
    out.append(std::to_string(line)).append(": ").append(text).push_back('\n');
  };
  if (n * m > 4'000'000) {  // too large for LCS: show the whole changed middle
    for (std::size_t i = 0; i < n; ++i) emit('-', head + i + 1, a[head + i]);
    for (std::size_t j = 0; j < m; ++j) emit('+', head + j + 1, b[head + j]);
    return out;
  }
  std::vector<std::vector<unsigned>> lcs(n + 1, std::vector<unsigned>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    PollCancel();
    for (std::size_t j = m; j-- > 0;)
      lcs[i][j] = a[head + i] == b[head + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[head + i] == b[head + j]) { ++i; ++j; }
    else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) { emit('-', head + i + 1, a[head + i]); ++i; }
    else { emit('+', head + j + 1, b[head + j]); ++j; }
  }
  return out;
}

bool ParseMigrationFileName(std::string_view file, char* kind, std::string* version, std::string* name) {
  if (file.size() < 8 || (file[0] != 'V' && file[0] != 'U')) return false;
  if (file.substr(file.size() - 4) != ".sql") return false;
  std::size_t sep = file.find("__");
  if (sep == std::string_view::npos || sep < 2) return false;
  std::string_view v = file.substr(1, sep - 1);
  std::string_view n = file.substr(sep + 2, file.size() - 4 - sep - 2);
  if (n.empty()) return false;
  for (char c : v)
    if (!text::IsDigit(c) && c != '.' && c != '_') return false;
  *kind = file[0];
  *version = NormalizeVersion(v);
  *name = std::string(n);
  std::replace(name->begin(), name->end(), '_', ' ');
  return true;
}

}  // namespace vigil::core
