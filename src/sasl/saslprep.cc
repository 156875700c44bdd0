// SASLprep through GNU SASL, and a UTF-8 validator; see saslprep.h. Never logs the input.
#include "sasl/saslprep.h"

#include <gsasl.h>

#include <cstdint>
#include <cstring>

#include "base/secret.h"

namespace poplar::sasl {
namespace {

// U+0221 is unassigned in Unicode 3.2, the version stringprep (RFC 3454) is bound to.
constexpr const char* kUnassignedProbe = "\xc8\xa1";

// The gsasl flag that makes SASLprep accept unassigned code points. GNU SASL 2.2 (Debian 12)
// applies GSASL_ALLOW_UNASSIGNED the wrong way round (with it, unassigned code points are
// refused; without it, accepted), so the right flag is found once by probing with a code point
// that is known to be unassigned, which keeps us correct when the library is fixed.
Gsasl_saslprep_flags allow_unassigned_flag() {
  static const Gsasl_saslprep_flags flag = [] {
    char* out = nullptr;
    int stringprep_rc = 0;
    int rc = gsasl_saslprep(kUnassignedProbe, GSASL_ALLOW_UNASSIGNED, &out, &stringprep_rc);
    gsasl_free(out);
    return rc == GSASL_OK ? GSASL_ALLOW_UNASSIGNED : static_cast<Gsasl_saslprep_flags>(0);
  }();
  return flag;
}

Gsasl_saslprep_flags refuse_unassigned_flag() {
  return allow_unassigned_flag() == GSASL_ALLOW_UNASSIGNED ? static_cast<Gsasl_saslprep_flags>(0)
                                                           : GSASL_ALLOW_UNASSIGNED;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    uint8_t c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t min = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return false;  // a continuation byte where a lead byte belongs, or 0xf8..0xff
    }
    if (text.size() - i <= extra) {
      return false;  // truncated sequence
    }
    for (size_t k = 1; k <= extra; ++k) {
      uint8_t cc = static_cast<uint8_t>(text[i + k]);
      if ((cc & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;  // overlong, beyond Unicode, or a UTF-16 surrogate (RFC 3629 §3)
    }
    i += extra + 1;
  }
  return true;
}

Result<std::string> saslprep(std::string_view text, bool allow_unassigned) {
  // gsasl reads a C string; an embedded NUL would silently cut the input short.
  if (std::memchr(text.data(), '\0', text.size()) != nullptr || !is_valid_utf8(text)) {
    return Status::invalid_input("SASLprep: not a UTF-8 string without NUL");
  }
  std::string terminated(text);  // NUL-terminated copy, wiped below

  char* out = nullptr;
  int stringprep_rc = 0;
  int rc = gsasl_saslprep(terminated.c_str(),
                          allow_unassigned ? allow_unassigned_flag() : refuse_unassigned_flag(),
                          &out, &stringprep_rc);
  secure_wipe(terminated.data(), terminated.size());
  if (rc != GSASL_OK || out == nullptr) {
    if (out != nullptr) {
      gsasl_free(out);
    }
    if (rc == GSASL_MALLOC_ERROR) {
      return Status::temporary("SASLprep: out of memory");
    }
    return Status::invalid_input("SASLprep: prohibited or unassigned code point");
  }
  std::string result(out);
  secure_wipe(out, result.size());
  gsasl_free(out);
  return result;
}

}  // namespace poplar::sasl
