// age_reader.cc — fuzz target: the age reader (secrets/age.h), what
// vigil_backup_verify and vigil_restore run on a file they are given.
//
// Input: a file, read with the passphrase "fuzz" and a work factor bound
// of 10 (larger ones are refused before any scrypt, as they must be). Or,
// when it starts with '!': "!" position plaintext — the plaintext is
// encrypted (work factor 10), one byte at `position` is flipped, and the
// reader must refuse it; unflipped, it must give the plaintext back.
// Invariants: only the documented errors (22023, 54000, 0A000), and an
// authenticated file never yields other bytes than were encrypted.
#include <optional>
#include <string>

#include "base/error.h"
#include "fuzz.h"
#include "secrets/age.h"

using namespace vigil;
namespace age = vigil::core::age;

namespace {

struct Sink : age::Sink {
  std::string data;
  void Write(std::string_view b) override { data.append(b); }
};
struct Source : age::Source {
  std::string_view data;
  std::size_t pos = 0;
  std::size_t Read(char* buf, std::size_t n) override {
    std::size_t k = std::min(n, data.size() - pos);
    data.copy(buf, k, pos);
    pos += k;
    return k;
  }
};

bool Expected(core::ErrorCode c) {
  return c == core::ErrorCode::kInvalidParameter || c == core::ErrorCode::kProgramLimit ||
         c == core::ErrorCode::kNotSupported;
}

// Read returns the plaintext, or nullopt after a documented error.
std::optional<std::string> Read(std::string_view file) {
  Source src;
  src.data = file;
  Sink out;
  try {
    age::Decrypt(src, "fuzz", 10, out);
  } catch (const core::Error& e) {
    fuzz::Check(Expected(e.code()), "the reader failed with an undocumented code");
    return std::nullopt;
  }
  return out.data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::Text(data, size);
  if (in.size() >= 3 && in[0] == '!') {
    std::size_t position = static_cast<unsigned char>(in[1]) * 256u + static_cast<unsigned char>(in[2]);
    std::string plain(in.substr(3));
    Sink file;
    age::Encrypt(plain, "fuzz", 10, file);
    auto back = Read(file.data);
    fuzz::Check(back && *back == plain, "a file vigil wrote does not read back");
    std::string flipped = file.data;
    flipped[position % flipped.size()] ^= 0x01;
    fuzz::Check(!Read(flipped), "a file with a flipped byte was accepted");
    return 0;
  }
  (void)Read(in);
  return 0;
}
