// age.h — the age v1 file format (age-encryption.org/v1) with an scrypt
// (passphrase) recipient, on OpenSSL's primitives through the vigil_openssl
// companion: scrypt, HKDF-SHA256, HMAC-SHA256, ChaCha20-Poly1305. Files it
// writes open with `age -d`; files `age -p` wrote open here. Only the
// format is written here; every primitive is OpenSSL's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::core::age {

// scrypt work factors (log2 N; r = 8, p = 1 as age uses them): 18 is age's
// own default for -p (about 1 s, 256 MiB); decrypting refuses more than 20
// (1 GiB of memory) unless the caller allows more, up to 22, age's limit.
inline constexpr int kDefaultWorkFactor = 18;
inline constexpr int kMaxWorkFactor = 20;
inline constexpr int kHardMaxWorkFactor = 22;

inline constexpr std::string_view kMagic = "age-encryption.org/v1\n";

// Where bytes go and come from: the adapters write files; the tests and
// the fuzz target use memory.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Write(std::string_view bytes) = 0;
};
class Source {
 public:
  virtual ~Source() = default;
  // Read fills up to n bytes; 0 only at the end.
  virtual std::size_t Read(char* buf, std::size_t n) = 0;
};

// Encrypt writes `plaintext` as an age file with one scrypt recipient. An
// empty passphrase is 22023; a work factor outside 10..22 is 22023.
void Encrypt(std::string_view plaintext, std::string_view passphrase, int work_factor, Sink& out);

// Decrypt reads an age file and writes its plaintext, chunk by chunk, each
// chunk only after it authenticated: a wrong passphrase, a changed header
// or byte, a truncated file, or bytes after the end are errors (22023)
// naming what went wrong; a work factor over max_work_factor is 54000
// before any scrypt work; a recipient other than scrypt is 0A000. What was
// written before an error must be thrown away by the caller (a restore
// writes to a temporary file).
struct Decrypted {
  std::uint64_t bytes = 0;
  int work_factor = 0;
};
Decrypted Decrypt(Source& in, std::string_view passphrase, int max_work_factor, Sink& out);

// Base64 as age writes it: the standard alphabet without padding; Decode
// refuses anything else, non-canonical trailing bits included.
std::string Base64(std::string_view bytes);
bool Unbase64(std::string_view text, std::string* out);

}  // namespace vigil::core::age
