// lexer.h — vigil's one SQL lexer: the migration scanner uses it now, and
// query analysis (normalisation, fingerprints, lint rules) will use it next,
// instead of each writing its own. It knows both dialects' quoting:
// '...' and E'...' strings, "..." `...` [...] identifiers, -- and /* */
// comments, $tag$ dollar quotes, and the BEGIN ... END bodies of triggers
// and BEGIN ATOMIC functions that hold ';' inside.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sql/dialect.h"

namespace vigil::core::sql {

// Statement is one top-level statement: its first words (upper case; a
// literal or quoted identifier is "?") and the line it starts on.
struct Statement {
  std::vector<std::string> words;
  std::size_t line;
  // The statement's text is script.substr(begin, end - begin): from its
  // first token to (not including) its semicolon; comments before it are
  // not part of it.
  std::size_t begin = 0, end = 0;
};

// SplitStatements splits a script at its top-level semicolons, by the
// lexical rules of the script's engine: PostgreSQL's block comments nest and
// it has $tag$ quotes, E'' strings and BEGIN ATOMIC bodies; SQLite's
// comments end at the first */, $ starts a parameter, and only CREATE
// TRIGGER has a BEGIN ... END body.
std::vector<Statement> SplitStatements(std::string_view script, Dialect dialect);

}  // namespace vigil::core::sql
