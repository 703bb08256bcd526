// lexer.cc — the SQL lexer (see lexer.h).
//
// Each lexical rule is written once, in the scanners below (comments, quoted
// text, dollar quotes); Tokenize and SplitStatements both call them.
// SplitStatements keeps its own decisions about where a quote starts (it
// predates Tokenize and the migration scanner's behaviour is pinned by its
// tests): it looks at the byte before a quote for E'', and reads [...] and
// `...` as quotes in both dialects.
#include "sql/lexer.h"

#include <algorithm>
#include <cstring>

#include "base/cancel.h"
#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core::sql {

namespace {

// Poll calls PollCancel() at the start and again whenever the scan has
// moved kEvery bytes on, from whichever loop is running.
class Poll {
 public:
  static constexpr std::size_t kEvery = 64 * 1024;
  void At(std::size_t i) {
    if (i >= next_) {
      PollCancel();
      next_ = i + kEvery;
    }
  }

 private:
  std::size_t next_ = 0;
};

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
// Both engines: identifiers start with a letter, _ or any byte >= 0x80 and
// go on with those, digits and $.
bool IsIdentStart(unsigned char c) { return text::IsAlpha(c) || c == '_' || c >= 0x80; }
bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || text::IsDigit(c) || c == '$'; }
// PostgreSQL's operator characters (scan.l op_chars) and those that let an
// operator end in + or -.
// Looked up in tables: strchr over the set, per byte, was 6 % of
// normalising a statement.
struct ByteSet {
  bool has[256] = {};
  constexpr explicit ByteSet(std::string_view chars) {
    for (char c : chars) has[static_cast<unsigned char>(c)] = true;
  }
};
constexpr ByteSet kPgOpChars("~!@#^&|`?+-*/%<>=");
constexpr ByteSet kPgOpSpecial("~!@#^&|`?%");
bool IsPgOpChar(unsigned char c) { return kPgOpChars.has[c]; }
bool IsPgOpSpecial(unsigned char c) { return kPgOpSpecial.has[c]; }

// Span returns the end of the run of bytes from s[i] that `is` accepts.
std::size_t Span(std::string_view s, std::size_t i, bool (*is)(unsigned char), Poll& poll) {
  for (; i < s.size() && is(s[i]); ++i) poll.At(i);
  return i;
}

// LineCommentEnd returns where the -- comment at s[i] ends: at the LF (or,
// in PostgreSQL, the CR) that closes it, or at the end of the text.
std::size_t LineCommentEnd(std::string_view s, std::size_t i, bool pg, Poll& poll) {
  for (i += 2; i < s.size() && s[i] != '\n' && !(pg && s[i] == '\r'); ++i) poll.At(i);
  return i;
}

// BlockCommentEnd returns the offset after the */ that closes the /* comment
// at s[i], or the end of the text. PostgreSQL's block comments nest;
// SQLite's end at the first */.
std::size_t BlockCommentEnd(std::string_view s, std::size_t i, bool pg, Poll& poll) {
  std::size_t depth = 1;
  for (i += 2; i < s.size(); ++i) {
    poll.At(i);
    if (pg && s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      ++depth;
      ++i;
    } else if (s[i] == '*' && i + 1 < s.size() && s[i + 1] == '/') {
      ++i;
      if (--depth == 0) return i + 1;
    }
  }
  return s.size();
}

// QuotedEnd returns the offset after the quote that closes the quoted text
// opening at s[i] (' " ` or [), or the end of the text. A doubled quote
// stands for itself (not in [...]); with `backslash` (PostgreSQL's E''), a
// backslash escapes the byte after it.
std::size_t QuotedEnd(std::string_view s, std::size_t i, bool backslash, Poll& poll) {
  const char close = s[i] == '[' ? ']' : s[i];
  const bool doubling = close != ']';
  for (++i; i < s.size(); ++i) {
    poll.At(i);
    if (backslash && s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == close) {
      if (doubling && i + 1 < s.size() && s[i + 1] == close) {
        ++i;
        continue;
      }
      return i + 1;
    }
  }
  return s.size();
}

// DollarTagEnd returns the offset after the PostgreSQL dollar-quote tag that
// starts at s[i] ($$ or $tag$, the tag an identifier without $), or 0 when
// there is none there.
std::size_t DollarTagEnd(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j < s.size() && IsIdentStart(s[j]))
    for (++j; j < s.size() && (IsIdentStart(s[j]) || text::IsDigit(s[j]));) ++j;
  return j < s.size() && s[j] == '$' ? j + 1 : 0;
}

