// Maildir file names: the pieces Poplar reads out of a name such as
//   1700000000.M123456P4242Q7.mail.example.org,S=1234,W=1262:2,RS
// The base name is everything before the first ':' (the "info" that follows, ":2,<flags>",
// changes when a client sets flags; the base name never changes, not even when the file moves
// from new/ to cur/). The leading digits are the delivery time in seconds, and ",W=<n>" in the
// base name is Dovecot's virtual size: exactly the CRLF size defined in store/crlf_size.h.
//
// Must never: touch the file system, allocate, or trust a name (names come from a directory
// anybody with write access to the Maildir can fill).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace poplar::store::maildir {

// The part of a file name before the first ':' (the whole name when there is none).
std::string_view base_name(std::string_view file_name);

// The value of a ",W=<digits>" field in the base name, if there is a well-formed one.
std::optional<uint64_t> wire_size_field(std::string_view base);

// The delivery time: the leading decimal digits of the name (0 when there are none or they
// overflow). Only used to order messages oldest first.
uint64_t delivery_time(std::string_view base);

// True for names that are not messages: dot-files (".", "..", ".hidden", editors' temp files).
bool is_ignored_name(std::string_view file_name);

}  // namespace poplar::store::maildir
