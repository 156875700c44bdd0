// POP4 PART in ServerSession (POP4.md "Part commands"): every form and every error, driven
// in-process by testing/FakeDriver over a fake maildrop, the way the golden transcripts are
// (tests/transcripts cannot switch the PARTS ability on yet). Also: CAPA and the command with
// the ability off, limits, store failures, the one-message structure cache, streaming a big
// part within the watermarks, trickled input, and every section of a nested message against
// the bytes as stored.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "mime/mime_structure.h"
#include "pop3/server_session.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "testing/transcript.h"

namespace poplar::pop3 {
namespace {

using poplar::testing::FakeDriver;
using poplar::testing::FakeMessage;
using poplar::testing::FakeWorld;
using poplar::testing::stored_wire_size;

// A multipart/mixed message with a text part (one line starting with ".") and a base64 PDF
// attachment, stored with LF line ends as many MDAs write it.
const std::string kTextBody = "Hello Alice,\n.a line starting with a dot\nsee attached.";
const std::string kPdfHeader =
    "Content-Type: application/pdf; name=\"report.pdf\"\n"
    "Content-Disposition: attachment; filename=\"report.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n";
const std::string kPdfBody =
    "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoK\n"
    "PDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0";
const std::string kMultipart =
    "From: carol@example.org\n"
    "Subject: report\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\n"
    "\n"
    "preamble\n"
    "--b1\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n" +
    kTextBody +
    "\n"
    "--b1\n" +
    kPdfHeader + kPdfBody +
    "\n"
    "--b1--\n";
const std::string kSimpleHeader = "From: bob@example.org\r\nSubject: Hello\r\n\r\n";
const std::string kSimple = kSimpleHeader + "Hi Alice.\r\n.\r\n";
const std::string kMalformed = "this is no header\nContent-Type: multipart/mixed; boundary=x\n";

std::string n(uint64_t value) { return std::to_string(value); }

// A stored range as a client receives it: CRLF line ends, dot-stuffed, a CRLF added when it
// does not end with a line end, then the terminator.
std::string wire_reply(std::string_view stored) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < stored.size(); ++i) {
    char c = stored[i];
    if (line_start && c == '.') {
      out += '.';
    }
    if (c == '\n' && (i == 0 || stored[i - 1] != '\r')) {
      out += '\r';
    }
    out += c;
    line_start = c == '\n';
  }
  if (!stored.empty() && stored.back() != '\n') {
    out += "\r\n";
  }
  return out + ".\r\n";
}

class ServerPartTest : public ::testing::Test {
 protected:
  ServerPartTest() : world_(FakeWorld::with_default_users()) {
    config_.pop4.parts = true;
    log::set_sink_for_test([this](log::Level, std::string_view l) { logs_.emplace_back(l); });
    drop().messages = {{kMultipart, "uid-1", ErrorCode::kOk, {}},
                       {kSimple, "uid-2", ErrorCode::kOk, {}},
                       {kMalformed, "uid-3", ErrorCode::kOk, {}}};
  }
  ~ServerPartTest() override {
    driver_.reset();
    session_.reset();
    log::reset_sink();
  }

  poplar::testing::FakeMaildropData& drop() { return *world_.users["alice"].maildrop; }

