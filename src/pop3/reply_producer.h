// Long replies produced a piece at a time (Dovecot's fetch continuation + throttle, Envoy's
// watermarks): LIST and UIDL walk the snapshot, RETR and TOP pull a MessageReader through the
// DotStuffer. ServerSession calls produce() whenever its output falls below the low watermark,
// so a reply never needs more memory than about one watermark, whatever the message size.
// Internal to pop3/.
//
// No I/O of its own (MessageReader::read is the store's). Thread-safety: not thread-safe; owned
// by one session.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "pop3/dot_stuffer.h"
#include "store/maildrop.h"
#include "store/message_reader.h"

namespace poplar::pop3 {

class ReplyProducer {
 public:
  virtual ~ReplyProducer() = default;
  // Appends more of the reply to `out` until out.size() >= target_octets or the reply is
  // complete (terminator included). Returns true when complete.
  // Errors: whatever MessageReader::read returns (the reply cannot be finished).
  virtual Result<bool> produce(std::string& out, size_t target_octets) = 0;
};

using ReplyProducerPtr = std::unique_ptr<ReplyProducer>;

// Multi-line LIST or UIDL (RFC 1939 §5, §7): "n size" / "n uid" per message not marked deleted,
// then ".". The maildrop and the flags must outlive the producer (the session owns both).
class ScanListProducer final : public ReplyProducer {
 public:
  enum class Kind { kSizes, kUidls };
  ScanListProducer(Kind kind, const std::vector<store::MessageInfo>& messages,
                   const std::vector<bool>& deleted);
  Result<bool> produce(std::string& out, size_t target_octets) override;

 private:
  Kind kind_;
  const std::vector<store::MessageInfo>& messages_;
  const std::vector<bool>& deleted_;
  size_t next_ = 0;
};

// RETR or TOP: the stored message through the DotStuffer, then ".".
class MessageProducer final : public ReplyProducer {
 public:
  // Read size per MessageReader::read call: large blocks, few calls (DESIGN §7).
  static constexpr size_t kReadBlockOctets = 64 * 1024;
  // Smallest read worth a call when the output is nearly at its target.
  static constexpr size_t kMinReadOctets = 4 * 1024;

  // `expected_payload_octets`: the size LIST announced, for RETR of a message whose wire form
  // must have exactly that size (not TOP, not with oe-ns-eoh). A read that returns less than
  // asked and completes that size is then taken as the end of the message, saving the read
  // that would only return 0. Without it (or when the sizes disagree) the message is read
  // until read() returns 0.
  MessageProducer(store::MessageReaderPtr reader, DotStufferOptions options,
                  std::optional<uint64_t> expected_payload_octets = std::nullopt);
  Result<bool> produce(std::string& out, size_t target_octets) override;

  // Octets the client keeps after un-stuffing; compared with the LIST size after RETR.
  uint64_t payload_octets() const { return stuffer_.payload_octets(); }

 private:
  store::MessageReaderPtr reader_;
  DotStuffer stuffer_;
  std::optional<uint64_t> expected_payload_octets_;
};

}  // namespace poplar::pop3
