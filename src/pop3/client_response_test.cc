// Unit tests for client_response.h: status lines and response codes, multi-line bodies in
// every shape, un-stuffing, terminators split at every byte boundary, malformed input, and
// the STAT / LIST / UIDL line parsers. Tests only; no I/O.
#include "pop3/client_response.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/trickle.h"

namespace poplar::pop3 {
namespace {

// Writes every event into a transcript; consecutive payload pieces of one body are joined, so
// the transcript does not depend on how the input was cut.
class Recorder : public ResponseHandler {
 public:
  void on_status(const StatusLine& status, uint32_t tag) override {
    flush_payload();
    out += "S" + std::to_string(tag) + ":";
    out += status.kind == StatusKind::kOk ? "OK" : status.kind == StatusKind::kErr ? "ERR" : "CONT";
    out += "[" + std::string(status.code) + "]<" + std::string(status.text) + ">\n";
  }
  void on_line(std::string_view line, uint32_t tag) override {
    out += "L" + std::to_string(tag) + ":<" + std::string(line) + ">\n";
  }
  void on_payload(std::string_view data, uint32_t tag) override {
    EXPECT_FALSE(data.empty());
    payload_tag = tag;
    payload.append(data);
  }
  void on_body_end(uint64_t octets, uint32_t tag) override {
    flush_payload();
    out += "E" + std::to_string(tag) + ":" + std::to_string(octets) + "\n";
  }
  void flush_payload() {
    if (!payload.empty()) {
      out += "P" + std::to_string(payload_tag) + ":<" + payload + ">\n";
      payload.clear();
    }
  }

