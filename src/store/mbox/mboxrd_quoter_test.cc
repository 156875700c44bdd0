// Tests of the streaming mboxrd quoting: which lines get a '>' (^>*From  only), and the same
// output whatever the chunking.
// Must never: depend on anything but the quoter. Single-threaded.
#include "store/mbox/mboxrd_quoter.h"

#include <gtest/gtest.h>

#include <random>

#include "testing/trickle.h"

namespace poplar::store::mbox {
namespace {

std::string quote_whole(std::string_view text) {
  MboxrdQuoter quoter;
  std::string out;
  quoter.quote(text, &out);
  quoter.finish(&out);
  return out;
}

struct Case {
  std::string_view text;
  std::string_view quoted;
};

constexpr Case kCases[] = {
    {"", ""},
    {"From x\n", ">From x\n"},
    {"From: a header\n", "From: a header\n"},  // no space after "From": not a From_ line
    {">From x\n", ">>From x\n"},
    {">>>From \n", ">>>>From \n"},
    {"a\nFrom me\nb\n", "a\n>From me\nb\n"},
    {"From", "From"},  // no space: no quoting, even at the end
    {"From ", ">From "},
    {">>Fro", ">>Fro"},
    {">", ">"},
    {" From x\n", " From x\n"},  // not at the start of the line
    {"from x\n", "from x\n"},    // case matters
    {">> From\n", ">> From\n"},
    {">F>From \n", ">F>From \n"},
    {"\n\nFrom \n\n", "\n\n>From \n\n"},
    {"xFrom y\nFrom z", "xFrom y\n>From z"},
    {"From From \n", ">From From \n"},
};

TEST(MboxrdQuoterTest, QuotesExactlyTheFromLines) {
  for (const Case& c : kCases) {
    EXPECT_EQ(quote_whole(c.text), c.quoted) << c.text;
  }
}

TEST(MboxrdQuoterTest, SameResultByteByByteAndSplitAtEveryOffset) {
  for (const Case& c : kCases) {
    MboxrdQuoter bytewise;
    std::string out;
    testing::feed_bytewise(c.text, [&](std::string_view piece) { bytewise.quote(piece, &out); });
    bytewise.finish(&out);
    EXPECT_EQ(out, c.quoted) << c.text;
    for (const auto& split : testing::all_two_way_splits(c.text)) {
      MboxrdQuoter quoter;
      std::string split_out;
      for (std::string_view piece : split) {
        quoter.quote(piece, &split_out);
      }
      quoter.finish(&split_out);
      EXPECT_EQ(split_out, c.quoted) << c.text;
    }
  }
}

// The reference: line by line, in one piece.
std::string quote_reference(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    size_t stop = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view line = text.substr(pos, stop - pos);
    size_t gt = line.find_first_not_of('>');
    if (gt != std::string_view::npos && line.substr(gt).starts_with("From ")) {
      out += '>';
    }
    out += line;
    pos = stop;
  }
  return out;
}

TEST(MboxrdQuoterTest, RandomTextInRandomChunksMatchesALineByLineReference) {
  std::mt19937 random(5);
  const std::string_view pieces[] = {"From ", ">", "\n", "From", "x", " ", "F"};
  for (int round = 0; round < 500; ++round) {
    std::string text;
    for (size_t n = random() % 20; n > 0; --n) {
      text += pieces[random() % std::size(pieces)];
    }
    MboxrdQuoter quoter;
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t n = std::min<size_t>(random() % 5, text.size() - pos);
      quoter.quote(std::string_view(text).substr(pos, n), &out);
      pos += n;
    }
    quoter.finish(&out);
    ASSERT_EQ(out, quote_reference(text)) << text;
  }
}

TEST(MboxrdQuoterTest, AVeryLongRunOfGreaterThansIsNotHeldAsText) {
  MboxrdQuoter quoter;
  std::string out;
  const std::string run(100'000, '>');
  for (int i = 0; i < 10; ++i) {
    quoter.quote(run, &out);
  }
  EXPECT_TRUE(out.empty());  // still undecided: only counted
  quoter.quote("From x\n", &out);
  EXPECT_EQ(out.size(), 1'000'000u + 1 + 7);
  EXPECT_EQ(out.substr(out.size() - 7), "From x\n");
}

}  // namespace
}  // namespace poplar::store::mbox
