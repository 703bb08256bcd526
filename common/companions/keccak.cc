// keccak.cc — the vigil_keccak companion: Keccak-256 (Crypto++) for EIP-55
// address checksums; OpenSSL 3.0 has SHA3-256 but not Keccak-256, whose
// padding differs (see api.h).
#include <cryptopp/keccak.h>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

int Keccak256(const void* data, size_t len, unsigned char out[32]) {
  try {
    CryptoPP::Keccak_256 keccak;
    keccak.CalculateDigest(out, static_cast<const CryptoPP::byte*>(data), len);
    return 1;
  } catch (...) {  // nothing may cross the C interface
    return 0;
  }
}

constexpr VigilKeccakApi kApi = {1, Keccak256};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilKeccakApi* vigil_keccak_api(void) { return &kApi; }
