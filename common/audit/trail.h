// trail.h — the audit trail's operations over a store both engines provide
// (SPEC §5, issue 13; docs/audit.md): sealing, verifying, purging and
// erasing. The logic lives here once; pg_ext/audit_pg.cc and
// sqlite_ext/audit_sqlite.cc implement AuditStore with their SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/entry.h"

namespace vigil::core::audit {

struct Chain {
  std::int64_t from_seq = 0;            // checkpoint left by a purge
  std::optional<std::string> from_hash;
  std::int64_t head_seq = 0;            // newest sealed entry, recorded apart from the log
  std::optional<std::string> head_hash;
};

struct Sealed {
  std::int64_t seq = 0;
  Entry entry;
  std::string hash;
};

struct Seal1 {
  std::int64_t id, seq;
  std::string hash;
};

struct Erasure {
  std::int64_t id;
  Text old_digest, new_digest;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  // The chain's state; `lock` takes the sealing lock (held to the end of
  // the transaction): one sealer at a time, writers never wait for it.
  virtual Chain ReadChain(bool lock) = 0;
  // StartSealing marks the start of one sealing call: it seals at most the
  // entries committed by then.
  virtual void StartSealing() {}
  // FinishSealing ends a sealing call that sealed everything it was going
  // to (the store may record how far every entry is sealed).
  virtual void FinishSealing() {}
  // Committed entries not sealed yet, oldest id first, after those already
  // returned since StartSealing.
  virtual std::vector<Entry> ReadUnsealed(int limit) = 0;
  virtual void WriteSeals(const std::vector<Seal1>& seals) = 0;
  virtual void WriteHead(std::int64_t seq, const std::string& hash) = 0;
  // Sealed entries with seq > after_seq, in seq order.
  virtual std::vector<Sealed> ReadSealed(std::int64_t after_seq, int limit) = 0;
  virtual std::int64_t CountUnsealed() = 0;
  // The newest seq whose entry and every one before it (after the
  // checkpoint) were written before `before` (0 when none).
  virtual std::int64_t LastSeqBefore(std::string_view before) = 0;
  // Deletes sealed entries with seq <= through; returns how many.
  virtual std::int64_t DeleteThrough(std::int64_t through) = 0;
  virtual void WriteCheckpoint(std::int64_t seq, const std::string& hash) = 0;
  // Entries of one table with a row key, id > after_id, oldest first.
  virtual std::vector<Entry> ReadKeyed(std::string_view schema, std::string_view table, std::int64_t after_id,
                                       int limit) = 0;
  virtual void WriteErasures(const std::vector<Erasure>& erasures) = 0;
  // Appends an entry (ERASE, PURGE) as the caller; the store fills id,
  // time and identities. Sealed by the next SealPending.
  virtual void Append(const Entry& e) = 0;
};

// SealPending seals every committed entry not sealed yet, in id order,
// under the sealing lock; returns how many.
std::int64_t SealPending(AuditStore& store, std::optional<std::string_view> key);

// Verify walks the chain from the checkpoint to the recorded head; the
// JSON vigil_audit_verify returns (entry.h, Verifier).
std::string Verify(AuditStore& store, std::optional<std::string_view> key, std::optional<std::string> expected_head);

// Purge deletes the sealed entries written before `before` (a prefix of
// the chain), keeps the last deleted link as the checkpoint, records a
// PURGE entry and seals it. Returns {"purged": n, "checkpoint_seq": s}.
std::string Purge(AuditStore& store, std::string_view before, std::optional<std::string_view> key);

// Erase removes the row images of one table's entries whose row key equals
// `key_json` (as JSON values: key order and spelling do not matter),
// keeping each image's digest so the chain still verifies; records an
// ERASE entry. Returns {"erased": n}.
std::string Erase(AuditStore& store, std::string_view schema, std::string_view table, std::string_view key_json,
                  std::optional<std::string_view> key);

}  // namespace vigil::core::audit
