// idn2.cc — the vigil_idn2 companion: IDNA 2008 lookups and label checks
// through libidn2 (see api.h).
#include <idn2.h>

#include <cstring>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

int Lookup(const char* domain, char* ace, size_t ace_size) {
  char* out = nullptr;
  int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(domain), reinterpret_cast<uint8_t**>(&out),
                          IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  int result = 1;
  if (rc == IDN2_OK && out != nullptr) {
    size_t n = std::strlen(out);
    if (n + 1 > ace_size) {
      result = 2;
    } else {
      std::memcpy(ace, out, n + 1);
      result = 0;
    }
  }
  idn2_free(out);  // the buffer is libidn2's: released with its own free
  return result;
}

// CopyOut copies a libidn2 result into the caller's buffer: 0, or 2 when
// it does not fit.
int CopyOut(const char* out, char* ace, size_t ace_size) {
  size_t n = std::strlen(out);
  if (n + 1 > ace_size) return 2;
  std::memcpy(ace, out, n + 1);
  return 0;
}

// HasRtl reports whether a valid U-label holds a right-to-left character.
// libidn2 exports no Bidi classes, so ask it: "a" + label is a
// left-to-right label, and RFC 5893 rule 5 rejects it (IDN2_BIDI) exactly
// when the label holds an R, AL or AN character. The other tests cannot
// fail on the prefixed label, because the label itself passed them.
int HasRtl(const char* ulabel) {
  size_t n = std::strlen(ulabel);
  char stack[256];
  if (n + 2 > sizeof(stack)) return 0;  // longer than any label that passed
  stack[0] = 'a';
  std::memcpy(stack + 1, ulabel, n + 1);
  char* out = nullptr;
  int rc = idn2_register_u8(reinterpret_cast<const uint8_t*>(stack), nullptr, reinterpret_cast<uint8_t**>(&out),
                            IDN2_NFC_INPUT);
  idn2_free(out);
  return rc == IDN2_BIDI ? 1 : 0;
}

// MixesDigits applies RFC 5893 rule 4, which libidn2 2.3 leaves out: a
// right-to-left label holds European (EN) or Arabic (AN) digits, not both.
// Only the digits IDNA 2008 lets into a label matter: EN are ASCII 0-9 and
// U+06F0-06F9, AN are U+0660-0669 and U+10D30-10D39 (every other digit of
// either class is DISALLOWED, which libidn2 has already refused).
bool MixesDigits(const char* ulabel) {
  bool en = false;
  bool an = false;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(ulabel);
  while (*p != 0) {
    uint32_t c = *p;
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (len == 2 && p[1] != 0) c = ((c & 0x1F) << 6) | (p[1] & 0x3F);
    if (len == 3 && p[1] != 0 && p[2] != 0) c = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    if (len == 4 && p[1] != 0 && p[2] != 0 && p[3] != 0)
      c = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    if ((c >= '0' && c <= '9') || (c >= 0x06F0 && c <= 0x06F9)) en = true;
    if ((c >= 0x0660 && c <= 0x0669) || (c >= 0x10D30 && c <= 0x10D39)) an = true;
    for (int k = 0; k < len && *p != 0; ++k) ++p;  // libidn2 has checked the UTF-8
  }
  return en && an;
}

int CheckLabel(const char* label, char* ace, size_t ace_size, int* rtl) {
  *rtl = 0;
  bool a_label = std::strncmp(label, "xn--", 4) == 0;
  char* out = nullptr;
  int rc = a_label ? idn2_register_u8(nullptr, reinterpret_cast<const uint8_t*>(label),
                                      reinterpret_cast<uint8_t**>(&out), IDN2_NFC_INPUT)
                   : idn2_register_u8(reinterpret_cast<const uint8_t*>(label), nullptr,
                                      reinterpret_cast<uint8_t**>(&out), IDN2_NFC_INPUT);
  int result = 1;
  if (rc == IDN2_OK && out != nullptr) result = CopyOut(out, ace, ace_size);
  idn2_free(out);
  if (result != 0) return result;
  if (!a_label) {
    *rtl = HasRtl(label);
    return *rtl && MixesDigits(label) ? 1 : 0;
  }
  char* u = nullptr;
  if (idn2_to_unicode_8z8z(label, &u, 0) == IDN2_OK && u != nullptr) {
    *rtl = HasRtl(u);
    if (*rtl && MixesDigits(u)) result = 1;
  }
  idn2_free(u);
  return result;
}

constexpr VigilIdn2Api kApiV1 = {1, Lookup, nullptr};
constexpr VigilIdn2Api kApi = {VIGIL_IDN2_API_VERSION, Lookup, CheckLabel};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilIdn2Api* vigil_idn2_api(void) { return &kApiV1; }
extern "C" __attribute__((visibility("default"))) const VigilIdn2Api* vigil_idn2_api_v2(void) { return &kApi; }
