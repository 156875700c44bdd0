// UIDLs for Maildir messages, derived from the file's base name alone, so they are stable
// forever: across sessions, flag changes, the move from new/ to cur/, and loss of Poplar's index
// file (RFC 1939 §7: 1–70 characters of 0x21–0x7E, unique within the maildrop, persistent).
//
//   - A base name of 1–70 characters, all in 0x21–0x7E, is its own UIDL. Realistic Maildir
//     names (`<time>.M<usec>P<pid>Q<n>.<host>,S=<s>,W=<w>`) are.
//   - Any other base name gets ":" followed by the first 32 hex digits (128 bits) of the
//     SHA-256 of the base name. A base name is the part before the first ':', so it never
//     contains ':' and can never equal such a UIDL.
//   - Two files with the same base name (which a correct Maildir never has, but a careless
//     copy can produce) are both kept: in maildrop order the first gets the UIDL above, the
//     k-th (k >= 2) gets ":" + 32 hex digits + ":" + k, a shape no other rule produces.
// docs/formats/maildir.md documents the same rules.
//
// Must never: depend on anything but the base name and the occurrence number (not on the
// index file, the directory or the flags).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/uidl_syntax.h"

namespace poplar::store::maildir {

// REQUIRES: occurrence >= 1 (1 for the first file with this base name in maildrop order).
std::string uidl_for_base_name(std::string_view base, uint32_t occurrence);

// True when uidl_for_base_name(base, occurrence) is `base` itself (the first rule), so a caller
// can point at the name it already holds instead of keeping a copy. Does not allocate.
bool uidl_is_base_name(std::string_view base, uint32_t occurrence);

}  // namespace poplar::store::maildir
