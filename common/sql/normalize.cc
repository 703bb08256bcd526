// normalize.cc — canonical statement text and fingerprints (see
// normalize.h).
//
// Two passes over sql::Tokenize's tokens: the first drops comments and the
// signs that belong to a number; the second writes the text, collapsing
// constant IN lists and choosing the spacing. Neither copies a token's
// bytes except words (lower-cased), quoted identifiers and operators, so
// no constant can reach the output.
#include "sql/normalize.h"

#include <cstddef>
#include <string_view>
#include <vector>

#include "base/cancel.h"
#include "base/hash.h"
#include "base/text.h"
#include "sql/lexer.h"
#include "base/core_guard.h"

namespace vigil::core::sql {

namespace {

// kKeywords are the words after which an operand starts: a sign after them
// is a number's (select -1, when -1, in (-1)) and a "(" after them opens
// a list or a subquery, not a call's arguments (in (...), as (...)).
constexpr std::string_view kKeywords[] = {
    "all",    "and",     "any",  "as",     "between", "by",    "case",  "default",   "distinct", "else",      "escape",
    "except", "exists",  "from", "glob",   "having",  "ilike", "in",    "intersect", "is",       "join",      "like",
    "limit",  "match",   "not",  "offset", "on",      "or",    "over",  "regexp",    "return",   "returning", "select",
    "set",    "similar", "some", "then",   "to",      "union", "using", "values",    "when",     "where",     "with",
};

bool EqualsLower(std::string_view word, std::string_view lower) {
  if (word.size() != lower.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if ((text::IsUpper(word[i]) ? word[i] + 32 : word[i]) != lower[i]) return false;
  return true;
}

// IsKeyword looks a word up among the keywords that start with its first
// letter (it runs for every word of every statement: a scan of all 44 was
// a third of Normalize's time).
bool IsKeyword(std::string_view word) {
  struct ByLetter {
    std::string_view words[26][8];
    int count[26] = {};
    ByLetter() {
      for (std::string_view k : kKeywords) {
        int c = k[0] - 'a';
        words[c][count[c]++] = k;
      }
    }
  };
  static const ByLetter table;
  if (word.size() < 2 || word.size() > 9) return false;
  char first = text::IsUpper(word[0]) ? static_cast<char>(word[0] + 32) : word[0];
  if (first < 'a' || first > 'z') return false;
  int c = first - 'a';
  for (int i = 0; i < table.count[c]; ++i)
    if (EqualsLower(word, table.words[c][i])) return true;
  return false;
}

bool IsConstant(TokenKind k) {
  return k == TokenKind::kString || k == TokenKind::kNumber || k == TokenKind::kParameter;
}

bool IsName(TokenKind k) { return k == TokenKind::kWord || k == TokenKind::kQuotedIdentifier; }

// Writer appends tokens to the canonical text, one space between them
// unless the pair is one of the glued forms of normalize.h. None of those
// can make two tokens read back as one: "(", ")", "[", "]", ",", ";", "."
// and ":" are no operator characters in PostgreSQL and single tokens in
// SQLite, and a name never starts with a digit.
class Writer {
 public:
  Writer(std::string_view sql, bool pg) : sql_(sql), pg_(pg) {}

  void Add(TokenKind kind, std::string_view text) {
    if (!out_.empty() && !Glued(kind, text)) out_.push_back(' ');
    if (IsConstant(kind)) {
      out_.push_back('?');
    } else if (kind == TokenKind::kWord) {
      for (char c : text) out_.push_back(static_cast<char>(text::IsUpper(c) ? c + 32 : c));
    } else {
      out_.append(text);
    }
    kind_ = kind;
    text_ = IsConstant(kind) ? "?" : text;
    keyword_ = kind == TokenKind::kWord && IsKeyword(text);
  }
  void Add(const Token& t) { Add(t.kind, sql_.substr(t.begin, t.end - t.begin)); }

  std::string Take() { return std::move(out_); }

 private:
  bool Glued(TokenKind kind, std::string_view text) const {
    const bool op = kind == TokenKind::kOperator;
    const bool prev_op = kind_ == TokenKind::kOperator;
    if (op && (text == "," || text == ";" || text == ")" || text == "]")) return true;
    if (prev_op && (text_ == "(" || text_ == "[")) return true;
    const bool prev_name = IsName(kind_) && !keyword_;
    const bool prev_closes = prev_op && (text_ == ")" || text_ == "]");
    if (op && text == "(" && prev_name) return true;
    if (op && text == "[" && (prev_name || prev_closes)) return true;
    if (op && text == "." && (prev_name || prev_closes)) return true;
    if (prev_op && text_ == "." && (IsName(kind) || (op && text == "*"))) return true;
    // "?" is how a constant reads back in PostgreSQL too (as an operator).
    if (pg_ && op && text == "::" && (prev_name || prev_closes || text_ == "?")) return true;
    if (pg_ && prev_op && text_ == "::" && IsName(kind)) return true;
    return false;
  }

  std::string_view sql_;
  bool pg_;
  std::string out_;
  TokenKind kind_ = TokenKind::kComment;
  std::string_view text_;
  bool keyword_ = false;
};

}  // namespace

std::string Normalize(std::string_view sql, Dialect dialect) {
  const bool pg = dialect != Dialect::kSqlite;
  std::vector<Token> tokens = Tokenize(sql, dialect);
  auto text = [&](const Token& t) { return sql.substr(t.begin, t.end - t.begin); };
  std::size_t next_poll = 0;
  auto poll = [&](const Token& t) {
    if (t.begin >= next_poll) {
      PollCancel();
      next_poll = t.begin + 64 * 1024;
    }
  };

  // Pass 1, in place: drop comments and the sign of a signed number.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token t = tokens[i];
    poll(t);
    if (t.kind == TokenKind::kComment) continue;
    if (t.kind == TokenKind::kOperator && (text(t) == "-" || text(t) == "+")) {
      std::size_t j = i + 1;
      while (j < tokens.size() && tokens[j].kind == TokenKind::kComment) ++j;
      const Token* prev = kept > 0 ? &tokens[kept - 1] : nullptr;
      bool operand_before =
          prev != nullptr && (prev->kind == TokenKind::kQuotedIdentifier || IsConstant(prev->kind) ||
                              (prev->kind == TokenKind::kWord && !IsKeyword(text(*prev))) ||
                              (prev->kind == TokenKind::kOperator && (text(*prev) == ")" || text(*prev) == "]")));
      if (j < tokens.size() && tokens[j].kind == TokenKind::kNumber && !operand_before) continue;
    }
    tokens[kept++] = t;
  }
  tokens.resize(kept);

