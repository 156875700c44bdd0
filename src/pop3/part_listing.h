// The POP4 `PART msg` listing (POP4.md "Part commands", docs/pop4.md): one line per MIME part,
// `section type/subtype octets ["name"]`, from the structure mime/ found, and the producer that
// writes those lines after the "+OK" a piece at a time.
//
// The values come from a stored message, so they are untrusted here: a line never holds a
// control byte, never exceeds a status line's 512 octets (RFC 2449 §4, like every line the
// server generates), a media type that is not token/token within RFC 6838's lengths is shown
// as application/octet-stream, and a name is ASCII unless the session issued UTF8 (RFC 6856 §2;
// otherwise non-ASCII names go out as RFC 2047 encoded-words, which every mail client decodes).
//
// No I/O. Thread-safety: the functions are pure; a producer is owned by one session.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "mime/mime_structure.h"
#include "pop3/reply_producer.h"

namespace poplar::pop3 {

// A message's parts, shared between the session's one-message cache and a listing in progress
// (commands wait while a reply streams, but sharing makes the lifetime obvious).
using PartList = std::shared_ptr<const std::vector<mime::PartInfo>>;

// The listing line for one part, without CRLF. `utf8`: the session issued UTF8 (RFC 6856).
std::string part_listing_line(const mime::PartInfo& part, bool utf8);

// The lines of every part, then ".".
class PartListProducer final : public ReplyProducer {
 public:
  PartListProducer(PartList parts, bool utf8);
  Result<bool> produce(std::string& out, size_t target_octets) override;

 private:
  PartList parts_;
  bool utf8_;
  size_t next_ = 0;
};

}  // namespace poplar::pop3
