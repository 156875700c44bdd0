// Unit tests for reply_producer.h's MessageProducer: the bytes of RETR/TOP whatever the read
// sizes, and when it reads the end of a message: a RETR whose announced size is complete after
// a short read stops there (no read that only returns 0); without that size, or when the size
// is wrong, it reads until read() returns 0 as before. Tests only; no I/O.
#include "pop3/reply_producer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "pop3/server_session.h"
#include "testing/fake_maildrop.h"

namespace poplar::pop3 {
namespace {

struct ReadCounts {
  int reads = 0;
  int reads_at_end = 0;  // calls made after the whole message was returned
};

// Returns at most `chunk` octets per call (fewer than asked is a short read) and counts calls.
class CountingReader final : public store::MessageReader {
 public:
  CountingReader(std::string content, size_t chunk, ReadCounts* counts)
      : content_(std::move(content)), chunk_(chunk), counts_(counts) {}

  Result<size_t> read(std::span<char> out) override {
    ++counts_->reads;
    if (pos_ == content_.size()) {
      ++counts_->reads_at_end;
    }
    size_t n = std::min({out.size(), chunk_, content_.size() - pos_});
    std::memcpy(out.data(), content_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string content_;
  size_t chunk_;
  ReadCounts* counts_;
  size_t pos_ = 0;
};

struct Outcome {
  std::string wire;  // everything produced, terminator included
  uint64_t payload_octets = 0;
  ReadCounts counts;
};

// Drives a producer like ServerSession does: produce up to the high watermark, drain, repeat.
Outcome produce_all(const std::string& content, size_t chunk, std::optional<uint64_t> expected,
                    DotStufferOptions options = {}) {
  Outcome outcome;
  MessageProducer producer(std::make_unique<CountingReader>(content, chunk, &outcome.counts),
                           options, expected);
  for (int calls = 0; calls < 100000; ++calls) {
    std::string out;
    Result<bool> done = producer.produce(out, ServerSession::kHighWatermarkOctets);
    EXPECT_TRUE(done.is_ok());
    outcome.wire += out;
    if (!done.is_ok() || *done) {
      break;
    }
  }
  outcome.payload_octets = producer.payload_octets();
  return outcome;
}

// The reply as the DotStuffer makes it from the whole message at once.
std::string reference(std::string_view content, DotStufferOptions options = {}) {
  DotStuffer stuffer(options);
  std::string out;
  stuffer.feed(content, out);
  stuffer.finish(out);
  return out;
}

constexpr size_t kOneRead = size_t{1} << 20;  // a reader that hands over everything at once

std::string long_lf_message(size_t n) {
  std::string m = "Subject: long\n\n";
  while (m.size() < n) {
    m += (m.size() % 5 == 0) ? ".dot line\n" : "The quick brown fox jumps over the lazy dog.\n";
  }
  return m;
}

TEST(MessageProducerTest, CompleteRetrStopsAtTheShortReadWithoutReadingTheEnd) {
  const std::string message = "From: a@example.org\r\nSubject: b\r\n\r\nbody\r\n";
  Outcome o = produce_all(message, kOneRead, testing::stored_wire_size(message));
  EXPECT_EQ(o.wire, reference(message));
  EXPECT_EQ(o.counts.reads, 1);
  EXPECT_EQ(o.counts.reads_at_end, 0);
  EXPECT_EQ(o.payload_octets, testing::stored_wire_size(message));
}

TEST(MessageProducerTest, WithoutAnExpectedSizeTheEndIsReadAsBefore) {
  const std::string message = "Subject: b\n\nbody\n";
  Outcome o = produce_all(message, kOneRead, std::nullopt);
  EXPECT_EQ(o.wire, reference(message));
  EXPECT_EQ(o.counts.reads, 2);
  EXPECT_EQ(o.counts.reads_at_end, 1);
}

TEST(MessageProducerTest, AWrongExpectedSizeReadsToTheEndAndSendsTheRealBytes) {
  const std::string message = "Subject: b\n\nbody\nlast line without end";
  const uint64_t real = testing::stored_wire_size(message);
  for (uint64_t wrong : {uint64_t{0}, real - 2, real - 1, real + 1, real + 2, real * 2}) {
    Outcome o = produce_all(message, kOneRead, wrong);
    EXPECT_EQ(o.wire, reference(message)) << wrong;
    EXPECT_EQ(o.counts.reads_at_end, 1) << wrong;
    // What the session compares with the LIST size to log "size-mismatch".
    EXPECT_EQ(o.payload_octets, real) << wrong;
  }
}

TEST(MessageProducerTest, LfMessageWithoutFinalNewlineStopsAtTheShortRead) {
  const std::string message = "Subject: x\n\nno newline at end";
  Outcome o = produce_all(message, kOneRead, testing::stored_wire_size(message));
  EXPECT_EQ(o.wire, "Subject: x\r\n\r\nno newline at end\r\n.\r\n");
  EXPECT_EQ(o.counts.reads, 1);
  EXPECT_EQ(o.counts.reads_at_end, 0);
}

TEST(MessageProducerTest, EmptyMessageCostsTheOneReadThatFindsItEmpty) {
  Outcome o = produce_all("", kOneRead, uint64_t{0});
  EXPECT_EQ(o.wire, ".\r\n");
  EXPECT_EQ(o.counts.reads, 1);
  EXPECT_EQ(o.payload_octets, 0u);
}

TEST(MessageProducerTest, LongMessageOverManyProduceCallsSkipsOnlyTheEndRead) {
  const std::string message = long_lf_message(300 * 1024);
  Outcome o = produce_all(message, kOneRead, testing::stored_wire_size(message));
  EXPECT_EQ(o.wire, reference(message));
  EXPECT_EQ(o.counts.reads_at_end, 0);
  Outcome before = produce_all(message, kOneRead, std::nullopt);
  EXPECT_EQ(before.wire, o.wire);
  EXPECT_EQ(o.counts.reads, before.counts.reads - 1);
}

// Short reads in the middle (a reader handing out small pieces) do not end the message early:
// whatever the piece size, the bytes are those of the whole message. (A piece may stop just
// before the final line end; the reply is then the same bytes, as finish() adds that CRLF.)
TEST(MessageProducerTest, EveryReadSizeGivesTheSameBytesAndNoReadAtTheEnd) {
  const std::vector<std::string> messages = {
      "Subject: x\r\n\r\nbody\r\n",
      "Subject: x\n\n.\n.leading\n..two\nend",
      "a\rb\r\nc\r\r\nd\n\r",
      "ends with a bare CR\r",
      "x\r\n.\r\n.\r\n",
      "\n\n\n",
  };
  for (const std::string& message : messages) {
    for (size_t chunk = 1; chunk <= message.size() + 1; ++chunk) {
      Outcome o = produce_all(message, chunk, testing::stored_wire_size(message));
      EXPECT_EQ(o.wire, reference(message)) << message << " chunk " << chunk;
      EXPECT_EQ(o.counts.reads_at_end, 0) << message << " chunk " << chunk;
      EXPECT_EQ(o.payload_octets, testing::stored_wire_size(message));
    }
  }
}

TEST(MessageProducerTest, TopWithoutAnExpectedSizeIsUnchanged) {
  const std::string message = "Subject: x\n\none\ntwo\n";
  DotStufferOptions top;
  top.top_body_lines = 10;  // more than the message has: it is read to its end
  Outcome o = produce_all(message, kOneRead, std::nullopt, top);
  EXPECT_EQ(o.wire, reference(message, top));
  EXPECT_EQ(o.counts.reads_at_end, 1);
  top.top_body_lines = 1;
  o = produce_all(message, kOneRead, std::nullopt, top);
  EXPECT_EQ(o.wire, "Subject: x\r\n\r\none\r\n.\r\n");
}

}  // namespace
}  // namespace poplar::pop3
