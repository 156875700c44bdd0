// HeaderBlock: reads one header block (a message's or a MIME part's) line by line and keeps
// only what the structure needs: the unfolded values of Content-Type, Content-Disposition and
// Content-Transfer-Encoding (RFC 2045 §3, RFC 5322 §2.2.3). The first occurrence of a field
// counts; every other field is skipped without being stored.
//
// Must never: hold more than max_field_octets per kept field (a longer one is kLimit), or
// depend on anything but the line's head (LineScanner keeps at most that much of a line).
//
// Thread-safety: a value type; one object is used by one thread at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "mime/content_fields.h"

namespace poplar::mime {

class HeaderBlock {
 public:
  explicit HeaderBlock(size_t max_field_octets) : max_field_octets_(max_field_octets) {}

  // Whether `line` (without its line end) starts a header field: a name of printable ASCII
  // octets, optionally followed by blanks, then ':' (the leniency GMime allows).
  static bool is_field_start(std::string_view line);

  // One line of the block (not the empty line that ends it), without its line end.
  // `complete` is false when `line` is only the head of a longer line.
  // Errors: kLimit when a kept field would exceed max_field_octets.
  Status add_line(std::string_view line, bool complete);

  const RawContentFields& fields() const { return fields_; }

 private:
  size_t max_field_octets_;
  RawContentFields fields_;
  enum class Field { kNone, kType, kDisposition, kTransferEncoding };
  std::optional<std::string>& kept(Field field);

  // The kept field being unfolded (an enum, not a pointer, so the block stays movable).
  Field current_ = Field::kNone;
};

}  // namespace poplar::mime