// DollarQuoteEnd returns the offset after the tag that closes the dollar
// quote whose opening tag is s[i, tag_end), or the end of the text. Linear:
// a partial match of the tag holds no $ after its first byte, so the next
// candidate lies beyond it.
std::size_t DollarQuoteEnd(std::string_view s, std::size_t i, std::size_t tag_end, Poll& poll) {
  const std::size_t m = tag_end - i;
  std::size_t p = tag_end;
  while (p < s.size()) {
    poll.At(p);
    std::size_t window = std::min(s.size(), p + Poll::kEvery);
    std::size_t at = s.substr(0, window).find('$', p);
    if (at == std::string_view::npos) {
      p = window;
      continue;
    }
    std::size_t k = 1;
    while (k < m && at + k < s.size() && s[at + k] == s[i + k]) ++k;
    if (k == m) return at + m;
    p = at + 1;
  }
  return s.size();
}

// NumberEnd returns the end of the number at s[i] (a digit, or . before a
// digit): 0x hex digits, or digits (with _ between them), a fraction and an
// exponent. Letters stuck to a number belong to it: SQLite and PostgreSQL
// 15+ reject "1abc" as one bad token, and so no constant byte escapes as a
// word. PostgreSQL reads "1..5" as 1, .., 5 (PL/pgSQL ranges).
std::size_t NumberEnd(std::string_view s, std::size_t i, bool pg, Poll& poll) {
  auto at = [&](std::size_t k) -> unsigned char { return k < s.size() ? s[k] : 0; };
  auto digits = [&](std::size_t k, bool (*is)(unsigned char)) {
    for (; is(at(k)) || (at(k) == '_' && is(at(k + 1))); ++k) poll.At(k);
    return k;
  };
  if (at(i) == '0' && (at(i + 1) | 0x20) == 'x' && text::IsHex(at(i + 2))) {
    i = digits(i + 2, text::IsHex);
  } else {
    i = digits(i, text::IsDigit);
    if (at(i) == '.' && !(pg && at(i + 1) == '.')) i = digits(i + 1, text::IsDigit);
    if ((at(i) | 0x20) == 'e') {
      std::size_t j = i + 1;
      if (at(j) == '+' || at(j) == '-') ++j;
      if (text::IsDigit(at(j))) i = digits(j, text::IsDigit);
    }
  }
  if (pg ? IsIdentStart(at(i)) : IsIdentChar(at(i))) i = Span(s, i, IsIdentChar, poll);
  return i;
}

// SqliteOperatorEnd returns the end of SQLite's operator or punctuation at
// s[i] (tokenize.c): -> ->> == <= <> << >= >> != || or one byte.
std::size_t SqliteOperatorEnd(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) -> char { return k < s.size() ? s[k] : '\0'; };
  const char c = s[i], d = at(i + 1);
  switch (c) {
    case '-':
      return d == '>' ? i + (at(i + 2) == '>' ? 3 : 2) : i + 1;
    case '=':
      return i + (d == '=' ? 2 : 1);
    case '<':
      return i + (d == '=' || d == '>' || d == '<' ? 2 : 1);
    case '>':
      return i + (d == '=' || d == '>' ? 2 : 1);
    case '!':
      return i + (d == '=' ? 2 : 1);
    case '|':
      return i + (d == '|' ? 2 : 1);
    default:
      return i + 1;
  }
}

// SqliteVariableEnd returns the end of SQLite's $name, :name, @name or
// #name at s[i] (tokenize.c: identifier characters, "::" inside, and a
// trailing "(...)"), and whether it names anything (a lone sigil does not).
std::size_t SqliteVariableEnd(std::string_view s, std::size_t i, bool* named, Poll& poll) {
  std::size_t n = 0;
  for (++i; i < s.size(); ++i) {
    poll.At(i);
    unsigned char c = s[i];
    if (IsIdentChar(c)) {
      ++n;
    } else if (c == '(' && n > 0) {
      while (++i < s.size() && !IsSpace(s[i]) && s[i] != ')') poll.At(i);
      if (i < s.size() && s[i] == ')') ++i;
      break;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == ':') {
      ++i;
    } else {
      break;
    }
  }
  *named = n > 0;
  return std::min(i, s.size());
}

// PgOperatorRun appends the operator tokens of the run of PostgreSQL
// operator characters at s[p] up to the first -- or /* inside it (which
// starts a comment) and returns where they end. A run that holds none of
// ~ ! @ # % ^ & | ` ? loses its trailing + and - to one-byte tokens
// ("=-5" is =, -, 5). Each byte is looked at a bounded number of times.
std::size_t PgOperatorRun(std::string_view s, std::size_t p, std::vector<Token>& out, Poll& poll) {
  std::size_t k = p;
  bool special = false;
  while (k < s.size() && IsPgOpChar(s[k])) {
    poll.At(k);
    if (k > p && k + 1 < s.size() && ((s[k] == '-' && s[k + 1] == '-') || (s[k] == '/' && s[k + 1] == '*'))) break;
    special = special || IsPgOpSpecial(s[k]);
    ++k;
  }
  std::size_t last = k;  // one past the last byte that is not + or -
  if (!special)
    while (last > p && (s[last - 1] == '+' || s[last - 1] == '-')) --last;
  std::size_t q = p;
  if (last > p) {
    out.push_back({TokenKind::kOperator, p, last});
    q = last;
  }
  for (; q < k; ++q) out.push_back({TokenKind::kOperator, q, q + 1});
  return k;
}

}  // namespace

