// lexer.cc — splitting SQL text into statements (see lexer.h).
#include "sql/lexer.h"

#include "base/cancel.h"
#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core::sql {

std::vector<Statement> SplitStatements(std::string_view s, Dialect dialect) {
  const bool pg = dialect == Dialect::kPostgres;
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
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((i & 65535) == 0) PollCancel();
    char c = s[i];
    if (c == '\n') ++line;
    // Comments.
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      flush_word();
      // PostgreSQL ends a -- comment at CR or LF, SQLite at LF only.
      while (i < s.size() && s[i] != '\n' && !(pg && s[i] == '\r')) ++i;
      if (i + 1 < s.size() && s[i] == '\r' && s[i + 1] == '\n') ++i;
      ++line;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      flush_word();
      int depth = 1;
      i += 2;
      while (i < s.size() && depth > 0) {
        if (s[i] == '\n') ++line;
        // PostgreSQL's block comments nest; SQLite's end at the first */.
        if (pg && s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') { ++depth; ++i; }
        else if (s[i] == '*' && i + 1 < s.size() && s[i + 1] == '/') { --depth; ++i; }
        ++i;
      }
      --i;
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
      char close = c == '[' ? ']' : c;
      bool backslash = pg && c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e');
      ++i;
      while (i < s.size()) {
        if (s[i] == '\n') ++line;
        if (backslash && s[i] == '\\') { i += 2; continue; }
        if (s[i] == close) {
          if (close != ']' && i + 1 < s.size() && s[i + 1] == close) { i += 2; continue; }
          break;
        }
        ++i;
      }
      current.words.push_back("?");  // a literal or identifier
      continue;
    }
    // Dollar quotes: $$...$$ or $tag$...$tag$ (PostgreSQL; in SQLite $ starts
    // a parameter name).
    // A $ inside an identifier (x$q$) is part of the name.
    if (pg && c == '$' && (i == 0 || !(text::IsAlnum(s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '$'))) {
      std::size_t j = i + 1;
      while (j < s.size() && (text::IsAlnum(s[j]) || s[j] == '_')) ++j;
      if (j < s.size() && s[j] == '$' && (j == i + 1 || !text::IsDigit(s[i + 1]))) {
        flush_word();
        std::string tag(s.substr(i, j - i + 1));
        std::size_t end = s.find(tag, j + 1);
        std::size_t stop = end == std::string_view::npos ? s.size() : end + tag.size();
        for (std::size_t k = i; k < stop; ++k)
          if (s[k] == '\n') ++line;
        i = stop - 1;
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
