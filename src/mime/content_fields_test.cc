// Tests of interpret_content_fields: media types, boundaries, RFC 2231 and RFC 2047 names, and
// what never reaches a PART listing (control characters, invalid UTF-8, overlong names).
// Single-threaded.
#include "mime/content_fields.h"

#include <gtest/gtest.h>

namespace poplar::mime {
namespace {

ContentFields interpret(std::optional<std::string> type,
                        std::optional<std::string> disposition = {},
                        std::optional<std::string> encoding = {}) {
  return interpret_content_fields(RawContentFields{type, disposition, encoding});
}

TEST(ContentFieldsTest, TypeIsLowerCaseTypeSlashSubtype) {
  EXPECT_EQ(interpret(" TeXt/HTML; charset=utf-8").type, "text/html");
  EXPECT_EQ(interpret("multipart/mixed; boundary=\"a b\"").boundary, "a b");
}

TEST(ContentFieldsTest, AbsentOrInvalidTypeIsEmpty) {
  EXPECT_EQ(interpret(std::nullopt).type, "");
  EXPECT_EQ(interpret("garbage").type, "");
  EXPECT_EQ(interpret("").type, "");
  EXPECT_EQ(interpret("te\"xt/plain").type, "");
}

TEST(ContentFieldsTest, Rfc2231FilenameIsDecoded) {
  ContentFields f = interpret(
      "application/pdf", "attachment; filename*0*=utf-8''R%C3%A9sum%C3%A9; filename*1=\".pdf\"");
  EXPECT_EQ(f.name, "R\xC3\xA9sum\xC3\xA9.pdf");
  EXPECT_EQ(interpret("application/pdf", "attachment; filename*=iso-8859-1''%E4rger.pdf").name,
            "\xC3\xA4rger.pdf");
}

TEST(ContentFieldsTest, Rfc2047NameIsDecoded) {
  EXPECT_EQ(interpret("application/pdf; name=\"=?utf-8?B?w6TDtsO8LnBkZg==?=\"").name,
            "\xC3\xA4\xC3\xB6\xC3\xBC.pdf");
}

TEST(ContentFieldsTest, DispositionFilenameWinsOverTypeName) {
  EXPECT_EQ(interpret("application/pdf; name=a.pdf", "attachment; filename=b.pdf").name, "b.pdf");
  EXPECT_EQ(interpret("application/pdf; name=a.pdf", "attachment").name, "a.pdf");
}

TEST(ContentFieldsTest, NameNeverHoldsControlCharactersOrInvalidUtf8) {
  EXPECT_EQ(interpret("x/y", "attachment; filename=\"a\r\nb\tc.pdf\"").name, "a  b c.pdf");
  EXPECT_EQ(interpret("x/y", "attachment; filename*=utf-8''%FF%C2%85z").name,
            "\xEF\xBF\xBD z");  // invalid octet → U+FFFD, C1 control NEL → space
  std::string long_name(400, 'x');
  EXPECT_EQ(interpret("x/y", "attachment; filename=" + long_name).name.size(), kMaxNameOctets);
  // Cut at a character boundary: 200 two-octet characters give 127 of them.
  std::string wide;
  for (int i = 0; i < 200; ++i) {
    wide += "%C3%A9";
  }
  EXPECT_EQ(interpret("x/y", "attachment; filename*=utf-8''" + wide).name.size(), 254u);
}

TEST(ContentFieldsTest, EncodedTransferEncodings) {
  EXPECT_TRUE(interpret("message/rfc822", {}, " Base64 ").encoded);
  EXPECT_TRUE(interpret("message/rfc822", {}, "quoted-printable").encoded);
  EXPECT_FALSE(interpret("message/rfc822", {}, "7bit").encoded);
  EXPECT_FALSE(interpret("message/rfc822").encoded);
}

}  // namespace
}  // namespace poplar::mime
