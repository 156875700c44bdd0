// Maildir file names: the pieces Poplar reads out of a name such as
//   1700000000.M123456P4242Q7.mail.example.org,S=1234,W=1262:2,RS
// The base name is everything before the first ':' (the "info" that follows, ":2,<flags>",
// changes when a client sets flags; the base name never changes, not even when the file moves
// from new/ to cur/). The leading digits are the delivery time in seconds (".M<n>" after them
// the microseconds), and ",W=<n>" in the base name is Dovecot's virtual size: exactly the CRLF
// size defined in store/crlf_size.h.
//
// Must never: touch the file system, allocate, or trust a name (names come from a directory
// anybody with write access to the Maildir can fill).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace poplar::store::maildir {

// The two subdirectories of a Maildir that hold messages. New mail arrives in new/; a client
// that has seen it moves it to cur/ (adding ":2,<flags>" to its name).
enum class Subdir : uint8_t { kNew = 0, kCur = 1 };

inline constexpr Subdir kSubdirs[2] = {Subdir::kNew, Subdir::kCur};

// For arrays indexed by subdirectory.
constexpr size_t index_of(Subdir dir) { return static_cast<size_t>(dir); }

// "new" or "cur".
constexpr std::string_view subdir_name(Subdir dir) {
  return dir == Subdir::kNew ? std::string_view("new") : std::string_view("cur");
}

// The part of a file name before the first ':' (the whole name when there is none).
std::string_view base_name(std::string_view file_name);

// The value of a ",W=<digits>" field in the base name, if there is a well-formed one.
std::optional<uint64_t> wire_size_field(std::string_view base);

// The delivery time in microseconds: the leading decimal digits of the name are the seconds
// (0 when there are none; more than 20 or too large for 64 bits make the whole time 0, as for
// a name without one), and a ".M<1-6 digits>" field right after them the microseconds (Maildir
// names from Poplar, Dovecot and most deliverers). Seconds too large for microseconds give
// UINT64_MAX. Only used to order messages oldest first.
uint64_t delivery_time_us(std::string_view base);

// True for names that are not messages: dot-files (".", "..", ".hidden", editors' temp files).
bool is_ignored_name(std::string_view file_name);

}  // namespace poplar::store::maildir