  std::string out;
  std::string payload;
  uint32_t payload_tag = 0;
};

struct Expect {
  ResponseShape shape;
  uint32_t tag;
};

// Feeds the pieces in order to a fresh parser with the given expectations; returns the
// transcript, with "!error" appended if the parser failed and "+N" for unconsumed octets.
std::string parse_pieces(const std::vector<Expect>& expectations,
                         const std::vector<std::string_view>& pieces) {
  ClientResponseParser parser;
  for (const auto& e : expectations) {
    parser.expect(e.shape, e.tag);
  }
  Recorder recorder;
  size_t left = 0;
  for (auto piece : pieces) {
    size_t used = parser.feed(piece, recorder);
    left += piece.size() - used;
    if (parser.failed()) {
      break;
    }
  }
  recorder.flush_payload();
  if (parser.failed()) {
    recorder.out += "!" + std::string(parser.error_text());
  }
  if (left > 0) {
    recorder.out += "+" + std::to_string(left);
  }
  return recorder.out;
}

std::string parse(const std::vector<Expect>& expectations, std::string_view input) {
  return parse_pieces(expectations, {input});
}

// Whole, byte by byte, and split in two at every offset: always the same transcript.
std::string parse_every_way(const std::vector<Expect>& expectations, std::string_view input) {
  const std::string whole = parse(expectations, input);
  std::vector<std::string_view> bytes;
  testing::feed_bytewise(input, [&](std::string_view b) { bytes.push_back(b); });
  EXPECT_EQ(parse_pieces(expectations, bytes), whole) << "fed byte by byte";
  for (const auto& split : testing::all_two_way_splits(input)) {
    EXPECT_EQ(parse_pieces(expectations, split), whole) << "split at " << split[0].size();
  }
  return whole;
}

// A whole session as a server sends it: greeting, USER, PASS, LIST, RETR with stuffed lines,
// UIDL, QUIT.
constexpr std::string_view kSession =
    "+OK POP3 ready <1.2@example.org>\r\n"
    "+OK\r\n"
    "+OK Logged in.\r\n"
    "+OK 2 messages:\r\n"
    "1 120\r\n"
    "2 7\r\n"
    ".\r\n"
    "+OK 120 octets\r\n"
    "Subject: x\r\n"
    "\r\n"
    "..starts with a dot\r\n"
    "...two\r\n"
    ". \r\n"
    "\r\n"
    "last\r\n"
    ".\r\n"
    "+OK\r\n"
    "1 UID-1\r\n"
    "2 \x21~\r\n"
    ".\r\n"
    "+OK Logging out.\r\n";

const std::vector<Expect> kSessionExpectations = {
    {ResponseShape::kStatusOnly, 0}, {ResponseShape::kStatusOnly, 1},
    {ResponseShape::kStatusOnly, 2}, {ResponseShape::kLines, 3},
    {ResponseShape::kPayload, 4},    {ResponseShape::kLines, 5},
    {ResponseShape::kStatusOnly, 6},
};

TEST(ClientResponseTest, WholeSessionGivesEveryEventInOrder) {
  EXPECT_EQ(parse_every_way(kSessionExpectations, kSession),
            "S0:OK[]<POP3 ready <1.2@example.org>>\n"
            "S1:OK[]<>\n"
            "S2:OK[]<Logged in.>\n"
            "S3:OK[]<2 messages:>\n"
            "L3:<1 120>\n"
            "L3:<2 7>\n"
            "E3:12\n"
            "S4:OK[]<120 octets>\n"
            "P4:<Subject: x\r\n\r\n.starts with a dot\r\n..two\r\n \r\n\r\nlast\r\n>\n"
            "E4:52\n"
            "S5:OK[]<>\n"
            "L5:<1 UID-1>\n"
            "L5:<2 !~>\n"
            "E5:15\n"
            "S6:OK[]<Logging out.>\n");
}

TEST(ClientResponseTest, CountOnlyGivesTheSameOctetsAsPayload) {
  std::vector<Expect> counted = kSessionExpectations;
  counted[4].shape = ResponseShape::kCount;
  std::string out = parse_every_way(counted, kSession);
  EXPECT_NE(out.find("S4:OK[]<120 octets>\nE4:52\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("P4"), std::string::npos);
}

TEST(ClientResponseTest, ErrWithInUseCodeHasNoBody) {
  EXPECT_EQ(parse_every_way({{ResponseShape::kStatusOnly, 7}},
                            "-ERR [IN-USE] Mailbox is locked by another session.\r\n"),
            "S7:ERR[IN-USE]<Mailbox is locked by another session.>\n");
  // A multi-line command answered with -ERR: the next line is the next response.
  EXPECT_EQ(parse_every_way({{ResponseShape::kPayload, 1}, {ResponseShape::kStatusOnly, 2}},
                            "-ERR [SYS/TEMP] No such message\r\n+OK bye\r\n"),
            "S1:ERR[SYS/TEMP]<No such message>\nS2:OK[]<bye>\n");
}

TEST(ClientResponseTest, StatusWithoutTextAndCodes) {
  EXPECT_EQ(parse({{ResponseShape::kStatusOnly, 0}}, "-ERR\r\n"), "S0:ERR[]<>\n");
  EXPECT_EQ(parse({{ResponseShape::kStatusOnly, 0}}, "-ERR [AUTH]\r\n"), "S0:ERR[AUTH]<>\n");
  EXPECT_EQ(parse({{ResponseShape::kStatusOnly, 0}}, "-ERR [unclosed text\r\n"),
            "S0:ERR[]<[unclosed text>\n");
  EXPECT_EQ(parse({{ResponseShape::kStatusOnly, 0}}, "+OK [LOGIN-DELAY] x\r\n"),
            "S0:OK[LOGIN-DELAY]<x>\n");
  // RFC 5034 §4: SASL continuations.
  EXPECT_EQ(parse({{ResponseShape::kStatusOnly, 0}, {ResponseShape::kStatusOnly, 1}},
                  "+ PDEyMz4=\r\n+\r\n"),
            "S0:CONT[]<PDEyMz4=>\nS1:CONT[]<>\n");
}

TEST(ClientResponseTest, BareLfLineEndsAreAccepted) {
  EXPECT_EQ(parse_every_way({{ResponseShape::kStatusOnly, 0}, {ResponseShape::kLines, 1}},
                            "+OK hi\n+OK\n1 5\n.\n"),
            "S0:OK[]<hi>\nS1:OK[]<>\nL1:<1 5>\nE1:4\n");
  EXPECT_EQ(parse_every_way({{ResponseShape::kPayload, 0}}, "+OK\na\n.\n"),
            "S0:OK[]<>\nP0:<a\n>\nE0:2\n");
}

TEST(ClientResponseTest, TerminatorVariants) {
  // An empty body.
  EXPECT_EQ(parse_every_way({{ResponseShape::kPayload, 0}}, "+OK\r\n.\r\n"), "S0:OK[]<>\nE0:0\n");
  EXPECT_EQ(parse_every_way({{ResponseShape::kLines, 0}}, "+OK\r\n.\r\n"), "S0:OK[]<>\nE0:0\n");
  // The last line is a stuffed ".".
  EXPECT_EQ(parse_every_way({{ResponseShape::kPayload, 0}}, "+OK\r\n..\r\n.\r\n"),
            "S0:OK[]<>\nP0:<.\r\n>\nE0:3\n");
  // "\r\n.\r\n" inside a line is not a terminator unless the "." starts a line.
  EXPECT_EQ(parse_every_way({{ResponseShape::kPayload, 0}}, "+OK\r\nx.\r\n.x\r\n.\r\n"),
            "S0:OK[]<>\nP0:<x.\r\nx\r\n>\nE0:7\n");
  // ".\r" followed by something other than LF: the dot was stuffing, the CR is data.
  EXPECT_EQ(parse_every_way({{ResponseShape::kPayload, 0}}, "+OK\r\n.\rx\r\n.\r\n"),
            "S0:OK[]<>\nP0:<\rx\r\n>\nE0:4\n");
  // A body line of only CR LF, and one starting with "..." (one dot removed).
  EXPECT_EQ(parse_every_way({{ResponseShape::kLines, 0}}, "+OK\r\n\r\n...\r\n.\r\n"),
            "S0:OK[]<>\nL0:<>\nL0:<..>\nE0:6\n");
}

// A reference un-stuffer (RFC 1939 §3), line by line, for bodies built by the test.
std::string unstuff_reference(std::string_view wire) {
  std::string out;
  for (;;) {
    size_t end = wire.find("\r\n");
    std::string_view line = wire.substr(0, end);
    wire.remove_prefix(end + 2);
    if (line == ".") {
      return out;
    }
    if (!line.empty() && line.front() == '.') {
      line.remove_prefix(1);
    }
    out.append(line);
    out.append("\r\n");
  }
}

TEST(ClientResponseTest, LongBodiesWithDotLinesAtEveryAlignment) {
  // Lines of growing length, every fourth one stuffed, so that line starts with "." fall on
  // every offset of a 16-octet block (the scanner compares 16 octets at a time).
  std::string body;
  for (int i = 0; i < 200; ++i) {
    std::string line(static_cast<size_t>(i % 37), static_cast<char>('a' + i % 26));
    if (i % 4 == 0) {
      line = ".." + line;
    } else if (i % 4 == 1) {
      line = "x." + line + ".";
    }
    body += line + "\r\n";
  }
  const std::string wire = "+OK\r\n" + body + ".\r\n";
  const std::string expected_payload = unstuff_reference(body + ".\r\n");
  const std::string expected = "S0:OK[]<>\nP0:<" + expected_payload +
                               ">\nE0:" + std::to_string(expected_payload.size()) + "\n";
  for (size_t chunk : {wire.size(), size_t{1}, size_t{3}, size_t{16}, size_t{17}, size_t{100}}) {
    std::vector<std::string_view> pieces;
    for (size_t at = 0; at < wire.size(); at += chunk) {
      pieces.push_back(std::string_view(wire).substr(at, chunk));
    }
    EXPECT_EQ(parse_pieces({{ResponseShape::kPayload, 0}}, pieces), expected) << chunk;
  }
  for (const auto& split : testing::all_two_way_splits(wire)) {
    EXPECT_EQ(parse_pieces({{ResponseShape::kPayload, 0}}, split), expected) << split[0].size();
  }
}

TEST(ClientResponseTest, PipelinedBodiesBackToBack) {
  std::string input;
  std::vector<Expect> expectations;
  std::string expected;
  for (uint32_t i = 1; i <= 5; ++i) {
    input += "+OK\r\n.line " + std::to_string(i) + "\r\n.\r\n";
    expectations.push_back({ResponseShape::kPayload, i});
    expected += "S" + std::to_string(i) + ":OK[]<>\nP" + std::to_string(i) + ":<line " +
                std::to_string(i) + "\r\n>\nE" + std::to_string(i) + ":8\n";
  }
  EXPECT_EQ(parse_every_way(expectations, input), expected);
}

TEST(ClientResponseTest, StopsAfterTheLastExpectedResponse) {
  EXPECT_EQ(parse({{ResponseShape::kStatusOnly, 0}}, "+OK a\r\n+OK b\r\n"), "S0:OK[]<a>\n+7");

  // The handler may queue the next response from inside a callback.
  class Chaining : public Recorder {
   public:
    explicit Chaining(ClientResponseParser& parser) : parser_(parser) {}
    void on_status(const StatusLine& status, uint32_t tag) override {
      Recorder::on_status(status, tag);
      if (tag < 3) {
        parser_.expect(ResponseShape::kStatusOnly, tag + 1);
      }
    }

   private:
    ClientResponseParser& parser_;
  };
  ClientResponseParser parser;
  Chaining chaining(parser);
  parser.expect(ResponseShape::kStatusOnly, 1);
  std::string_view input = "+OK 1\r\n+OK 2\r\n+OK 3\r\n+OK 4\r\n";
  EXPECT_EQ(parser.feed(input, chaining), input.size() - 7);
  EXPECT_EQ(chaining.out, "S1:OK[]<1>\nS2:OK[]<2>\nS3:OK[]<3>\n");
  EXPECT_EQ(parser.pending(), 0u);
}

TEST(ClientResponseTest, MalformedStatusLinesFail) {
  for (std::string_view bad :
       {"+OKAY\r\n", "OK\r\n", "-ERROR\r\n", "+ok\r\n", "\r\n", "* OK\r\n"}) {
    EXPECT_EQ(parse({{ResponseShape::kStatusOnly, 0}}, bad), "!status line is not +OK or -ERR")
        << bad;
  }
}

TEST(ClientResponseTest, OverlongLinesFailWithoutGrowing) {
  ClientResponseParser parser(64);
  parser.expect(ResponseShape::kStatusOnly);
  Recorder recorder;
  std::string long_line = "+OK " + std::string(100, 'x');
  for (char c : long_line) {
    parser.feed(std::string_view(&c, 1), recorder);
    if (parser.failed()) {
      break;
    }
  }
  EXPECT_EQ(parser.error(), ClientResponseParser::Error::kLineTooLong);
  EXPECT_EQ(recorder.out, "");

  ClientResponseParser lines(64);
  lines.expect(ResponseShape::kLines);
  std::string listing = "+OK\r\n" + std::string(70, '1') + "\r\n.\r\n";
  lines.feed(listing, recorder);
  EXPECT_EQ(lines.error(), ClientResponseParser::Error::kLineTooLong);

  // RETR bodies are never held, so their lines may be of any length.
  ClientResponseParser payload(64);
  payload.expect(ResponseShape::kCount);
  std::string message = "+OK\r\n" + std::string(100000, 'y') + "\r\n.\r\n";
  Recorder counted;
  EXPECT_EQ(payload.feed(message, counted), message.size());
  EXPECT_EQ(counted.out, "S0:OK[]<>\nE0:100002\n");
}

TEST(ClientResponseTest, ResetStartsOverAndKeepsWorking) {
  ClientResponseParser parser;
  Recorder recorder;
  parser.expect(ResponseShape::kPayload, 1);
  parser.feed("+OK\r\nhalf a li", recorder);
  parser.reset();
  EXPECT_EQ(parser.pending(), 0u);
  parser.expect(ResponseShape::kStatusOnly, 2);
  recorder.out.clear();
  recorder.payload.clear();
  parser.feed("+OK again\r\n", recorder);
  EXPECT_EQ(recorder.out, "S2:OK[]<again>\n");
  EXPECT_FALSE(parser.failed());
}

TEST(ClientResponseTest, ManyQueuedExpectationsWrapTheRing) {
  ClientResponseParser parser;
  Recorder recorder;
  std::string expected;
  for (uint32_t round = 0; round < 3; ++round) {
    std::string input;
    for (uint32_t i = 0; i < 100; ++i) {
      parser.expect(ResponseShape::kCount, round * 100 + i);
      input += "+OK\r\nx\r\n.\r\n";
      expected += "S" + std::to_string(round * 100 + i) + ":OK[]<>\nE" +
                  std::to_string(round * 100 + i) + ":3\n";
    }
    EXPECT_EQ(parser.feed(input, recorder), input.size());
  }
  EXPECT_EQ(recorder.out, expected);
}

TEST(ClientResponseTest, DropListing) {
  auto stat = parse_drop_listing("2 320");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->messages, 2u);
  EXPECT_EQ(stat->octets, 320u);
  EXPECT_TRUE(parse_drop_listing("0 0"));
  EXPECT_TRUE(parse_drop_listing("2 320 extra words"));
  for (std::string_view bad :
       {"", "2", "2 ", " 2 320", "2  320", "-1 5", "2 x", "99999999999999999999999 1"}) {
    EXPECT_FALSE(parse_drop_listing(bad)) << bad;
  }
}

TEST(ClientResponseTest, ScanListing) {
  auto scan = parse_scan_listing("12 4096");
  ASSERT_TRUE(scan);
  EXPECT_EQ(scan->number, 12u);
  EXPECT_EQ(scan->octets, 4096u);
  for (std::string_view bad : {"0 10", "1", "1 -2", "a 1", "4294967296 1", ""}) {
    EXPECT_FALSE(parse_scan_listing(bad)) << bad;
  }
}

TEST(ClientResponseTest, UniqueIdListing) {
  auto uidl = parse_unique_id_listing("3 abc.DEF~!");
  ASSERT_TRUE(uidl);
  EXPECT_EQ(uidl->number, 3u);
  EXPECT_EQ(uidl->unique_id, "abc.DEF~!");
  EXPECT_TRUE(parse_unique_id_listing("1 " + std::string(70, 'u')));
  EXPECT_FALSE(parse_unique_id_listing("1 " + std::string(71, 'u')));
  for (std::string_view bad : {"1", "1 ", "0 x", "1 a b", "1 a\x7f", "x y", "1 \xc3\xa9"}) {
    EXPECT_FALSE(parse_unique_id_listing(bad)) << bad;
  }
}

}  // namespace
}  // namespace poplar::pop3
