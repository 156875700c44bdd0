// Unit tests for dot_stuffer.h: wire form, size rule, TOP, workarounds, any chunking.
// Tests only; no I/O.
#include "pop3/dot_stuffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/fake_maildrop.h"
#include "testing/trickle.h"

namespace poplar::pop3 {
namespace {

std::string stuff_pieces(const std::vector<std::string_view>& pieces, DotStufferOptions options,
                         uint64_t* payload = nullptr) {
  DotStuffer stuffer(options);
  std::string out;
  for (auto piece : pieces) {
    stuffer.feed(piece, out);
  }
  stuffer.finish(out);
  if (payload != nullptr) {
    *payload = stuffer.payload_octets();
  }
  return out;
}

std::string stuff(std::string_view stored, DotStufferOptions options = {}) {
  return stuff_pieces({stored}, options);
}

// What a client keeps (RFC 1939 §3): lines split on CRLF, one leading "." removed, up to the
// "." line. Returns "<BAD>" if the terminator is missing or data follows it.
std::string unstuff(std::string_view wire) {
  std::string out;
  for (;;) {
    size_t end = wire.find("\r\n");
    if (end == std::string_view::npos) {
      return "<BAD>";
    }
    std::string_view line = wire.substr(0, end);
    wire.remove_prefix(end + 2);
    if (line == ".") {
      return wire.empty() ? out : "<BAD>";
    }
    if (!line.empty() && line[0] == '.') {
      line.remove_prefix(1);
    }
    out.append(line);
    out.append("\r\n");
  }
}

// Every way of feeding must give the same bytes: whole, byte by byte, split at every offset.
void expect_same_when_trickled(std::string_view stored, DotStufferOptions options = {}) {
  const std::string whole = stuff(stored, options);
  std::vector<std::string_view> bytes;
  testing::feed_bytewise(stored, [&](std::string_view b) { bytes.push_back(b); });
  EXPECT_EQ(stuff_pieces(bytes, options), whole) << "bytewise: " << stored;
  for (const auto& split : testing::all_two_way_splits(stored)) {
    EXPECT_EQ(stuff_pieces(split, options), whole) << "split: " << stored;
  }
}

const std::vector<std::string> kSamples = {
    "",
    "\n",
    "\r\n",
    "\r",
    ".",
    ".\n",
    "..\r\n",
    "Subject: x\r\n\r\nbody\r\n",
    "Subject: x\n\nbody\n",
    "Subject: x\n\n.\n.leading\n..two\nend",
    "a\rb\r\nc\r\r\nd\n\r",
    "no newline at all",
    "Header: 1\nHeader: 2\n",
    "\n\n\n.\n\r\n.\r\n",
    "x\r\n.\r\n.\r\n",
};

TEST(DotStufferTest, CrlfMessagePassesThroughWithTerminator) {
  EXPECT_EQ(stuff("Subject: x\r\n\r\nbody\r\n"), "Subject: x\r\n\r\nbody\r\n.\r\n");
}

TEST(DotStufferTest, BareLfBecomesCrlf) { EXPECT_EQ(stuff("a\nb\n"), "a\r\nb\r\n.\r\n"); }

TEST(DotStufferTest, LineStartingWithDotGetsAnotherDot) {
  EXPECT_EQ(stuff(".a\n..b\r\n.\nc.d\n"), "..a\r\n...b\r\n..\r\nc.d\r\n.\r\n");
}

TEST(DotStufferTest, BareCrIsNotALineEnd) {
  EXPECT_EQ(stuff("a\r.b\n"), "a\r.b\r\n.\r\n");
  EXPECT_EQ(stuff("a\r\r\n"), "a\r\r\n.\r\n");
}

TEST(DotStufferTest, MissingFinalLineEndIsAdded) {
  EXPECT_EQ(stuff("abc"), "abc\r\n.\r\n");
  EXPECT_EQ(stuff("abc\r"), "abc\r\r\n.\r\n");
}

TEST(DotStufferTest, EmptyMessageIsJustTheTerminator) { EXPECT_EQ(stuff(""), ".\r\n"); }

TEST(DotStufferTest, SameOutputWhateverTheChunking) {
  for (const auto& sample : kSamples) {
    expect_same_when_trickled(sample);
    DotStufferOptions top;
    top.top_body_lines = 1;
    expect_same_when_trickled(sample, top);
  }
}

TEST(DotStufferTest, UnstuffedLengthFollowsTheStoreSizeRule) {
  for (const auto& sample : kSamples) {
    uint64_t payload = 0;
    std::string wire = stuff_pieces({sample}, {}, &payload);
    EXPECT_EQ(unstuff(wire).size(), testing::stored_wire_size(sample)) << sample;
    EXPECT_EQ(payload, testing::stored_wire_size(sample)) << sample;
  }
}

// MessageProducer compares payload_octets_if_finished() with the LIST size after a short
// read: at every point of every message it must be what finish() would make payload_octets().
TEST(DotStufferTest, PayloadIfFinishedIsWhatFinishWouldMakeItAtEveryOffset) {
  for (const auto& sample : kSamples) {
    for (bool separator : {false, true}) {
      DotStufferOptions options;
      options.add_missing_separator = separator;
      for (size_t k = 0; k <= sample.size(); ++k) {
        DotStuffer stuffer(options);
        std::string out;
        stuffer.feed(std::string_view(sample).substr(0, k), out);
        const uint64_t predicted = stuffer.payload_octets_if_finished();
        stuffer.finish(out);
        EXPECT_EQ(predicted, stuffer.payload_octets()) << sample << " at " << k;
      }
    }
    DotStuffer whole;
    std::string out;
    whole.feed(sample, out);
    EXPECT_EQ(whole.payload_octets_if_finished(), testing::stored_wire_size(sample)) << sample;
  }
}

TEST(DotStufferTest, SizeRuleHoldsForEachKindOfLine) {
  EXPECT_EQ(testing::stored_wire_size(""), 0u);
  EXPECT_EQ(testing::stored_wire_size("a\n"), 3u);
  EXPECT_EQ(testing::stored_wire_size("a\r\n"), 3u);
  EXPECT_EQ(testing::stored_wire_size("a\rb"), 5u);
  EXPECT_EQ(testing::stored_wire_size(".\n"), 3u);
  EXPECT_EQ(unstuff(stuff(".\n")), ".\r\n");
}

TEST(DotStufferTest, TopZeroSendsHeaderAndBlankLine) {
  DotStufferOptions top;
  top.top_body_lines = 0;
  EXPECT_EQ(stuff("A: 1\nB: 2\n\nbody 1\nbody 2\n", top), "A: 1\r\nB: 2\r\n\r\n.\r\n");
}

TEST(DotStufferTest, TopNSendsNBodyLines) {
  DotStufferOptions top;
  top.top_body_lines = 2;
  EXPECT_EQ(stuff("A: 1\r\n\r\n.one\r\ntwo\r\nthree\r\n", top),
            "A: 1\r\n\r\n..one\r\ntwo\r\n.\r\n");
}

TEST(DotStufferTest, TopBeyondTheEndSendsTheWholeMessage) {
  DotStufferOptions top;
  top.top_body_lines = 100;
  EXPECT_EQ(stuff("A: 1\n\nb1\nlast", top), stuff("A: 1\n\nb1\nlast"));
}

TEST(DotStufferTest, TopStopsReadingOnceDone) {
  DotStufferOptions top;
  top.top_body_lines = 0;
  DotStuffer stuffer(top);
  std::string out;
  stuffer.feed("A: 1\n\n", out);
  EXPECT_FALSE(stuffer.done());  // no body line seen yet: it may still be the end
  stuffer.feed("body\n", out);
  EXPECT_TRUE(stuffer.done());
  stuffer.feed("more\n", out);
  stuffer.finish(out);
  EXPECT_EQ(out, "A: 1\r\n\r\n.\r\n");
}

TEST(DotStufferTest, TopWithoutBlankLineSendsEverything) {
  DotStufferOptions top;
  top.top_body_lines = 0;
  EXPECT_EQ(stuff("A: 1\nB: 2\nC: 3", top), "A: 1\r\nB: 2\r\nC: 3\r\n.\r\n");
}

TEST(DotStufferTest, BlankLineSplitAcrossChunksEndsTheHeader) {
  DotStufferOptions top;
  top.top_body_lines = 0;
  EXPECT_EQ(stuff_pieces({"A: 1\r\n\r", "\nbody\r\n"}, top), "A: 1\r\n\r\n.\r\n");
}

TEST(DotStufferTest, OutlookNoNulsReplacesNul) {
  DotStufferOptions options;
  options.nul_to_0x80 = true;
  EXPECT_EQ(stuff(std::string_view("a\0b\n", 4), options),
            "a\x80"
            "b\r\n.\r\n");
  EXPECT_EQ(stuff(std::string_view("a\0b\n", 4)), std::string("a\0b\r\n.\r\n", 8));
}

TEST(DotStufferTest, OeNsEohAddsSeparatorOnlyWhenMissing) {
  DotStufferOptions options;
  options.add_missing_separator = true;
  EXPECT_EQ(stuff("A: 1\nB: 2", options), "A: 1\r\nB: 2\r\n\r\n.\r\n");
  EXPECT_EQ(stuff("A: 1\n\nbody\n", options), "A: 1\r\n\r\nbody\r\n.\r\n");
}

TEST(DotStufferTest, LongLinesAcrossManyChunks) {
  std::string stored(100000, 'x');
  stored += "\n.";
  stored += std::string(70000, 'y');
  std::string expected(100000, 'x');
  expected += "\r\n..";
  expected += std::string(70000, 'y');
  expected += "\r\n.\r\n";
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < stored.size(); i += 4096) {
    pieces.push_back(std::string_view(stored).substr(i, 4096));
  }
  EXPECT_EQ(stuff_pieces(pieces, {}), expected);
}

}  // namespace
}  // namespace poplar::pop3
