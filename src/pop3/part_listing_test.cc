// Unit tests for part_listing.h: the `section type octets ["name"]` lines of PART, with names
// and types from untrusted messages, and the listing producer. Tests only; no I/O.
#include "pop3/part_listing.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace poplar::pop3 {
namespace {

mime::PartInfo part(std::string section, std::string type, uint64_t octets, std::string name = "") {
  mime::PartInfo p;
  p.section = std::move(section);
  p.type = std::move(type);
  p.body.wire_octets = octets;
  p.name = std::move(name);
  return p;
}

TEST(PartListingTest, SectionTypeAndWireOctets) {
  EXPECT_EQ(part_listing_line(part("1", "text/plain", 812), false), "1 text/plain 812");
  EXPECT_EQ(part_listing_line(part("2.1", "message/rfc822", 0), false), "2.1 message/rfc822 0");
}

TEST(PartListingTest, NameIsQuotedWithQuoteAndBackslashEscaped) {
  EXPECT_EQ(part_listing_line(part("2", "application/pdf", 402112, "report.pdf"), false),
            "2 application/pdf 402112 \"report.pdf\"");
  EXPECT_EQ(part_listing_line(part("2", "text/plain", 1, "a \"b\" c\\d.txt"), false),
            "2 text/plain 1 \"a \\\"b\\\" c\\\\d.txt\"");
}

TEST(PartListingTest, Utf8NameIsSentAsIsAfterUtf8) {
  EXPECT_EQ(part_listing_line(part("3", "image/png", 5,
                                   "B\xC3\xBC"
                                   "cher.png"),
                              true),
            "3 image/png 5 \"B\xC3\xBC"
            "cher.png\"");
}

TEST(PartListingTest, Utf8NameIsAnEncodedWordWithoutUtf8) {
  // RFC 6856: no UTF-8 to a client that did not ask; RFC 2047 B encoding of "Bücher.png".
  EXPECT_EQ(part_listing_line(part("3", "image/png", 5,
                                   "B\xC3\xBC"
                                   "cher.png"),
                              false),
            "3 image/png 5 \"=?UTF-8?B?QsO8Y2hlci5wbmc=?=\"");
}

TEST(PartListingTest, LongUtf8NameBecomesSeveralEncodedWordsOfWholeCharacters) {
  std::string name;
  for (int i = 0; i < 40; ++i) {
    name += "\xC3\xA9";  // é, 2 octets: a word holds 22 of them (44 octets)
  }
  std::string line = part_listing_line(part("1", "text/plain", 1, name), false);
  std::string quoted = line.substr(line.find('"'));
  EXPECT_EQ(quoted.front(), '"');
  EXPECT_EQ(quoted.back(), '"');
  std::vector<std::string> words;
  size_t start = 1;
  for (size_t sp; (sp = quoted.find(' ', start)) != std::string::npos; start = sp + 1) {
    words.push_back(quoted.substr(start, sp - start));
  }
  words.push_back(quoted.substr(start, quoted.size() - 1 - start));
  ASSERT_EQ(words.size(), 2u);
  for (const std::string& word : words) {
    EXPECT_LE(word.size(), 75u);  // RFC 2047 §2
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u);
    EXPECT_EQ(word.substr(word.size() - 2), "?=");
  }
  EXPECT_EQ(words[0],
            "=?UTF-8?B?" +
                std::string("w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=") + "?=");
}

TEST(PartListingTest, ControlBytesAndBrokenUtf8NeverReachTheWire) {
  std::string line =
      part_listing_line(part("1", "text/plain", 1, "a\r\nb\x01\x7f\xff\xC3.txt\xE0\x80\x80"), true);
  EXPECT_EQ(line, "1 text/plain 1 \"ab?\?.txt???\"");
}

TEST(PartListingTest, AnythingButTokenSlashTokenIsShownAsOctetStream) {
  for (const char* type : {"", "text", "text/", "/plain", "text/pl ain", "text/plain;x",
                           "te\"xt/plain", "text/plain/x", "text\r\n/plain"}) {
    EXPECT_EQ(part_listing_line(part("1", type, 7), false), "1 application/octet-stream 7") << type;
  }
  EXPECT_EQ(part_listing_line(part("1", std::string(128, 'a') + "/b", 7), false),
            "1 application/octet-stream 7");  // RFC 6838 §4.2: 127 at most
  EXPECT_EQ(part_listing_line(part("1", std::string(127, 'a') + "/b", 7), false),
            "1 " + std::string(127, 'a') + "/b 7");
  EXPECT_EQ(part_listing_line(part("1", "application/vnd.ms-excel+xml", 7), false),
            "1 application/vnd.ms-excel+xml 7");
}

TEST(PartListingTest, LinesStayWithin510OctetsAndKeepTheClosingQuote) {
  // The longest section 1000 parts allow at 50 levels is about this long.
  std::string section = "12";
  for (int i = 0; i < 49; ++i) {
    section += ".12";
  }
  const std::string type = std::string(127, 't') + "/" + std::string(127, 's');
  for (bool utf8 : {false, true}) {
    for (const std::string& name : {std::string(255, 'n'), std::string(255, '"'), [] {
                                      std::string s;
                                      for (int i = 0; i < 85; ++i) {
                                        s += "\xE2\x82\xAC";  // €, 3 octets
                                      }
                                      return s;
                                    }()}) {
      std::string line = part_listing_line(part(section, type, 18446744073709551615u, name), utf8);
      EXPECT_LE(line.size(), 510u);
      EXPECT_EQ(line.back(), '"');
      EXPECT_NE(line.find(" \""), std::string::npos);
      EXPECT_NE(line.substr(line.size() - 2), "\\\"");  // never an escape cut in half
    }
    // Short sections leave room for the whole name.
    std::string line = part_listing_line(part("1", "text/plain", 1, std::string(255, 'n')), utf8);
    EXPECT_EQ(line, "1 text/plain 1 \"" + std::string(255, 'n') + "\"");
  }
}

TEST(PartListingTest, ProducerWritesEveryLineThenTheTerminatorInPieces) {
  auto parts = std::make_shared<std::vector<mime::PartInfo>>();
  for (int i = 1; i <= 300; ++i) {
    parts->push_back(part(std::to_string(i), "text/plain", static_cast<uint64_t>(i), "f.txt"));
  }
  PartListProducer producer(parts, false);
  std::string out;
  int calls = 0;
  for (;;) {
    ++calls;
    std::string piece;
    Result<bool> done = producer.produce(piece, 1000);
    ASSERT_TRUE(done.is_ok());
    EXPECT_LE(piece.size(), 1000u + 512u);
    out += piece;
    if (*done) {
      break;
    }
  }
  EXPECT_GT(calls, 5);
  EXPECT_EQ(out.rfind("1 text/plain 1 \"f.txt\"\r\n2 text/plain 2 \"f.txt\"\r\n", 0), 0u);
  EXPECT_EQ(out.substr(out.size() - 30), "00 text/plain 300 \"f.txt\"\r\n.\r\n");
}

}  // namespace
}  // namespace poplar::pop3
