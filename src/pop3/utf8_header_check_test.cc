#include "pop3/utf8_header_check.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace poplar::pop3 {
namespace {

// Hands out `text` in reads of at most `chunk` octets.
class StringReader final : public store::MessageReader {
 public:
  StringReader(std::string text, size_t chunk) : text_(std::move(text)), chunk_(chunk) {}
  Result<size_t> read(std::span<char> out) override {
    size_t n = std::min({out.size(), chunk_, text_.size() - pos_});
    std::memcpy(out.data(), text_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string text_;
  size_t chunk_;
  size_t pos_ = 0;
};

class FailingReader final : public store::MessageReader {
 public:
  Result<size_t> read(std::span<char>) override { return Status::temporary("EIO"); }
};

std::string drain(store::MessageReader& reader) {
  std::string out;
  char buf[5];
  for (;;) {
    Result<size_t> got = reader.read(buf);
    EXPECT_TRUE(got.is_ok());
    if (!got.is_ok() || *got == 0) {
      return out;
    }
    out.append(buf, *got);
  }
}

PrefetchedMessage prefetch(const std::string& text, size_t chunk = 3) {
  Result<PrefetchedMessage> r = prefetch_header(std::make_unique<StringReader>(text, chunk));
  EXPECT_TRUE(r.is_ok());
  return std::move(*r);
}

TEST(HeaderNeedsUtf8Test, AsciiUtf8AndLegacyEightBit) {
  EXPECT_FALSE(header_needs_utf8("Subject: hello\r\n"));
  EXPECT_TRUE(
      header_needs_utf8("Subject: Gr\xc3\xbc\xc3\x9f"
                        "e\r\n"));
  EXPECT_FALSE(header_needs_utf8("Subject: Caf\xe9\r\n"));  // Latin-1: UTF8 mode cannot help
  EXPECT_FALSE(header_needs_utf8(""));
}

TEST(PrefetchHeaderTest, JudgesOnlyTheHeaderAndReplaysEveryOctet) {
  const std::string body_utf8 = "Subject: x\r\n\r\nK\xc3\xa4se\r\n";
  PrefetchedMessage m = prefetch(body_utf8);
  EXPECT_FALSE(m.needs_utf8);
  EXPECT_EQ(drain(*m.reader), body_utf8);

  const std::string header_utf8 = "From: a\nSubject: \xc3\xa4\n\nbody\n";
  m = prefetch(header_utf8);
  EXPECT_TRUE(m.needs_utf8);
  EXPECT_EQ(drain(*m.reader), header_utf8);
}

TEST(PrefetchHeaderTest, MessagesWithoutBodyOrEmpty) {
  PrefetchedMessage m = prefetch("Subject: \xc3\xa4");
  EXPECT_TRUE(m.needs_utf8);
  EXPECT_EQ(drain(*m.reader), "Subject: \xc3\xa4");
  m = prefetch("");
  EXPECT_FALSE(m.needs_utf8);
  EXPECT_EQ(drain(*m.reader), "");
}

TEST(PrefetchHeaderTest, ScanIsBoundedAndTheRestStillStreams) {
  // A header longer than the scan bound, its only UTF-8 beyond the bound: judged on the first
  // part (ASCII), and the whole message still comes out.
  std::string big;
  while (big.size() < kMaxHeaderScanOctets + 1000) {
    big += "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  }
  big += "Subject: \xc3\xa4\r\n\r\nbody\r\n";
  PrefetchedMessage m = prefetch(big, 4096);
  EXPECT_FALSE(m.needs_utf8);
  EXPECT_EQ(drain(*m.reader), big);
}

TEST(PrefetchHeaderTest, CharacterSplitAtTheBoundIsNotInvalid) {
  std::string head = "Subject: \xc3\xa4\r\n";
  while (head.size() < kMaxHeaderScanOctets - 1) {
    head += "a";
  }
  head.resize(kMaxHeaderScanOctets - 1);
  head += "\xc3\xa4\r\n\r\nbody";  // the bound falls inside this character
  PrefetchedMessage m = prefetch(head, 8192);
  EXPECT_TRUE(m.needs_utf8);
  EXPECT_EQ(drain(*m.reader), head);
}

TEST(PrefetchHeaderTest, ReadErrorsAreReturned) {
  Result<PrefetchedMessage> r = prefetch_header(std::make_unique<FailingReader>());
  EXPECT_FALSE(r.is_ok());
}

}  // namespace
}  // namespace poplar::pop3
