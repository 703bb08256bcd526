// age.cc — see age.h. The format: age-encryption.org/v1 (C2SP).
#include "secrets/age.h"

#include <array>
#include <vector>

#include "base/cancel.h"
#include "base/companion.h"
#include "base/error.h"
#include "companions/api.h"
#include "base/core_guard.h"

namespace vigil::core::age {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kTag = 16;
constexpr std::size_t kMaxHeader = 16 * 1024;
constexpr std::string_view kScryptLabel = "age-encryption.org/v1/scrypt";

const VigilOpensslApi& Openssl() {
  static const VigilOpensslApi& api =
      companion::Require<VigilOpensslApi>("vigil_openssl", VIGIL_OPENSSL_API_ENTRY, VIGIL_OPENSSL_API_VERSION);
  return api;
}

[[noreturn]] void Bad(const std::string& what, const char* hint = "") {
  std::string message = "backup: ";
  message += what;
  throw Error(ErrorCode::kInvalidParameter, message, {}, hint);
}

std::array<unsigned char, 32> Hkdf(std::string_view ikm, std::string_view salt, std::string_view info) {
  std::array<unsigned char, 32> out{};
  if (Openssl().hkdf_sha256(ikm.data(), ikm.size(), salt.data(), salt.size(), info.data(), info.size(), out.data(),
                            out.size()) != 1)
    throw Error(ErrorCode::kInternal, "HKDF-SHA256 failed");
  return out;
}

std::array<unsigned char, 32> ScryptKey(std::string_view passphrase, std::string_view salt, int work_factor) {
  std::string s(kScryptLabel);
  s.append(salt);
  std::array<unsigned char, 32> key{};
  std::uint64_t n = std::uint64_t{1} << work_factor;
  std::uint64_t max_mem = 2 * 128 * 8 * n + (std::uint64_t{1} << 20);
  PollCancel();
  if (Openssl().scrypt(passphrase.data(), passphrase.size(), s.data(), s.size(), n, 8, 1, max_mem, key.data(),
                       key.size()) != 1)
    throw Error(ErrorCode::kInternal, "scrypt failed (out of memory?)");
  PollCancel();
  return key;
}

std::string HeaderMac(std::string_view file_key, std::string_view header) {
  auto key = Hkdf(file_key, {}, "header");
  unsigned char mac[32];
  if (Openssl().hmac_sha256(key.data(), key.size(), header.data(), header.size(), mac) != 1)
    throw Error(ErrorCode::kInternal, "HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(mac), 32);
}

void ChunkNonce(std::uint64_t counter, bool last, unsigned char nonce[12]) {
  for (int i = 0; i < 11; ++i) nonce[i] = 0;
  for (int i = 10; i >= 3; --i) {
    nonce[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  nonce[11] = last ? 1 : 0;
}

bool DecimalWorkFactor(std::string_view s, int* out) {
  if (s.empty() || s.size() > 2 || (s.size() > 1 && s[0] == '0')) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Reader buffers the source for the header's lines and the payload's
// chunks.
class Reader {
 public:
  explicit Reader(Source& in) : in_(in) {}
  // Line reads through the next '\n' (excluded) into *line; false at the
  // end of the input or past the header's bound.
  bool Line(std::string* line) {
    line->clear();
    for (;;) {
      if (pos_ == buf_.size() && !Fill()) return false;
      char c = buf_[pos_++];
      consumed_++;
      if (consumed_ > kMaxHeader) Bad("the header is longer than 16 KiB: not a backup of vigil's or age's");
      if (c == '\n') return true;
      line->push_back(c);
    }
  }
  // Take reads up to n bytes (fewer only at the end).
  std::size_t Take(char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      if (pos_ == buf_.size() && !Fill()) break;
      std::size_t k = std::min(n - got, buf_.size() - pos_);
      std::copy(buf_.begin() + static_cast<std::ptrdiff_t>(pos_), buf_.begin() + static_cast<std::ptrdiff_t>(pos_ + k),
                out + got);
      pos_ += k;
      got += k;
    }
    return got;
  }
  bool AtEnd() { return pos_ == buf_.size() && !Fill(); }

 private:
  bool Fill() {
    buf_.resize(kChunk);
    std::size_t n = in_.Read(buf_.data(), buf_.size());
    buf_.resize(n);
    pos_ = 0;
    return n > 0;
  }
  Source& in_;
  std::string buf_;
  std::size_t pos_ = 0, consumed_ = 0;
};

}  // namespace

std::string Base64(std::string_view bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                      static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool Unbase64(std::string_view text, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return false;
  out->clear();
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Canonical: the unused low bits of the last character are zero.
  return (acc & ((1u << bits) - 1)) == 0;
}

void Encrypt(std::string_view plaintext, std::string_view passphrase, int work_factor, Sink& out) {
  if (passphrase.empty()) throw Error(ErrorCode::kInvalidParameter, "backup: the passphrase is empty");
  if (work_factor < 10 || work_factor > kHardMaxWorkFactor)
    throw Error(ErrorCode::kInvalidParameter, "backup: the scrypt work factor must be 10 to 22");
  std::string file_key(16, '\0'), salt(16, '\0'), nonce(16, '\0');
  if (Openssl().random_bytes(file_key.data(), 16) != 1 || Openssl().random_bytes(salt.data(), 16) != 1 ||
      Openssl().random_bytes(nonce.data(), 16) != 1)
    throw Error(ErrorCode::kInternal, "OpenSSL's random generator failed");
  auto wrap_key = ScryptKey(passphrase, salt, work_factor);
  unsigned char zero_nonce[12] = {0};
  unsigned char body[32];
  if (Openssl().chacha20poly1305_seal(wrap_key.data(), zero_nonce, file_key.data(), 16, body) != 1)
    throw Error(ErrorCode::kInternal, "ChaCha20-Poly1305 failed");
  std::string header(kMagic);
  header += "-> scrypt ";
  header += Base64(salt);
  header += ' ';
  header += std::to_string(work_factor);
  header += '\n';
  header += Base64(std::string_view(reinterpret_cast<const char*>(body), 32));
  header += '\n';
  header += "---";
  std::string mac = HeaderMac(file_key, header);
  header += ' ';
  header += Base64(mac);
  header += '\n';
  out.Write(header);
  out.Write(nonce);
  auto payload_key = Hkdf(file_key, nonce, "payload");
  std::vector<unsigned char> sealed(kChunk + kTag);
  std::uint64_t counter = 0;
  std::size_t offset = 0;
  do {
    PollCancel();
    std::size_t n = std::min(kChunk, plaintext.size() - offset);
    bool last = offset + n == plaintext.size();
    unsigned char chunk_nonce[12];
    ChunkNonce(counter++, last, chunk_nonce);
    if (Openssl().chacha20poly1305_seal(payload_key.data(), chunk_nonce, plaintext.data() + offset, n, sealed.data()) != 1)
      throw Error(ErrorCode::kInternal, "ChaCha20-Poly1305 failed");
    out.Write(std::string_view(reinterpret_cast<const char*>(sealed.data()), n + kTag));
    offset += n;
  } while (offset < plaintext.size());
}

Decrypted Decrypt(Source& in, std::string_view passphrase, int max_work_factor, Sink& out) {
  if (passphrase.empty()) throw Error(ErrorCode::kInvalidParameter, "backup: the passphrase is empty");
  Reader r(in);
  std::string line, header;
  if (!r.Line(&line) || line.size() + 1 != kMagic.size() || kMagic.substr(0, line.size()) != line)
    Bad("not an age file (the first line is not age-encryption.org/v1)");
  header = std::string(kMagic);
  // The stanzas: exactly one, of type scrypt.
  if (!r.Line(&line)) Bad("the file is truncated in its header");
  if (line.rfind("-> ", 0) != 0) Bad("the header has no recipient stanza");
  header += line;
  header += '\n';
  std::vector<std::string> args;
  for (std::size_t i = 3, j; i <= line.size(); i = j + 1) {
    j = line.find(' ', i);
    if (j == std::string::npos) j = line.size();
    args.push_back(line.substr(i, j - i));
  }
  if (args.empty() || args[0] != "scrypt")
  {
    std::string message = "backup: the file is encrypted to a key (";
    message += args.empty() ? std::string() : args[0];
    message += "), not a passphrase";
    throw Error(ErrorCode::kNotSupported, message, {}, "vigil opens files encrypted with a passphrase (age -p)");
  }
  int work_factor = 0;
  std::string salt;
  if (args.size() != 3 || !Unbase64(args[1], &salt) || salt.size() != 16 || !DecimalWorkFactor(args[2], &work_factor))
    Bad("the scrypt stanza is malformed");
  std::string body_b64;
  for (;;) {
    if (!r.Line(&line)) Bad("the file is truncated in its header");
    header += line;
    header += '\n';
    body_b64 += line;
    if (line.size() < 64) break;
    if (line.size() > 64) Bad("the scrypt stanza is malformed");
  }
  std::string body;
  if (!Unbase64(body_b64, &body) || body.size() != 32) Bad("the scrypt stanza is malformed");
  if (!r.Line(&line)) Bad("the file is truncated in its header");
  if (line.rfind("-> ", 0) == 0)
    Bad("the header has more than one recipient: a passphrase-encrypted file has only its scrypt stanza");
  std::string mac;
  if (line.rfind("--- ", 0) != 0 || !Unbase64(std::string_view(line).substr(4), &mac) || mac.size() != 32)
    Bad("the header's MAC line is malformed");
  header += "---";
  if (work_factor < 1 || work_factor > std::min(max_work_factor, kHardMaxWorkFactor))
    throw Error(ErrorCode::kProgramLimit,
                "backup: the scrypt work factor " + std::to_string(work_factor) + " is over the bound of " +
                    std::to_string(std::min(max_work_factor, kHardMaxWorkFactor)),
                "decrypting would need 2^" + std::to_string(work_factor) + " x 1 KiB of memory",
                "a file vigil or age -p wrote uses 18");
  auto wrap_key = ScryptKey(passphrase, salt, work_factor);
  unsigned char zero_nonce[12] = {0};
  std::string file_key(16, '\0');
  if (Openssl().chacha20poly1305_open(wrap_key.data(), zero_nonce, body.data(), body.size(),
                                      reinterpret_cast<unsigned char*>(file_key.data())) != 1)
    Bad("wrong passphrase (or the header was changed)");
  if (Openssl().equal(HeaderMac(file_key, header).data(), mac.data(), 32) != 1) Bad("the header was changed");
  std::string nonce(16, '\0');
  if (r.Take(nonce.data(), 16) != 16) Bad("the file is truncated after its header");
  auto payload_key = Hkdf(file_key, nonce, "payload");
  std::vector<char> chunk(kChunk + kTag);
  std::vector<unsigned char> plain(kChunk);
  std::uint64_t counter = 0, total = 0;
  for (;;) {
    PollCancel();
    std::size_t n = r.Take(chunk.data(), chunk.size());
    bool last = n < chunk.size() || r.AtEnd();
    if (n < kTag) Bad(counter == 0 ? "the file is truncated: no payload" : "the file is truncated");
    if (last && n == kTag && counter > 0) Bad("the file ends with an empty chunk");
    unsigned char chunk_nonce[12];
    ChunkNonce(counter, last, chunk_nonce);
    if (Openssl().chacha20poly1305_open(payload_key.data(), chunk_nonce, chunk.data(), n, plain.data()) != 1) {
      if (last) Bad("the file is truncated, or changed in its last 64 KiB");
      Bad("the file was changed in bytes " + std::to_string(counter * kChunk) + " to " +
          std::to_string((counter + 1) * kChunk) + " of its content");
    }
    out.Write(std::string_view(reinterpret_cast<const char*>(plain.data()), n - kTag));
    total += n - kTag;
    ++counter;
    if (last) break;
  }
  return {total, work_factor};
}

}  // namespace vigil::core::age
