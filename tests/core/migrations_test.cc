// migrations_test.cc — checksums, version order, script inspection, diffs.
#include <gtest/gtest.h>

#include "base/error.h"
#include "migrate/migrate.h"
#include "sql/lexer.h"

namespace vigil::core {
namespace {

TEST(Migrations, ChecksumNormalisesLineEndingsAndBom) {
  const std::string lf = Checksum("CREATE TABLE t (id integer);\n");
  EXPECT_EQ(lf.substr(0, 10), "sha256:v2:");
  EXPECT_EQ(lf.size(), 10u + 64u);
  EXPECT_EQ(Checksum("CREATE TABLE t (id integer);\r\n"), lf);
  EXPECT_EQ(Checksum("CREATE TABLE t (id integer);\r"), lf);
  EXPECT_EQ(Checksum("\xEF\xBB\xBF" "CREATE TABLE t (id integer);\n"), lf);
  EXPECT_NE(Checksum("CREATE TABLE t (id bigint);\n"), lf);
  // v2: whitespace at the very end is not part of the script.
  EXPECT_EQ(Checksum("CREATE TABLE t (id integer);"), lf);
  EXPECT_EQ(Checksum("CREATE TABLE t (id integer);\n\n \t\n"), lf);
  EXPECT_NE(Checksum(" CREATE TABLE t (id integer);"), lf);  // only at the end
  // FIPS 180-2 test vector: SHA-256("abc").
  EXPECT_EQ(Checksum("abc"), "sha256:v2:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*ChecksumLike("sha256:v1:", "abc\n"),
            "sha256:v1:edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb");  // SHA-256("abc\n")
  EXPECT_FALSE(ChecksumLike("sha256:v9:", "abc").has_value());
}

TEST(Migrations, SameScriptAcrossChecksumTags) {
  const std::string v1 = *ChecksumLike("sha256:v1:", "x;\n");
  // A v1 record of "x;\n" and the same text without its final newline.
  EXPECT_TRUE(SameScript(v1, "x;\n", "x;\n"));
  EXPECT_TRUE(SameScript(v1, "x;\n", "x;"));
  EXPECT_FALSE(SameScript(v1, "x;\n", "y;"));
  // A recorded text that does not match its checksum proves nothing.
  EXPECT_FALSE(SameScript(v1, "y;\n", "y;"));
  EXPECT_TRUE(SameScript(Checksum("x;"), "x;", "x;\r\n\n"));
}

TEST(Migrations, LexerFollowsEachDialect) {
  using sql::SplitStatements;
  // SQLite: a column named begin is not a trigger body (it hid COMMIT).
  const std::string t =
      "CREATE TABLE x(begin int); CREATE TRIGGER tr AFTER UPDATE OF begin ON x BEGIN SELECT 1; END; COMMIT; BEGIN;";
  auto st = SplitStatements(t, Dialect::kSqlite);
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[2].words[0], "COMMIT");
  EXPECT_EQ(t.substr(st[1].begin, st[1].end - st[1].begin),
            "CREATE TRIGGER tr AFTER UPDATE OF begin ON x BEGIN SELECT 1; END");
  EXPECT_TRUE(FindNonTransactional(t, Dialect::kSqlite).has_value());
  auto w = SplitStatements("CREATE TRIGGER tr AFTER UPDATE ON x WHEN begin > 0 BEGIN UPDATE x SET a = 1; END; VACUUM;",
                           Dialect::kSqlite);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1].words[0], "VACUUM");
  // PostgreSQL ends a -- comment at CR too: the statement after it counts.
  const std::string cr = "CREATE TABLE a(x int);\n-- note\rCREATE TABLE b(a int);\nSELECT 1;";
  auto p = SplitStatements(cr, Dialect::kPostgres);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(cr.substr(p[1].begin, p[1].end - p[1].begin), "CREATE TABLE b(a int)");
  EXPECT_EQ(SplitStatements("-- x\rCOMMIT;", Dialect::kSqlite).size(), 0u);  // SQLite: all one comment
  // A $ inside an identifier starts no dollar quote.
  auto d = SplitStatements("CREATE TABLE x$q$ (a int); COMMIT; SELECT $q$;$q$;", Dialect::kPostgres);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[1].words[0], "COMMIT");
}

