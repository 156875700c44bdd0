// Streaming LIST/UIDL/RETR/TOP replies; see reply_producer.h.
#include "pop3/reply_producer.h"

#include <algorithm>
#include <charconv>
#include <span>

#include "pop3/response.h"

namespace poplar::pop3 {
namespace {

void append_number(std::string& out, uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

}  // namespace

ScanListProducer::ScanListProducer(Kind kind, const std::vector<store::MessageInfo>& messages,
                                   const std::vector<bool>& deleted)
    : kind_(kind), messages_(messages), deleted_(deleted) {}

Result<bool> ScanListProducer::produce(std::string& out, size_t target_octets) {
  std::string line;
  while (next_ < messages_.size()) {
    if (out.size() >= target_octets) {
      return false;
    }
    size_t index = next_++;
    if (index < deleted_.size() && deleted_[index]) {
      continue;  // RFC 1939 §5: messages marked deleted are not listed
    }
    line.clear();
    append_number(line, static_cast<uint64_t>(index) + 1);
    line.push_back(' ');  // RFC 1939 §5, §7: exactly one SP, nothing after the last field
    if (kind_ == Kind::kSizes) {
      append_number(line, messages_[index].size_octets);
    } else {
      line.append(messages_[index].uidl);
    }
    append_data_line(out, line);
  }
  append_terminator(out);
  return true;
}

MessageProducer::MessageProducer(store::MessageReaderPtr reader, DotStufferOptions options,
                                 std::optional<uint64_t> expected_payload_octets)
    : reader_(std::move(reader)),
      stuffer_(options),
      expected_payload_octets_(expected_payload_octets) {}

Result<bool> MessageProducer::produce(std::string& out, size_t target_octets) {
  // The read block is only used inside this call, so one per thread serves every reply of
  // every session on it: no 64 KiB allocation per RETR.
  thread_local std::unique_ptr<char[]> block = std::make_unique<char[]>(kReadBlockOctets);
  // Stuffing can at most double a block (LF -> CRLF, "." -> ".."): reserve once instead of
  // growing the string step by step while the first blocks arrive.
  out.reserve(target_octets + 2 * kReadBlockOctets);
  while (out.size() < target_octets) {
    if (stuffer_.done()) {  // TOP has what it needs; the rest of the message is not read
      stuffer_.finish(out);
      return true;
    }
    size_t want = std::clamp(target_octets - out.size(), kMinReadOctets, kReadBlockOctets);
    Result<size_t> got = reader_->read(std::span<char>(block.get(), want));
    if (!got.is_ok()) {
      return got.status();
    }
    if (*got > want) {  // a reader that overran its buffer cannot be trusted any further
      return Status::error(ErrorCode::kCorrupt, "message reader returned more than asked");
    }
    if (*got == 0) {
      stuffer_.finish(out);
      return true;
    }
    stuffer_.feed(std::string_view(block.get(), *got), out);
    // A short read means the reader had no more at hand (a file read is short only at its
    // end); if the message now has exactly the announced size, it is complete: finish without
    // the read that would return 0 (one system call per RETR). A message whose bytes disagree
    // with the announced size never matches here and is read to the end as before, so the
    // session still logs the size mismatch.
    if (*got < want && expected_payload_octets_ &&
        stuffer_.payload_octets_if_finished() == *expected_payload_octets_) {
      stuffer_.finish(out);
      return true;
    }
  }
  return false;
}

}  // namespace poplar::pop3
