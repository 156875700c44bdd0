// Tests of the CRLF size rule against an independent statement of it, at every split of the
// input. Must never: share code with the implementation under test. Single-threaded.
#include "store/crlf_size.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/trickle.h"

namespace poplar::store {
namespace {

// An independent statement of the rule: what the client receives after un-stuffing.
std::string wire_form(std::string_view stored) {
  std::string out;
  for (size_t i = 0; i < stored.size(); ++i) {
    if (stored[i] == '\n' && (i == 0 || stored[i - 1] != '\r')) {
      out += "\r\n";
    } else {
      out += stored[i];
    }
  }
  if (!stored.empty() && stored.back() != '\n') {
    out += "\r\n";
  }
  return out;
}

const char* const kSamples[] = {
    "",
    "\n",
    "\r\n",
    "\r",
    "a",
    "a\n",
    "a\r\n",
    "line one\nline two\n",
    "line one\r\nline two\r\n",
    "mixed\r\nends\nhere\r\n",
    "no final newline",
    "bare\rCR inside\n",
    "ends with CR\r",
    "\n\n\n",
    "\r\r\n\n",
    ".dot line\n..two dots\n.\n",
    "\nstarts with LF",
};

TEST(CrlfSizeTest, MatchesTheWireFormOfEverySample) {
  for (const char* sample : kSamples) {
    EXPECT_EQ(crlf_size_octets(sample), wire_form(sample).size()) << '"' << sample << '"';
  }
}

TEST(CrlfSizeTest, DocumentedExamples) {
  EXPECT_EQ(crlf_size_octets(""), 0u);
  EXPECT_EQ(crlf_size_octets("a\nb\n"), 6u);      // two bare LFs become CRLF
  EXPECT_EQ(crlf_size_octets("a\r\nb\r\n"), 6u);  // CRLF counted as stored
  EXPECT_EQ(crlf_size_octets("a\rb\n"), 5u);      // bare CR is one octet, not a line end
  EXPECT_EQ(crlf_size_octets("abc"), 5u);         // missing final line end: CRLF added
  EXPECT_EQ(crlf_size_octets("abc\r"), 6u);       // a final bare CR is not a line end either
  EXPECT_EQ(crlf_size_octets(".\n..\n"), 7u);     // stuffing dots are not counted
}

TEST(CrlfSizeTest, SameResultHoweverTheInputIsSplit) {
  for (const char* sample : kSamples) {
    uint64_t whole = crlf_size_octets(sample);
    CrlfSizeCounter bytewise;
    testing::feed_bytewise(sample, [&](std::string_view piece) { bytewise.update(piece); });
    EXPECT_EQ(bytewise.size_octets(), whole) << sample;
    for (const auto& split : testing::all_two_way_splits(sample)) {
      CrlfSizeCounter counter;
      for (std::string_view piece : split) {
        counter.update(piece);
      }
      EXPECT_EQ(counter.size_octets(), whole) << sample;
    }
  }
}

TEST(CrlfSizeTest, CrAtTheEndOfOneChunkPairsWithLfAtTheStartOfTheNext) {
  CrlfSizeCounter counter;
  counter.update("a\r");
  counter.update("");
  counter.update("\nb\n");
  EXPECT_EQ(counter.size_octets(), 6u);  // "a\r\nb\r\n": the CR and LF pair up
}

TEST(CrlfSizeTest, LargeMessageCountsEveryLine) {
  std::string body;
  for (int i = 0; i < 10000; ++i) {
    body += "0123456789\n";
  }
  EXPECT_EQ(crlf_size_octets(body), body.size() + 10000);
}

}  // namespace
}  // namespace poplar::store