std::vector<Token> Tokenize(std::string_view s, Dialect dialect) {
  const bool pg = dialect != Dialect::kSqlite;
  const bool escape_strings = dialect == Dialect::kPostgresEscapeStrings;
  const std::size_t n = s.size();
  auto at = [&](std::size_t k) -> unsigned char { return k < n ? s[k] : 0; };
  std::vector<Token> out;
  // About one token per four bytes of SQL: one allocation for a statement
  // of ordinary size instead of a dozen (capped: a 16 MiB literal is one).
  out.reserve(std::min<std::size_t>(n / 4 + 4, 4096));
  Poll poll;
  std::size_t i = 0;
  while (i < n) {
    poll.At(i);
    const unsigned char c = s[i];
    const unsigned char lower = c | 0x20;
    const std::size_t start = i;
    TokenKind kind = TokenKind::kOperator;
    if (IsSpace(c)) {
      ++i;
      continue;
    } else if (c == '-' && at(i + 1) == '-') {
      kind = TokenKind::kComment;
      i = LineCommentEnd(s, i, pg, poll);
    } else if (c == '/' && at(i + 1) == '*') {
      kind = TokenKind::kComment;
      i = BlockCommentEnd(s, i, pg, poll);
    } else if (c == '\'') {
      kind = TokenKind::kString;
      i = QuotedEnd(s, i, escape_strings, poll);
    } else if (c == '"' || (!pg && (c == '`' || c == '['))) {
      kind = TokenKind::kQuotedIdentifier;
      i = QuotedEnd(s, i, false, poll);
    } else if (text::IsDigit(c) || (c == '.' && text::IsDigit(at(i + 1)))) {
      kind = TokenKind::kNumber;
      i = NumberEnd(s, i, pg, poll);
    } else if (at(i + 1) == '\'' && (lower == 'x' || (pg && (lower == 'e' || lower == 'b' || lower == 'n')))) {
      kind = TokenKind::kString;  // E'..' reads backslash escapes
      // E'..' reads backslash escapes; N'..' too when plain strings do.
      i = QuotedEnd(s, i + 1, pg && (lower == 'e' || (escape_strings && lower == 'n')), poll);
    } else if (pg && lower == 'u' && at(i + 1) == '&' && (at(i + 2) == '\'' || at(i + 2) == '"')) {
      kind = at(i + 2) == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier;
      i = QuotedEnd(s, i + 2, false, poll);
    } else if (IsIdentStart(c)) {
      kind = TokenKind::kWord;
      i = Span(s, i + 1, IsIdentChar, poll);
    } else if (pg && c == '$') {
      std::size_t tag_end = DollarTagEnd(s, i);
      if (tag_end != 0) {
        kind = TokenKind::kString;
        i = DollarQuoteEnd(s, i, tag_end, poll);
      } else if (text::IsDigit(at(i + 1))) {
        kind = TokenKind::kParameter;
        i = Span(s, i + 1, text::IsDigit, poll);
        if (IsIdentStart(at(i))) i = Span(s, i, IsIdentChar, poll);  // "$1abc": one bad token, as in PostgreSQL 16
      } else {
        ++i;  // a byte PostgreSQL reads alone
      }
    } else if (pg && IsPgOpChar(c)) {
      i = PgOperatorRun(s, i, out, poll);
      continue;
    } else if (pg && (c == ':' || c == '.')) {
      // ::, := and .. (a . before a digit began a number above).
      i += (c == ':' && (at(i + 1) == ':' || at(i + 1) == '=')) || (c == '.' && at(i + 1) == '.') ? 2 : 1;
    } else if (!pg && c == '?') {
      kind = TokenKind::kParameter;
      i = Span(s, i + 1, text::IsDigit, poll);
    } else if (!pg && (c == '$' || c == ':' || c == '@' || c == '#')) {
      bool named = false;
      i = SqliteVariableEnd(s, i, &named, poll);
      if (named) kind = TokenKind::kParameter;
    } else if (!pg) {
      i = SqliteOperatorEnd(s, i);
    } else {
      ++i;  // , ( ) [ ] ; and bytes PostgreSQL reads alone
    }
    out.push_back({kind, start, i});
  }
  return out;
}