  // Pass 2: write, collapsing IN lists of constants and empty statements.
  Writer w(sql, pg);
  bool in_statement = false, semicolon = false;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    poll(t);
    if (t.kind == TokenKind::kOperator && text(t) == ";") {
      semicolon = semicolon || in_statement;
      in_statement = false;
      continue;
    }
    if (semicolon) w.Add(TokenKind::kOperator, ";");
    semicolon = false;
    in_statement = true;
    w.Add(t);
    if (t.kind != TokenKind::kWord || !EqualsLower(text(t), "in") || i + 2 >= tokens.size() ||
        tokens[i + 1].kind != TokenKind::kOperator || text(tokens[i + 1]) != "(")
      continue;
    // "in (" c [, c]... ")": a run of constants and commas, scanned once
    // (it holds no "in" that could start another scan).
    std::size_t j = i + 2;
    while (j + 1 < tokens.size() && IsConstant(tokens[j].kind) && tokens[j + 1].kind == TokenKind::kOperator &&
           text(tokens[j + 1]) == ",")
      j += 2;
    if (j + 1 < tokens.size() && IsConstant(tokens[j].kind) && tokens[j + 1].kind == TokenKind::kOperator &&
        text(tokens[j + 1]) == ")") {
      w.Add(tokens[i + 1]);
      w.Add(TokenKind::kParameter, "?");
      w.Add(tokens[j + 1]);
      i = j + 1;
    }
  }
  return w.Take();
}

std::string Fingerprint(std::string_view sql, Dialect dialect) { return FingerprintOfNormalized(Normalize(sql, dialect)); }

std::string FingerprintOfNormalized(std::string_view normalized) {
  hash::Digest d = hash::Sha256(normalized);
  static const char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}

}  // namespace vigil::core::sql
