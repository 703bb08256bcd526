// trail.cc — sealing, verifying, purging and erasing (see trail.h).
#include "audit/trail.h"

#include <nlohmann/json.hpp>

#include "base/cancel.h"
#include "base/error.h"
#include "base/json.h"
#include "base/core_guard.h"

namespace vigil::core::audit {
namespace {

using nlohmann::json;

constexpr int kBatch = 1000;

std::string Dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::int64_t SealPending(AuditStore& store, std::optional<std::string_view> key) {
  Chain chain = store.ReadChain(true);
  store.StartSealing();
  std::int64_t seq = std::max(chain.head_seq, chain.from_seq);
  if (seq < 0 || seq > (std::int64_t{1} << 62))
    throw Error(ErrorCode::kPrerequisite, "the audit chain's recorded head is out of range", {},
                "vigil_audit_chain was changed outside vigil; restore it from a backup");
  std::optional<std::string> prev = chain.head_seq >= chain.from_seq && chain.head_hash ? chain.head_hash
                                                                                         : chain.from_hash;
  std::int64_t sealed = 0;
  for (;;) {
    PollCancel();
    std::vector<Entry> batch = store.ReadUnsealed(kBatch);
    if (batch.empty()) break;
    std::vector<Seal1> seals;
    seals.reserve(batch.size());
    for (const Entry& e : batch) {
      std::string link = Seal(prev, e, key);
      seals.push_back({e.id, ++seq, link});
      prev = std::move(link);
    }
    store.WriteSeals(seals);
    sealed += static_cast<std::int64_t>(seals.size());
    if (static_cast<int>(batch.size()) < kBatch) break;
  }
  if (sealed > 0) store.WriteHead(seq, *prev);
  store.FinishSealing();
  return sealed;
}

std::string Verify(AuditStore& store, std::optional<std::string_view> key, std::optional<std::string> expected_head) {
  Chain chain = store.ReadChain(false);
  Verifier v(chain.from_seq, chain.from_hash, chain.head_seq, chain.head_hash,
             key ? std::optional<std::string>(std::string(*key)) : std::nullopt, std::move(expected_head));
  std::int64_t after = chain.from_seq;
  for (bool going = true; going;) {
    std::vector<Sealed> rows = store.ReadSealed(after, kBatch);
    for (const Sealed& s : rows) {
      if (!v.Feed(s.seq, s.entry, s.hash)) {
        going = false;
        break;
      }
      after = s.seq;
    }
    if (static_cast<int>(rows.size()) < kBatch) going = false;
  }
  return v.Report(store.CountUnsealed());
}

std::string Purge(AuditStore& store, std::string_view before, std::optional<std::string_view> key) {
  SealPending(store, key);
  Chain chain = store.ReadChain(true);
  std::int64_t through = store.LastSeqBefore(before);
  std::int64_t purged = 0;
  if (through > chain.from_seq) {
    // The checkpoint is the stored link of the last entry deleted.
    std::vector<Sealed> last = store.ReadSealed(through - 1, 1);
    if (last.empty() || last[0].seq != through)
      throw Error(ErrorCode::kPrerequisite, "audit: the chain has a gap before the entries to purge", "", "run vigil_audit_verify() to find it");
    purged = store.DeleteThrough(through);
    store.WriteCheckpoint(through, last[0].hash);
  } else {
    through = chain.from_seq;
  }
  Entry e;
  e.operation = "PURGE";
  json detail = json::object();
  detail["before"] = std::string(before);
  detail["purged"] = purged;
  detail["checkpoint_seq"] = through;
  e.detail = Dump(detail);
  store.Append(e);
  SealPending(store, key);
  json r = json::object();
  r["purged"] = purged;
  r["checkpoint_seq"] = through;
  return Dump(r);
}

std::string Erase(AuditStore& store, std::string_view schema, std::string_view table, std::string_view key_json,
                  std::optional<std::string_view> key) {
  std::string wanted = Encode(key_json);
  if (wanted.empty() || wanted[0] != 'o')
    throw Error(ErrorCode::kInvalidParameter, "key must be a JSON object of the key's columns", "", "for example {\"id\": 42}");
  SealPending(store, key);
  std::int64_t after = 0, erased = 0;
  for (;;) {
    PollCancel();
    std::vector<Entry> rows = store.ReadKeyed(schema, table, after, kBatch);
    std::vector<Erasure> out;
    for (const Entry& e : rows) {
      after = e.id;
      if (!e.row_key || EncodeStored(*e.row_key) != wanted) continue;
      if (!e.old_row && !e.new_row) continue;  // erased before
      out.push_back({e.id, RowImageDigest(e.old_row, e.old_digest), RowImageDigest(e.new_row, e.new_digest)});
    }
    if (!out.empty()) store.WriteErasures(out);
    erased += static_cast<std::int64_t>(out.size());
    if (static_cast<int>(rows.size()) < kBatch) break;
  }
  Entry e;
  e.operation = "ERASE";
  e.table_schema = std::string(schema);
  e.table_name = std::string(table);
  json_in::Numbers numbers;
  json parsed = json_in::ParseInput(key_json, "key", &numbers);
  if (!parsed.is_object()) throw Error(ErrorCode::kInvalidParameter, "key must be a JSON object of the key's columns");
  e.row_key = json_in::Dump(parsed, numbers);
  json detail = json::object();
  detail["erased"] = erased;
  e.detail = Dump(detail);
  store.Append(e);
  SealPending(store, key);
  json r = json::object();
  r["erased"] = erased;
  return Dump(r);
}

}  // namespace vigil::core::audit
