// migrate_scanner.cc — fuzz target: what the migrations read from a script
// or a file name (migrate/scripts.cc): FindNonTransactional in both
// dialects, ParseScriptOptions, the checksums, versions and file names, and
// DiffLines (the script split at its first NUL into before and after).
//
// The first byte picks the dialect (bit 0: SQLite) and whether the script
// is no-transaction (bit 1); the rest is the script.
#include <string>

#include "fuzz.h"
#include "migrate/migrate.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  core::Dialect dialect = (data[0] & 1) != 0 ? core::Dialect::kSqlite : core::Dialect::kPostgres;
  bool outside = (data[0] & 2) != 0;
  std::string_view script = fuzz::Text(data + 1, size - 1);
  fuzz::Expected([&] {
    auto refusal = core::FindNonTransactional(script, dialect, outside);
    if (refusal) fuzz::Check(refusal->line >= 1, "a refusal on line 0");
  });
  fuzz::Expected([&] { (void)core::ParseScriptOptions(script); });
  fuzz::Expected([&] {
    std::string sum = core::Checksum(script);
    fuzz::Check(core::ChecksumLike(sum, script) == sum, "ChecksumLike differs from Checksum under its own tag");
    fuzz::Check(core::SameScript(sum, script, script), "a script is not the same as itself");
    (void)core::NormalizeScript(script);
  });
  fuzz::Expected([&] {
    std::string key = core::VersionSortKey(script);
    (void)core::NormalizeVersion(script);
    fuzz::Check(core::VersionSortKey(core::NormalizeVersion(script)) == key, "a normalised version sorts elsewhere");
  });
  fuzz::Expected([&] {
    char kind = 0;
    std::string version, name;
    if (core::ParseMigrationFileName(script, &kind, &version, &name))
      fuzz::Check(kind == 'V' || kind == 'U', "a migration file name of another kind");
  });
  fuzz::Expected([&] {
    auto parts = fuzz::Split(script, 2);
    // Small texts only: DiffLines is a bounded LCS (up to 4M cells, about
    // 1 s under the sanitizers) that would spend the run on a few inputs of
    // thousands of lines, not on the scanner.
    if (parts.size() == 2 && script.size() <= 2048) (void)core::DiffLines(parts[0], parts[1]);
  });
  return 0;
}
