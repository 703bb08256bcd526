// audit_staged.cc — fuzz target: the staged audit batches SQLite keeps in
// vigil_audit_batch (audit/staged.cc), which a crafted file controls.
// Input: a batch's bytes as stored (a format byte, then the entries or an
// LZ4 block of them). Invariants: unpacking and the reader never read past
// the end and throw only core::Error; what they read, written again with
// the encoder and packed, reads back the same. The same bytes are also
// tried as a layout.
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "audit/staged.h"
#include "fuzz.h"

using namespace vigil;
namespace staged = core::audit::staged;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view bytes = fuzz::Text(data, size);
  std::vector<staged::Entry> entries;
  std::string scratch;
  fuzz::Expected([&] {
    staged::Reader r(staged::Unpack(bytes, &scratch));
    staged::Entry e;
    while (r.Next(e)) entries.push_back(e);
  });
  std::string again;
  for (const staged::Entry& e : entries) {
    using Given = std::optional<std::optional<std::string_view>>;
    staged::AppendHeader(again, e.layout, e.op, e.at_ms, std::nullopt, Given(e.actor), Given(e.statement),
                         e.values.size());
    for (const staged::Value& v : e.values) staged::AppendValue(again, v);
  }
  std::string packed, scratch2;
  staged::Pack(packed, again);
  staged::Reader r(staged::Unpack(packed, &scratch2));
  staged::Entry e;
  for (const staged::Entry& want : entries) {
    fuzz::Check(r.Next(e), "a re-encoded entry reads back");
    fuzz::Check(e.layout == want.layout && e.op == want.op && e.at_ms == want.at_ms && e.actor == want.actor &&
                    e.statement == want.statement && e.values.size() == want.values.size(),
                "a re-encoded entry's header is the same");
    for (std::size_t i = 0; i < e.values.size(); ++i) {
      const staged::Value &a = e.values[i], &b = want.values[i];
      bool same = a.kind == b.kind && a.integer == b.integer && a.bytes == b.bytes &&
                  (a.kind != staged::Value::kReal || std::memcmp(&a.real, &b.real, 8) == 0);
      fuzz::Check(same, "a re-encoded value is the same");
    }
  }
  fuzz::Check(!r.Next(e), "nothing follows the re-encoded entries");
  fuzz::Expected([&] {
    staged::Layout l = staged::ParseLayout(bytes);
    staged::Layout back = staged::ParseLayout(staged::LayoutJson(l));
    fuzz::Check(back.table == l.table && back.columns == l.columns && back.key == l.key && back.redact == l.redact,
                "a layout survives its own JSON");
  });
  return 0;
}
