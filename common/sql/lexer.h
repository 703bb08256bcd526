// lexer.h — vigil's one SQL lexer: the migration scanner splits scripts with
// it, and the audit trail's statement normalisation and query analysis
// (normalize.h, lint rules) read its tokens, instead of each writing its own.
// It knows both dialects' quoting: '...' and E'...' strings, "..." `...`
// [...] identifiers, -- and /* */ comments, $tag$ dollar quotes, and the
// BEGIN ... END bodies of triggers and BEGIN ATOMIC functions that hold ';'
// inside.
//
// Every scan is linear in the input whatever the input, never reads past
// it, never throws for bad text (an unterminated string, comment or quote
// runs to the end), and polls the cancellation check (base/cancel.h) at
// least every 64 KiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sql/dialect.h"

namespace vigil::core::sql {

// TokenKind says what a token is to its engine's own scanner.
enum class TokenKind : std::uint8_t {
  kWord,              // an unquoted keyword or identifier: select, users, x$1
  kQuotedIdentifier,  // "name" (PostgreSQL also U&"name"); SQLite also `name` and [name]
  kString,            // a string constant: '...'; PostgreSQL E'...' (backslash escapes), B'...',
                      // X'...', N'...', U&'...' and $tag$...$tag$; SQLite X'...'
  kNumber,            // 42, 3.14, .5, 1e-3, 0x1F, 1_000; letters stuck to it belong to it (1abc)
  kParameter,         // PostgreSQL $1; SQLite ?, ?NNN, :name, @name, $name, #name
  kOperator,          // operators and punctuation: ( ) , ; . :: <= <> != || ->> ...; also a
                      // byte neither engine reads (it is one token)
  kComment,           // -- ... (to LF; PostgreSQL also CR) and /* ... */ (nested in PostgreSQL)
};

// Token is one token: its bytes are sql.substr(begin, end - begin).
// Whitespace between tokens is no token.
struct Token {
  TokenKind kind;
  std::size_t begin, end;
};

// Tokenize splits SQL text into tokens by the lexical rules of the engine.
// PostgreSQL: identifiers may hold $, operators follow the server's rules
// (a run of operator characters, cut before -- or /*, without a trailing + or
// - unless it holds one of ~ ! @ # % ^ & | ` ?), $1 is a parameter and ? an
// operator; plain '...' strings are read with standard_conforming_strings on
// (the default since 9.1: a backslash is an ordinary character). SQLite: $, :,
// @, # start parameter names and ? a numbered parameter; `...` and [...]
// quote identifiers; comments do not nest and -- ends at LF only.
std::vector<Token> Tokenize(std::string_view sql, Dialect dialect);

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
