// The MIME structure of a stored message for POP4 PART (docs/formats/mime-parts.md): its parts
// depth first, each with its IMAP section number (RFC 3501 §6.4.5), media type, name, and where
// its MIME header lines and its body lie in the message as stored, so that `PART msg section
// [MIME]` can stream them from the store without loading the message.
//
// What is listed: every leaf part, and every message/rfc822 (or message/global) part followed by
// the parts of the message it encloses (numbered beneath it as IMAP does: 3, 3.1, 3.2).
// Multipart containers are not listed; their children are. A single-part message has the one
// section "1". What cannot be parsed is one text/plain part (POP4.md): a message whose first
// line is not a header field, a multipart without a usable boundary or without any part.
//
// Offsets and lengths are in the message as the store reader gives it (LF or CRLF line ends,
// no dot-stuffing). Each extent also has its wire size: the octets a client receives for it,
// every line end as CRLF and a CRLF added when it does not end with one (the rule of
// store/crlf_size.h), dot-stuffing not counted. PART's `octets` is that wire size.
// mime/extent_reader.h streams one extent through the message's sequential reader.
//
// The boundary scan is Poplar's own (RFC 2046 §5.1.1, with GMime's leniencies); the field values
// are read with GMime 3 (content_fields.h). GMime's parser is not used for the structure: it
// keeps multipart preambles and epilogues in memory, builds every part (about 1.2 KB each)
// before a caller could count them, and records neither where a part's header block starts
// nor where a message/rfc822 part ends.
//
// Must never: hold more than a few KB per nesting level whatever the message size (no body is
// ever stored), crash or loop on any input, or list more parts or deeper nesting than Limits.
//
// Thread-safety: a StructureScanner is used by one thread at a time; distinct scanners and the
// free functions may run on any threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace poplar::mime {

// A range of the stored message.
struct Extent {
  uint64_t offset = 0;       // its first octet, in the message as stored
  uint64_t length = 0;       // octets as stored
  uint64_t wire_octets = 0;  // octets a client receives for it (see above); 0 when empty

  bool operator==(const Extent&) const = default;
};

struct PartInfo {
  std::string section;  // "1", "2.1", "3.1.2": IMAP BODY[section] numbering
  std::string type;     // "text/plain": lower case, always "token/token"
  // The part's header lines with the empty line that ends them (IMAP BODY[section.MIME]). For
  // section "1" of a single-part message, and for the body of an enclosed single-part message,
  // it is that message's header. Empty when the part has no header block.
  Extent header;
  // The part's body as stored, still in its Content-Transfer-Encoding (IMAP BODY[section]).
  // The line end before a boundary delimiter belongs to the delimiter (RFC 2046 §5.1.1).
  Extent body;
  // Content-Disposition filename, else Content-Type name, decoded to UTF-8 (RFC 2231, RFC
  // 2047); no control characters, at most 255 octets. Empty when there is none.
  std::string name;

  bool operator==(const PartInfo&) const = default;
};

struct Limits {
  // MIME entities of any kind (leaf, message/rfc822, multipart) in one message. Real mail has
  // tens; a message built to exhaust a server has thousands.
  size_t max_parts = 1000;
  // Containers (multipart, message/rfc822) around the deepest part. IMAP clients and GMime
  // (1024) give up long before recursion could hurt; real mail nests fewer than 10.
  size_t max_depth = 50;
  // Kept Content-* header field values, unfolded. RFC 2231 continuations of a long file name
  // take a few hundred octets.
  size_t max_field_octets = 16 * 1024;
};

// The sans-I/O scanner: feed the stored message in chunks of any size, then finish().
class StructureScanner {
 public:
  explicit StructureScanner(const Limits& limits = {});
  ~StructureScanner();
  StructureScanner(const StructureScanner&) = delete;
  StructureScanner& operator=(const StructureScanner&) = delete;

  // Errors: kLimit (too many parts, nesting too deep, a Content-* field too long). After an
  // error, every later call returns it again.
  Status feed(std::string_view chunk);
  // The parts, depth first; never empty. Errors: those of feed().
  Result<std::vector<PartInfo>> finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Fills up to out.size() octets of the message, in order; 0 at its end (store::MessageReader's
// read() has this shape).
using ReadFunction = std::function<Result<size_t>(std::span<char>)>;

// Reads the whole message through `read` in 64 KB blocks. Errors: those of `read` and of
// StructureScanner.
Result<std::vector<PartInfo>> parse_structure(const ReadFunction& read, const Limits& limits = {});
// For a message held in memory (tests, fuzzing).
Result<std::vector<PartInfo>> parse_structure(std::string_view message, const Limits& limits = {});

}  // namespace poplar::mime
