// validators.cc — fuzz target: every validator (validate/validators.h).
//
// The first byte picks the kind (modulo the table of Kinds() plus three
// extras: phone in a region, UuidVersion, IbanNormalize then CheckIban); the
// rest is the value. For the region check the next two bytes are the region.
// Invariants: a reason is a short NUL-terminated text, and Explain agrees
// with the kind's check.
#include <cstring>
#include <string>

#include "fuzz.h"
#include "validate/validators.h"

using namespace vigil;

namespace {

void CheckReason(core::Reason r) {
  if (r != nullptr) fuzz::Check(std::strlen(r) > 0 && std::strlen(r) < 200, "a reason empty or unbounded");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t count = 0;
  const core::KindInfo* kinds = core::Kinds(&count);
  std::size_t pick = data[0] % (count + 3);
  std::string_view value = fuzz::Text(data + 1, size - 1);
  if (pick < count) {
    const core::KindInfo& kind = kinds[pick];
    fuzz::Expected([&] {
      core::Reason r = kind.check(value);
      CheckReason(r);
      auto explained = core::Explain(kind.name, value);
      fuzz::Check(explained.has_value() == (r != nullptr), "Explain and the kind's check disagree");
    });
  } else if (pick == count) {
    std::string_view region = value.substr(0, 2), rest = value.substr(value.size() < 2 ? value.size() : 2);
    fuzz::Expected([&] { CheckReason(core::CheckPhoneInRegion(rest, region)); });
  } else if (pick == count + 1) {
    fuzz::Expected([&] {
      int v = core::UuidVersion(value);
      fuzz::Check(v >= 0 && v <= 15, "a UUID version outside 0..15");
    });
  } else {
    fuzz::Expected([&] { CheckReason(core::CheckIban(core::IbanNormalize(value))); });
  }
  return 0;
}
