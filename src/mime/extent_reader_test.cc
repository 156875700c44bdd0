// Tests of ExtentReader: every part's body and header streamed through a reader that hands out
// a few octets at a time equal the slices of the message; a message shorter than the extent is
// kCorrupt; reader errors are passed on. Single-threaded.
#include "mime/extent_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace poplar::mime {
namespace {

// A sequential reader over `message` that never returns more than `step` octets at once.
ReadFunction reader(const std::string& message, size_t step) {
  auto pos = std::make_shared<size_t>(0);
  return [&message, step, pos](std::span<char> out) -> Result<size_t> {
    size_t n = std::min({out.size(), step, message.size() - *pos});
    std::copy_n(message.data() + *pos, n, out.data());
    *pos += n;
    return n;
  };
}

std::string read_all(ExtentReader& r, size_t buffer) {
  std::string out;
  std::vector<char> block(buffer);
  for (;;) {
    Result<size_t> n = r.read(block);
    EXPECT_TRUE(n.is_ok()) << n.status().to_string();
    if (!n.is_ok() || *n == 0) {
      return out;
    }
    out.append(block.data(), *n);
  }
}

const std::string kMessage =
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
    "--b\r\nContent-Type: application/pdf; name=x.pdf\r\n\r\nJVBERi0=\r\nJVBERi0=\r\n--b--\r\n";

TEST(ExtentReaderTest, StreamsEveryExtentExactly) {
  Result<std::vector<PartInfo>> parts = parse_structure(kMessage);
  ASSERT_TRUE(parts.is_ok());
  for (const PartInfo& p : *parts) {
    for (size_t step : {1, 3, 1000}) {
      for (size_t buffer : {1, 7, 4096}) {
        ExtentReader body(reader(kMessage, step), p.body);
        EXPECT_EQ(read_all(body, buffer), kMessage.substr(p.body.offset, p.body.length));
        ExtentReader header(reader(kMessage, step), p.header);
        EXPECT_EQ(read_all(header, buffer), kMessage.substr(p.header.offset, p.header.length));
      }
    }
  }
}

TEST(ExtentReaderTest, AnEmptyExtentReadsNothing) {
  ExtentReader r(reader(kMessage, 5), Extent{10, 0, 0});
  char c;
  Result<size_t> n = r.read(std::span<char>(&c, 1));
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 0u);
}

TEST(ExtentReaderTest, MessageShorterThanTheExtentIsCorrupt) {
  const std::string shorter = kMessage.substr(0, 60);
  std::vector<char> block(16);
  ExtentReader before(reader(shorter, 5), Extent{100, 10, 12});
  EXPECT_EQ(before.read(block).status().code(), ErrorCode::kCorrupt);
  ExtentReader inside(reader(shorter, 5), Extent{50, 20, 22});
  Status last;
  for (int i = 0; i < 10 && last.is_ok(); ++i) {
    Result<size_t> n = inside.read(block);
    last = n.is_ok() ? Status::ok() : n.status();
  }
  EXPECT_EQ(last.code(), ErrorCode::kCorrupt);
}

TEST(ExtentReaderTest, ReaderErrorsArePassedOn) {
  ExtentReader r([](std::span<char>) -> Result<size_t> { return Status::temporary("EIO"); },
                 Extent{0, 10, 10});
  std::vector<char> block(16);
  EXPECT_EQ(r.read(block).status().code(), ErrorCode::kTemporary);
}

}  // namespace
}  // namespace poplar::mime