TEST(Migrations, ScriptOptionsFromTheHeader) {
  EXPECT_EQ(ParseScriptOptions("CREATE TABLE t (a int);").lock_timeout, "");
  EXPECT_EQ(ParseScriptOptions("-- adds t\n-- vigil: lock_timeout=5s\nCREATE TABLE t (a int);").lock_timeout, "5s");
  EXPECT_EQ(ParseScriptOptions("\n  -- vigil: lock_timeout=250ms\n").lock_timeout, "250ms");
  // After the first statement a comment is just a comment.
  EXPECT_EQ(ParseScriptOptions("CREATE TABLE t (a int);\n-- vigil: lock_timeout=5s\n").lock_timeout, "");
  EXPECT_THROW(ParseScriptOptions("-- vigil: lock_timeout=5sec\n"), Error);
  EXPECT_THROW(ParseScriptOptions("-- vigil: lock_timeout=\n"), Error);
  EXPECT_THROW(ParseScriptOptions("-- vigil: lock_timeout=1234567890\n"), Error);
  EXPECT_THROW(ParseScriptOptions("-- vigil: lock_timeout=999999999min\n"), Error);  // beyond PostgreSQL's int ms
  EXPECT_EQ(ParseScriptOptions("-- vigil: lock_timeout=35791min\n").lock_timeout, "35791min");
  EXPECT_TRUE(ParseScriptOptions("-- vigil: no-transaction\n").transaction == false);
  EXPECT_THROW(ParseScriptOptions("-- vigil: no_such_option\n"), Error);
}

TEST(Migrations, NaturalVersionOrder) {
  EXPECT_LT(VersionSortKey("1.2.9"), VersionSortKey("1.2.10"));
  EXPECT_LT(VersionSortKey("2"), VersionSortKey("10"));
  EXPECT_LT(VersionSortKey("1"), VersionSortKey("1.0.1"));
  EXPECT_EQ(VersionSortKey("1_2"), VersionSortKey("1.2"));
  EXPECT_EQ(VersionSortKey("01.2"), VersionSortKey("1.2"));
  EXPECT_LT(VersionSortKey("20240101120000"), VersionSortKey("20240101120001"));
  EXPECT_THROW(VersionSortKey(""), Error);
  EXPECT_THROW(VersionSortKey("1..2"), Error);
  EXPECT_THROW(VersionSortKey("v1"), Error);
  EXPECT_THROW(VersionSortKey("123456789012345678901"), Error);
}