  void make_session(size_t write_chunk = static_cast<size_t>(-1)) {
    session_ = std::make_unique<ServerSession>(config_, clock_, random_, "198.51.100.7");
    driver_ = std::make_unique<FakeDriver>(*session_, world_, write_chunk);
    session_->start();
    std::string greeting;
    ASSERT_TRUE(driver_->run(greeting));
  }
  std::string send(std::string_view bytes) {
    session_->receive(bytes);
    std::string out;
    EXPECT_TRUE(driver_->run(out));
    return out;
  }
  void login() {
    make_session();
    ASSERT_NE(send("USER alice\r\nPASS secret\r\n").find("+OK Logged in"), std::string::npos);
  }
  bool logged(std::string_view needle) const {
    for (const auto& l : logs_) {
      if (l.find(needle) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  std::string stat_line() const {
    uint64_t octets = 0;
    for (const FakeMessage& m : world_.users.at("alice").maildrop->messages) {
      octets += stored_wire_size(m.content);
    }
    return "+OK " + n(world_.users.at("alice").maildrop->messages.size()) + " " + n(octets) +
           "\r\n";
  }

  SessionConfig config_;
  poplar::testing::FakeClock clock_;
  poplar::testing::FakeRandom random_;
  FakeWorld world_;
  std::unique_ptr<ServerSession> session_;
  std::unique_ptr<FakeDriver> driver_;
  std::vector<std::string> logs_;
};

TEST_F(ServerPartTest, ListingGivesSectionTypeWireOctetsAndName) {
  login();
  EXPECT_EQ(send("PART 1\r\n"),
            "+OK 2 parts\r\n"
            "1 text/plain " +
                n(stored_wire_size(kTextBody)) +
                "\r\n"
                "2 application/pdf " +
                n(stored_wire_size(kPdfBody)) +
                " \"report.pdf\"\r\n"
                ".\r\n");
}

TEST_F(ServerPartTest, PartBodyIsSentAsStoredWithCrlfAndDotStuffing) {
  login();
  EXPECT_EQ(send("PART 1 1\r\n"),
            "+OK " + n(stored_wire_size(kTextBody)) +
                "\r\n"
                "Hello Alice,\r\n..a line starting with a dot\r\nsee attached.\r\n.\r\n");
}

TEST_F(ServerPartTest, AttachmentStaysInItsTransferEncoding) {
  login();
  EXPECT_EQ(send("PART 1 2\r\n"), "+OK " + n(stored_wire_size(kPdfBody)) + "\r\n" +
                                      "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoK\r\n"
                                      "PDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0\r\n.\r\n");
}

TEST_F(ServerPartTest, MimeSendsThePartsHeaderLinesInAnyCase) {
  login();
  const std::string expected =
      "+OK " + n(stored_wire_size(kPdfHeader)) + "\r\n" + wire_reply(kPdfHeader);
  EXPECT_EQ(send("PART 1 2 MIME\r\n"), expected);
  EXPECT_EQ(send("part 1 2 mime\r\n"), expected);
}

TEST_F(ServerPartTest, SinglePartMessageIsSectionOneWithTheMessageHeaderAsMime) {
  login();
  EXPECT_EQ(send("PART 2\r\n"), "+OK 1 part\r\n1 text/plain 14\r\n.\r\n");
  EXPECT_EQ(send("PART 2 1\r\n"), "+OK 14\r\nHi Alice.\r\n..\r\n.\r\n");
  EXPECT_EQ(send("PART 2 1 MIME\r\n"),
            "+OK " + n(kSimpleHeader.size()) + "\r\n" + kSimpleHeader + ".\r\n");
}

TEST_F(ServerPartTest, MalformedMessageIsOneTextPlainPart) {
  login();
  // POP4.md: what cannot be parsed is one text/plain part; it has no header block.
  EXPECT_EQ(send("PART 3\r\n"),
            "+OK 1 part\r\n1 text/plain " + n(stored_wire_size(kMalformed)) + "\r\n.\r\n");
  EXPECT_EQ(send("PART 3 1\r\n"),
            "+OK " + n(stored_wire_size(kMalformed)) + "\r\n" + wire_reply(kMalformed));
  EXPECT_EQ(send("PART 3 1 MIME\r\n"), "+OK 0\r\n.\r\n");
}

TEST_F(ServerPartTest, EveryErrorIsOneErrAndChangesNothing) {
  login();
  const std::string stat = stat_line();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"PART", "-ERR Missing argument.\r\n"},
      {"PART 0", "-ERR Invalid message number.\r\n"},
      {"PART x", "-ERR Invalid message number.\r\n"},
      {"PART 4", "-ERR No such message.\r\n"},
      {"PART 99999999999", "-ERR Invalid message number.\r\n"},
      {"PART 1 3", "-ERR No such part.\r\n"},
      {"PART 1 1.1", "-ERR No such part.\r\n"},
      {"PART 1 3 MIME", "-ERR No such part.\r\n"},
      {"PART 1 0", "-ERR Invalid section.\r\n"},
      {"PART 1 1.", "-ERR Invalid section.\r\n"},
      {"PART 1 01", "-ERR Invalid section.\r\n"},
      {"PART 1 TEXT", "-ERR Invalid section.\r\n"},
      {"PART 1 1 BODY", "-ERR Invalid argument.\r\n"},
      {"PART 1 1 MIME extra", "-ERR Too many arguments.\r\n"},
      {"PART 1  1", "-ERR Syntax error.\r\n"},
  };
  for (const auto& [command, reply] : cases) {
    EXPECT_EQ(send(command + "\r\nSTAT\r\n"), reply + stat) << command;
  }
  EXPECT_EQ(session_->state(), SessionState::kTransaction);
  EXPECT_EQ(send("PART 1 1 MIME\r\n").rfind("+OK ", 0), 0u);  // still answering
}

TEST_F(ServerPartTest, MessageMarkedDeletedHasNoParts) {
  login();
  EXPECT_EQ(send("DELE 1\r\nPART 1\r\nPART 1 1\r\nRSET\r\n"),
            "+OK Message 1 deleted.\r\n-ERR No such message.\r\n-ERR No such message.\r\n"
            "+OK Maildrop has 3 messages (" +
                n(stored_wire_size(kMultipart) + stored_wire_size(kSimple) +
                  stored_wire_size(kMalformed)) +
                " octets).\r\n");
  EXPECT_EQ(send("PART 1 1\r\n").rfind("+OK " + n(stored_wire_size(kTextBody)) + "\r\n", 0), 0u);
}

TEST_F(ServerPartTest, OnlyInTransaction) {
  make_session();
  EXPECT_EQ(send("PART 1\r\nPART 1 1\r\n"),
            "-ERR Command not valid in this state.\r\n-ERR Command not valid in this state.\r\n");
}

TEST_F(ServerPartTest, CapaListsX_Pop4PartsBeforeAndAfterLogin) {
  make_session();
  EXPECT_NE(send("CAPA\r\n").find("\r\nX-POP4 PARTS\r\n"), std::string::npos);
  send("USER alice\r\nPASS secret\r\n");
  EXPECT_NE(send("CAPA\r\n").find("\r\nX-POP4 PARTS\r\n"), std::string::npos);
}

TEST_F(ServerPartTest, WithoutTheAbilityPartIsUnknownAndCapaUnchanged) {
  config_.pop4.parts = false;
  make_session();
  EXPECT_EQ(send("PART 1\r\n"), "-ERR Unknown command.\r\n");  // not "not valid in this state"
  std::string capa_before = send("CAPA\r\n");
  EXPECT_EQ(capa_before.find("X-POP4"), std::string::npos);
  send("USER alice\r\nPASS secret\r\n");
  EXPECT_EQ(send("PART 1\r\nPART 1 1 MIME\r\n"),
            "-ERR Unknown command.\r\n-ERR Unknown command.\r\n");
  EXPECT_EQ(send("CAPA\r\n").find("X-POP4"), std::string::npos);
  session_.reset();
  EXPECT_FALSE(logged(" part="));  // the disconnect line of a plain POP3 server is unchanged
}

TEST_F(ServerPartTest, MessageOverTheLimitsIsRefusedAndRetrStillWorks) {
  config_.part_limits.max_parts = 2;  // the multipart and its two parts make three entities
  login();
  const std::string refusal = "-ERR [SYS/PERM] Message is too complex for PART; use RETR.\r\n";
  EXPECT_EQ(send("PART 1\r\nPART 1 1\r\n"), refusal + refusal);
  EXPECT_TRUE(logged("part-over-limits"));
  EXPECT_EQ(send("PART 2 1\r\n"), "+OK 14\r\nHi Alice.\r\n..\r\n.\r\n");
  EXPECT_EQ(send("RETR 1\r\n").rfind("+OK " + n(stored_wire_size(kMultipart)) + " octets\r\n", 0),
            0u);
}

TEST_F(ServerPartTest, TenThousandPartsAreRefusedWithoutReadingThemAll) {
  std::string message = "Content-Type: multipart/mixed; boundary=x\n\n";
  for (int i = 0; i < 10000; ++i) {
    message += "--x\n\npart " + n(static_cast<uint64_t>(i)) + "\n";
  }
  message += "--x--\n";
  drop().messages.push_back({message, "uid-many", ErrorCode::kOk, {}});
  drop().read_chunk_octets = 4096;
  login();
  EXPECT_EQ(send("PART 4\r\n"), "-ERR [SYS/PERM] Message is too complex for PART; use RETR.\r\n");
  EXPECT_EQ(drop().reads_at_end, 0);  // the scan stopped at the limit
}

TEST_F(ServerPartTest, StoreFailuresAreMappedAsForRetr) {
  drop().messages[0].open_error = ErrorCode::kNotFound;
  drop().messages[1].fail_read_after = 10;  // fails while the structure is read
  drop().messages[2].open_error = ErrorCode::kPermission;
  login();
  EXPECT_EQ(send("PART 1\r\nPART 2\r\nPART 3 1\r\nNOOP\r\n"),
            "-ERR [SYS/TEMP] Message is temporarily unavailable.\r\n"
            "-ERR [SYS/TEMP] Message is temporarily unavailable.\r\n"
            "-ERR [SYS/PERM] Message unavailable; contact your administrator.\r\n"
            "+OK Still here.\r\n");
  EXPECT_TRUE(logged("message-read-failed"));
}

TEST_F(ServerPartTest, ReadErrorInsideAPartClosesWithoutTerminator) {
  login();
  send("PART 1\r\n");  // the structure is cached; now the reads behind PART 1 2 fail
  drop().messages[0].fail_read_after = kMultipart.size() - 20;
  std::string out = send("PART 1 2\r\n");
  EXPECT_EQ(out.rfind("+OK ", 0), 0u);
  EXPECT_EQ(out.find("\r\n.\r\n"), std::string::npos);  // a cut part never looks complete
  EXPECT_EQ(session_->close_reason(), CloseReason::kIoError);
}

TEST_F(ServerPartTest, ListingThenPartsScanTheMessageOnce) {
  login();
  send("PART 1\r\nPART 1 1\r\nPART 1 2\r\nPART 1 2 MIME\r\n");
  // Only the structure scan reads a message to its end; a part stops at its own end.
  EXPECT_EQ(drop().reads_at_end, 1);
  send("PART 2\r\nPART 1\r\n");  // one message is kept: 1 is scanned again
  EXPECT_EQ(drop().reads_at_end, 3);
}

TEST_F(ServerPartTest, BigAttachmentStreamsWithinTheWatermarks) {
  std::string big_body;
  while (big_body.size() < 5 * 1024 * 1024) {
    big_body += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n";
  }
  const std::string message =
      "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\ntext\n--zz\n"
      "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" +
      big_body + "--zz--\n";
  drop().messages = {{message, "big", ErrorCode::kOk, {}}};
  drop().read_chunk_octets = 1 << 20;
  make_session();
  send("USER alice\r\nPASS secret\r\n");
  std::string listing = send("PART 1\r\n");
  EXPECT_EQ(listing, "+OK 2 parts\r\n1 text/plain 6\r\n2 application/octet-stream " +
                         n(stored_wire_size(big_body)) + "\r\n.\r\n");
  std::string out = send("PART 1 2\r\n");
  EXPECT_LE(driver_->max_pending_octets(), 2 * ServerSession::kHighWatermarkOctets);
  // The body ends before the delimiter's line end: its last line gets a CRLF on the wire.
  EXPECT_EQ(out, "+OK " + n(stored_wire_size(big_body.substr(0, big_body.size() - 1))) + "\r\n" +
                     wire_reply(big_body.substr(0, big_body.size() - 1)));
  EXPECT_FALSE(logged("part-size-mismatch"));
  EXPECT_LE(session_->buffer_footprint_octets(), 4096u);
}

TEST_F(ServerPartTest, Utf8NamesAreEncodedWordsUnlessTheClientIssuedUtf8) {
  drop().messages = {
      {"Content-Type: multipart/mixed; boundary=u\n\n--u\n"
       "Content-Type: text/plain; name=\"=?utf-8?B?w6TDtsO8LnR4dA==?=\"\n\nx\n--u--\n",
       "u",
       ErrorCode::kOk,
       {}}};
  login();
  EXPECT_EQ(send("PART 1\r\n"),
            "+OK 1 part\r\n1 text/plain 3 \"=?UTF-8?B?w6TDtsO8LnR4dA==?=\"\r\n.\r\n");
  make_session();
  send("UTF8\r\nUSER alice\r\nPASS secret\r\n");
  EXPECT_EQ(send("PART 1\r\n"),
            "+OK 1 part\r\n1 text/plain 3 \"\xC3\xA4\xC3\xB6\xC3\xBC.txt\"\r\n.\r\n");
}

TEST_F(ServerPartTest, PipelinedRepliesComeInOrderAndTheLogCountsParts) {
  login();
  std::string out = send("PART 1\r\nPART 1 1\r\nPART 2 1 MIME\r\nSTAT\r\n");
  const std::string listing_end = "\"report.pdf\"\r\n.\r\n";
  const std::string part_one = "+OK " + n(stored_wire_size(kTextBody)) + "\r\nHello Alice,";
  EXPECT_LT(out.find(listing_end), out.find(part_one));
  EXPECT_LT(out.find(part_one), out.find("+OK " + n(kSimpleHeader.size()) + "\r\nFrom:"));
  EXPECT_EQ(out.substr(out.size() - stat_line().size()), stat_line());
  session_.reset();
  EXPECT_TRUE(logged("dele=0 part=2/" + n(stored_wire_size(kTextBody) + kSimpleHeader.size())));
}

TEST_F(ServerPartTest, TrickledInputAndOutputGiveTheSameBytes) {
  const std::string conversation =
      "USER alice\r\nPASS secret\r\nPART 1\r\nPART 1 1\r\nPART 1 2 MIME\r\nPART 1 9\r\n"
      "PART 3 1\r\nQUIT\r\n";
  make_session();
  std::string whole = send(conversation);
  make_session(1);
  std::string trickled;
  for (char c : conversation) {
    trickled += send(std::string_view(&c, 1));
  }
  EXPECT_EQ(trickled, whole);
  EXPECT_NE(whole.find("-ERR No such part.\r\n"), std::string::npos);
}

// Every section of a message with nesting, an enclosed message and CRLF line ends: the body
// and the MIME header PART sends are the stored bytes mime/ located, and a client keeps
// exactly the octets announced.
TEST_F(ServerPartTest, EverySectionIsItsStoredBytesOnTheWire) {
  const std::string message =
      "Subject: nested\r\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
      "\r\n"
      "--outer\r\n"
      "Content-Type: multipart/alternative; boundary=inner\r\n"
      "\r\n"
      "--inner\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "plain\r\n"
      ".\r\n"
      "--inner\r\n"
      "Content-Type: text/html\r\n"
      "\r\n"
      "<p>html</p>\r\n"
      "--inner--\r\n"
      "--outer\r\n"
      "Content-Type: message/rfc822\r\n"
      "\r\n"
      "Subject: forwarded\r\n"
      "Content-Type: multipart/mixed; boundary=fw\r\n"
      "\r\n"
      "--fw\r\n"
      "\r\n"
      "inner text\r\n"
      "--fw\r\n"
      "Content-Type: image/png; name=dot.png\r\n"
      "\r\n"
      "iVBORw0KGgo=\r\n"
      "--fw--\r\n"
      "--outer--\r\n";
  drop().messages = {{message, "nested", ErrorCode::kOk, {}}};
  Result<std::vector<mime::PartInfo>> parts = mime::parse_structure(message);
  ASSERT_TRUE(parts.is_ok());
  ASSERT_EQ(parts->size(), 5u);  // 1.1 1.2 2 2.1 2.2, as IMAP numbers them
  login();
  std::string listing = "+OK 5 parts\r\n";
  for (const mime::PartInfo& p : *parts) {
    listing += p.section + " " + p.type + " " + n(p.body.wire_octets) +
               (p.name.empty() ? "" : " \"" + p.name + "\"") + "\r\n";
    for (bool mime : {false, true}) {
      const mime::Extent& e = mime ? p.header : p.body;
      const std::string stored = message.substr(e.offset, e.length);
      EXPECT_EQ(send("PART 1 " + p.section + (mime ? " MIME" : "") + "\r\n"),
                "+OK " + n(stored_wire_size(stored)) + "\r\n" + wire_reply(stored))
          << p.section << (mime ? " MIME" : "");
    }
  }
  EXPECT_EQ(send("PART 1\r\n"), listing + ".\r\n");
  EXPECT_NE(listing.find("\r\n2.2 image/png 14 \"dot.png\"\r\n"), std::string::npos);
  EXPECT_FALSE(logged("part-size-mismatch"));
}

}  // namespace
}  // namespace poplar::pop3
