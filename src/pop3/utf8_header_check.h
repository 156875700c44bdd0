// RFC 6856 §2.1: a session that has not issued UTF8 must not be sent non-ASCII strings as they
// are; a message whose header section is internationalized (RFC 6532: raw UTF-8 in headers)
// needs UTF-8 mode, and the server may refuse RETR/TOP with "-ERR [UTF8]" (§5). Poplar does
// that when [pop3] utf8_headers = "refuse".
//
// The check reads the message's header section ahead (bounded), decides, and hands back a
// reader that replays what it read before the rest, so the stored file is opened and read
// once. Only valid UTF-8 with at least one non-ASCII character counts as "needs UTF-8":
// headers in a legacy 8-bit charset (invalid UTF-8) cannot be helped by UTF-8 mode either and
// have always been sent as they are.
//
// Thread-safety: the returned reader is used by one thread at a time, like any MessageReader.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "store/message_reader.h"

namespace poplar::pop3 {

// The header section scanned is at most this long; a longer one is judged on its first part
// (no real header is that long, and the check must not cost a whole read of a hostile message).
inline constexpr size_t kMaxHeaderScanOctets = 64 * 1024;

// True when `header` holds at least one non-ASCII octet and all of it is valid UTF-8.
bool header_needs_utf8(std::string_view header);

struct PrefetchedMessage {
  store::MessageReaderPtr reader;  // replays the prefetched octets, then the rest
  bool needs_utf8 = false;
};

// Reads the header section of `reader` (up to the first empty line, at most
// kMaxHeaderScanOctets) and judges it.
// Errors: whatever reader->read returns.
Result<PrefetchedMessage> prefetch_header(store::MessageReaderPtr reader);

}  // namespace poplar::pop3
