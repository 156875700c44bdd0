// SASLprep (RFC 4013, a stringprep profile of RFC 3454) for user names and passwords, and a
// strict UTF-8 check. SCRAM prepares names and passwords with it (RFC 5802 §2.2, §5.1); the
// POP3 UTF8 extension (RFC 6856 §2) uses it for USER/PASS. The stringprep tables come from GNU
// SASL (gsasl_saslprep, backed by GNU libidn), so Poplar carries no Unicode tables of its own.
//
// Never logs and never puts the input into a Status: the input is often a password.
// Thread-safety: reentrant; gsasl_saslprep needs no library context.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace poplar::sasl {

// The SASLprep'd form of `text` (UTF-8). `allow_unassigned` is true for "query" strings
// (RFC 3454 §7: what a client sends for comparison, as SCRAM does) and false for "stored"
// strings (what an admin puts into a passwd-file).
// Errors: kInvalidInput when `text` is not UTF-8, holds a NUL, or contains a prohibited or
// (when not allowed) unassigned code point, or breaks the bidi rules (RFC 4013 §2.3-2.5).
Result<std::string> saslprep(std::string_view text, bool allow_unassigned = false);

// True when `text` is well-formed UTF-8 (RFC 3629 §4: no overlong forms, no surrogates, nothing
// above U+10FFFF). NUL is well-formed here; callers that forbid it check it themselves.
bool is_valid_utf8(std::string_view text);

}  // namespace poplar::sasl
