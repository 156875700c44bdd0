// Unit tests for response.h: status lines, codes, 512-octet limit, multi-line framing.
// Tests only; no I/O.
#include "pop3/response.h"

#include <gtest/gtest.h>

#include <string>

namespace poplar::pop3 {
namespace {

TEST(ResponseTest, OkAndErrAlwaysHaveSpaceAndText) {
  std::string out;
  append_ok(out, "");
  append_err(out, "");
  EXPECT_EQ(out, "+OK Done.\r\n-ERR Failed.\r\n");
}

TEST(ResponseTest, ResponseCodeGoesFirst) {
  std::string out;
  append_err(out, "Mailbox is locked.", ResponseCode::kInUse);
  EXPECT_EQ(out, "-ERR [IN-USE] Mailbox is locked.\r\n");
  out.clear();
  append_err(out, "x", ResponseCode::kSysTemp);
  append_err(out, "x", ResponseCode::kSysPerm);
  append_err(out, "x", ResponseCode::kAuth);
  append_err(out, "x", ResponseCode::kLoginDelay);
  EXPECT_EQ(out,
            "-ERR [SYS/TEMP] x\r\n-ERR [SYS/PERM] x\r\n-ERR [AUTH] x\r\n-ERR [LOGIN-DELAY] x\r\n");
}

TEST(ResponseTest, FirstLineIsTruncatedTo512Octets) {
  std::string out;
  append_err(out, std::string(1000, 'x'), ResponseCode::kSysTemp);
  EXPECT_EQ(out.size(), kMaxResponseLineOctets);
  EXPECT_EQ(out.substr(out.size() - 2), "\r\n");
  EXPECT_EQ(out.rfind("-ERR [SYS/TEMP] xxx", 0), 0u);
  out.clear();
  append_ok(out, std::string(509, 'y'));
  EXPECT_EQ(out.size(), kMaxResponseLineOctets);
}

TEST(ResponseTest, HumanTextNeverLooksLikeAResponseCode) {
  std::string out;
  append_ok(out, "[not a code]");
  EXPECT_EQ(out, "+OK (not a code]\r\n");
}

TEST(ResponseTest, ControlBytesCannotSplitALine) {
  std::string out;
  append_ok(out, "a\r\nb");
  EXPECT_EQ(out, "+OK a??b\r\n");
}

TEST(ResponseTest, DataLinesAreStuffedAndTerminated) {
  std::string out;
  append_data_line(out, "1 120");
  append_data_line(out, ".odd");
  append_terminator(out);
  EXPECT_EQ(out, "1 120\r\n..odd\r\n.\r\n");
}

}  // namespace
}  // namespace poplar::pop3