std::vector<Statement> SplitStatements(std::string_view s, Dialect dialect) {
  const bool pg = dialect != Dialect::kSqlite;
  const bool escape_strings = dialect == Dialect::kPostgresEscapeStrings;
  std::vector<Statement> out;
  Statement current{{}, 1};
  std::size_t line = 1;
  std::string word;
  bool in_statement = false;
  // CREATE TRIGGER ... BEGIN ... END (SQLite) and BEGIN ATOMIC ... END
  // (PostgreSQL) hold ';' inside: count BEGIN/CASE against END there. Only
  // there: elsewhere "begin" is a name like any other (a column called
  // begin must not hide the statements after it).
  int block = 0;
  std::size_t words_seen = 0;
  bool creating = false, trigger = false;
  // SQLite: a trigger's body starts at a BEGIN followed by the body's first
  // statement; a column named begin (UPDATE OF begin, WHEN begin > 0) is
  // followed by something else. Decided at the next token.
  bool pending_begin = false;
  std::string previous;
  auto flush_word = [&]() {
    if (!word.empty()) {
      if (words_seen == 0) creating = word == "CREATE";
      // SQLite: CREATE [TEMP|TEMPORARY] TRIGGER.
      if (creating && word == "TRIGGER" &&
          (words_seen == 1 || (words_seen == 2 && (previous == "TEMP" || previous == "TEMPORARY"))))
        trigger = true;
      if (pending_begin) {
        pending_begin = false;
        if (word == "SELECT" || word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "REPLACE" ||
            word == "WITH" || word == "VALUES")
          ++block;
      }
      if (!pg && creating && trigger && word == "BEGIN" && block == 0) pending_begin = true;
      bool opens = creating && ((pg && word == "ATOMIC" && previous == "BEGIN" && block == 0) ||
                                (block > 0 && (word == "CASE" || (!pg && word == "BEGIN"))));
      if (opens) ++block;
      else if (block > 0 && word == "END") --block;
      previous = word;
      ++words_seen;
      if (current.words.size() < 6) current.words.push_back(word);
      word.clear();
    }
  };
  Poll poll;
  auto count_lines = [&](std::size_t from, std::size_t to) {
    line += static_cast<std::size_t>(std::count(s.begin() + from, s.begin() + to, '\n'));
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    poll.At(i);
    char c = s[i];
    if (c == '\n') ++line;
    // Comments.
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      flush_word();
      i = LineCommentEnd(s, i, pg, poll);
      if (i + 1 < s.size() && s[i] == '\r' && s[i + 1] == '\n') ++i;
      ++line;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      flush_word();
      std::size_t end = BlockCommentEnd(s, i, pg, poll);
      count_lines(i, end);
      i = end - 1;
      continue;
    }
    if (!in_statement && c != ';' && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') {
      in_statement = true;
      current.line = line;
      current.begin = i;
    }
    // Quoted text: '...' (E'...' with backslashes), "...", `...`, [...].
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      flush_word();
      pending_begin = false;
      if (!in_statement) { in_statement = true; current.line = line; }
      // E'...' only when the E is a word of its own: name'\' is the word
      // name and a plain string (as Tokenize reads it).
      bool backslash = pg && c == '\'' && ((i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                       (i < 2 || !(text::IsAlnum(s[i - 2]) || s[i - 2] == '_' || s[i - 2] == '$' ||
                                   static_cast<unsigned char>(s[i - 2]) >= 0x80))) || escape_strings);
      std::size_t end = QuotedEnd(s, i, backslash, poll);
      count_lines(i, end);
      i = end - 1;
      current.words.push_back("?");  // a literal or identifier
      continue;
    }
    // Dollar quotes: $$...$$ or $tag$...$tag$ (PostgreSQL; in SQLite $ starts
    // a parameter name).
    // A $ inside an identifier (x$q$) is part of the name.
    if (pg && c == '$' && (i == 0 || !(text::IsAlnum(s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '$'))) {
      std::size_t tag_end = DollarTagEnd(s, i);
      if (tag_end != 0) {
        flush_word();
        std::size_t end = DollarQuoteEnd(s, i, tag_end, poll);
        count_lines(i, end);
        i = end - 1;
        current.words.push_back("?");
        continue;
      }
    }
    if (c == ';') {
      flush_word();
      if (block > 0) continue;  // inside a trigger or atomic body
      current.end = i;
      if (!current.words.empty()) out.push_back(current);
      current = Statement{{}, line};
      in_statement = false;
      words_seen = 0;
      creating = false;
      trigger = false;
      pending_begin = false;
      previous.clear();
      continue;
    }
    if (text::IsAlnum(c) || c == '_') {
      if (!in_statement) { in_statement = true; current.line = line; }
      word.push_back(static_cast<char>(text::IsLower(c) ? c - 32 : c));
    } else {
      flush_word();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') pending_begin = false;
    }
  }
  flush_word();
  current.end = s.size();
  if (!current.words.empty()) out.push_back(current);
  return out;
}

}  // namespace vigil::core::sql
