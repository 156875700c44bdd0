#include "pop3/utf8_header_check.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "sasl/saslprep.h"

namespace poplar::pop3 {
namespace {

// Replays `head` and then continues with the wrapped reader.
class ReplayReader final : public store::MessageReader {
 public:
  ReplayReader(std::string head, store::MessageReaderPtr rest)
      : head_(std::move(head)), rest_(std::move(rest)) {}

  Result<size_t> read(std::span<char> out) override {
    if (offset_ < head_.size()) {
      size_t n = std::min(out.size(), head_.size() - offset_);
      std::memcpy(out.data(), head_.data() + offset_, n);
      offset_ += n;
      if (offset_ == head_.size()) {
        std::string().swap(head_);  // the header copy is not kept while the body streams
        offset_ = 0;
      }
      return n;
    }
    return rest_->read(out);
  }

 private:
  std::string head_;
  size_t offset_ = 0;
  store::MessageReaderPtr rest_;
};

// Where the header section ends in `text` (just after the empty line), or npos. Line ends may
// be LF or CRLF.
size_t header_end(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    // An empty line at `pos`?
    if (text[pos] == '\n') {
      return pos + 1;
    }
    if (text[pos] == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') {
      return pos + 2;
    }
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      return std::string_view::npos;
    }
    pos = nl + 1;
  }
  return std::string_view::npos;
}

}  // namespace

bool header_needs_utf8(std::string_view header) {
  bool non_ascii = std::any_of(header.begin(), header.end(),
                               [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  return non_ascii && sasl::is_valid_utf8(header);
}

Result<PrefetchedMessage> prefetch_header(store::MessageReaderPtr reader) {
  std::string head;
  size_t end = std::string_view::npos;
  constexpr size_t kBlock = 8 * 1024;
  while (head.size() < kMaxHeaderScanOctets) {
    size_t old = head.size();
    head.resize(old + std::min(kBlock, kMaxHeaderScanOctets - old));
    Result<size_t> got = reader->read(std::span<char>(head.data() + old, head.size() - old));
    if (!got.is_ok()) {
      return got.status();
    }
    head.resize(old + *got);
    end = header_end(head);
    if (*got == 0 || end != std::string_view::npos) {
      break;
    }
  }
  std::string_view scanned = head;
  if (end != std::string_view::npos) {
    scanned = scanned.substr(0, end);
  } else if (head.size() >= kMaxHeaderScanOctets) {
    // Cut at the last complete line so a multi-byte character split by the bound does not
    // look invalid.
    size_t nl = scanned.rfind('\n');
    scanned = scanned.substr(0, nl == std::string_view::npos ? 0 : nl + 1);
  }
  PrefetchedMessage result;
  result.needs_utf8 = header_needs_utf8(scanned);
  result.reader = std::make_unique<ReplayReader>(std::move(head), std::move(reader));
  return result;
}

}  // namespace poplar::pop3