TEST(Migrations, FindsStatementsThatCannotRunInATransaction) {
  EXPECT_EQ(FindNonTransactional("CREATE TABLE a (x int);\nCREATE INDEX CONCURRENTLY i ON a (x);")->line, 2u);
  EXPECT_EQ(FindNonTransactional("create unique index concurrently i on a (x)")->statement, "CREATE INDEX CONCURRENTLY");
  EXPECT_EQ(FindNonTransactional("DROP INDEX CONCURRENTLY i")->statement, "DROP INDEX CONCURRENTLY");
  EXPECT_EQ(FindNonTransactional("VACUUM ANALYZE a")->statement, "VACUUM");
  EXPECT_EQ(FindNonTransactional("ALTER SYSTEM SET work_mem = '1MB'")->statement, "ALTER SYSTEM");
  EXPECT_EQ(FindNonTransactional("CREATE DATABASE x")->statement, "CREATE DATABASE");
  EXPECT_EQ(FindNonTransactional("BEGIN; CREATE TABLE a (x int); COMMIT;")->statement, "BEGIN");
  // Not statements: text in strings, comments, dollar quotes, identifiers.
  EXPECT_FALSE(FindNonTransactional("SELECT 'VACUUM; BEGIN';"));
  EXPECT_FALSE(FindNonTransactional("-- VACUUM\n/* BEGIN; /* nested */ COMMIT; */ SELECT 1;"));
  EXPECT_FALSE(FindNonTransactional("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN NULL; END$$;"));
  EXPECT_FALSE(FindNonTransactional("CREATE TABLE \"begin\" (x int); CREATE INDEX ON a (x);"));
  // Trigger and atomic bodies hold ';' and BEGIN/END that are not
  // transaction control.
  // transaction control: SQLite's trigger bodies, PostgreSQL's BEGIN ATOMIC.
  constexpr Dialect kSqlite = Dialect::kSqlite;
  EXPECT_FALSE(FindNonTransactional("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT CASE WHEN 1 THEN 2 END; "
                                    "UPDATE a SET x = 1; END;\nCREATE TABLE b (y int);", kSqlite));
  EXPECT_FALSE(FindNonTransactional("CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;", kSqlite));
  EXPECT_FALSE(FindNonTransactional("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;"));
  EXPECT_FALSE(FindNonTransactional("CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; "
                                    "SELECT 2; END;"));
  EXPECT_EQ(FindNonTransactional("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\nVACUUM;", kSqlite)->line, 2u);
  // Each dialect's own lexical rules (issue 10): SQLite's block comments do
  // not nest, so "/* /* */ COMMIT;" commits; a column named begin opens no
  // body in either dialect; $ is no quote in SQLite.
  EXPECT_EQ(FindNonTransactional("CREATE TABLE s1(a); /* /* */ COMMIT; /* */", kSqlite)->statement, "COMMIT");
  EXPECT_FALSE(FindNonTransactional("CREATE TABLE s1(a); /* /* */ COMMIT; /* */ */"));
  EXPECT_EQ(FindNonTransactional("CREATE TABLE s2(begin integer);\nCOMMIT;", kSqlite)->line, 2u);
  EXPECT_EQ(FindNonTransactional("CREATE TABLE s2(begin integer);\nCOMMIT;")->line, 2u);
  EXPECT_EQ(FindNonTransactional("SELECT $a$; COMMIT; $a$;", kSqlite)->statement, "COMMIT");
  EXPECT_FALSE(FindNonTransactional("SELECT $a$; COMMIT; $a$;"));
  EXPECT_EQ(FindNonTransactional("SELECT E'\\'; COMMIT; --'", kSqlite)->statement, "COMMIT");
}

TEST(Migrations, DiffShowsChangedLines) {
  EXPECT_EQ(DiffLines("a\nb\nc\n", "a\nB\nc\n"), "-2: b\n+2: B\n");
  EXPECT_EQ(DiffLines("a\nc\n", "a\nb\nc\n"), "+2: b\n");
  EXPECT_EQ(DiffLines("same\n", "same\n"), "");
}

TEST(Migrations, FileNames) {
  char kind;
  std::string version, name;
  ASSERT_TRUE(ParseMigrationFileName("V1.2__add_trades.sql", &kind, &version, &name));
  EXPECT_EQ(kind, 'V');
  EXPECT_EQ(version, "1.2");
  EXPECT_EQ(name, "add trades");
  ASSERT_TRUE(ParseMigrationFileName("U3_1__x.sql", &kind, &version, &name));
  EXPECT_EQ(version, "3.1");
  EXPECT_FALSE(ParseMigrationFileName("V1_add.sql", &kind, &version, &name));
  EXPECT_FALSE(ParseMigrationFileName("README.md", &kind, &version, &name));
  EXPECT_FALSE(ParseMigrationFileName("Vx__y.sql", &kind, &version, &name));
}

TEST(Migrations, ChainHashCoversOrderAndContent) {
  std::string a = ChainHash("genesis", 1, "1", "apply", "sha256:v1:aa");
  EXPECT_NE(a, ChainHash("genesis", 2, "1", "apply", "sha256:v1:aa"));
  EXPECT_NE(a, ChainHash("other", 1, "1", "apply", "sha256:v1:aa"));
  EXPECT_NE(a, ChainHash("genesis", 1, "1", "undo", "sha256:v1:aa"));
}

}  // namespace
}  // namespace vigil::core
