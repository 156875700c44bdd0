// Tests for mail_location.h: template validation, relative resolution and per-user expansion.
#include "config/mail_location.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace poplar::config {
namespace {

using ::testing::HasSubstr;

std::string expand_ok(std::string_view location, const MailUser& fields) {
  Result<std::string> r = expand_mail_location(location, fields);
  EXPECT_TRUE(r.is_ok()) << location << ": " << r.status().to_string();
  return r.is_ok() ? *r : "";
}

std::string expand_error(std::string_view location, const MailUser& fields) {
  Result<std::string> r = expand_mail_location(location, fields);
  EXPECT_FALSE(r.is_ok()) << location << " expanded to " << (r.is_ok() ? *r : "");
  if (r.is_ok()) {
    return "";
  }
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  return r.status().message();
}

const MailUser kAlice{"alice@example.org", "/home/alice"};

TEST(MailLocationTest, ExpandsEveryEscape) {
  EXPECT_EQ(expand_ok("maildir:%h/Maildir", kAlice), "/home/alice/Maildir");
  EXPECT_EQ(expand_ok("maildir:/var/mail/%u", kAlice), "/var/mail/alice@example.org");
  EXPECT_EQ(expand_ok("maildir:/var/mail/%d/%n", kAlice), "/var/mail/example.org/alice");
  EXPECT_EQ(expand_ok("maildir:/srv/100%%/%n", kAlice), "/srv/100%/alice");
  EXPECT_EQ(expand_ok("maildir:/plain/path", kAlice), "/plain/path");
}

TEST(MailLocationTest, DomainIsEmptyWithoutAt) {
  MailUser bob{"bob", "/home/bob"};
  EXPECT_EQ(expand_ok("maildir:/var/mail/%d/%n", bob), "/var/mail//bob");
  EXPECT_EQ(expand_ok("maildir:/var/mail/%n", bob), "/var/mail/bob");
}

TEST(MailLocationTest, DomainIsAfterTheLastAt) {
  MailUser odd{"a@b@example.org", "/h"};
  EXPECT_EQ(expand_ok("maildir:/m/%d/%n", odd), "/m/example.org/a@b");
}

TEST(MailLocationTest, RefusesUnknownAndUnfinishedEscapes) {
  EXPECT_THAT(expand_error("maildir:/var/%x", kAlice), HasSubstr("unknown escape \"%x\""));
  EXPECT_THAT(expand_error("maildir:/var/%", kAlice), HasSubstr("unfinished"));
  EXPECT_THAT(expand_error("maildir:/var/%U", kAlice), HasSubstr("unknown escape \"%U\""));
}

TEST(MailLocationTest, RefusesOtherSchemes) {
  EXPECT_THAT(expand_error("mbox:/var/mail/%u", kAlice),
              HasSubstr("scheme \"mbox\" is not supported"));
  EXPECT_THAT(expand_error("/var/mail/%u", kAlice), HasSubstr("must start with \"maildir:\""));
}

TEST(MailLocationTest, RefusesEmptyAndRelativeResults) {
  EXPECT_THAT(expand_error("maildir:", kAlice), HasSubstr("empty"));
  EXPECT_THAT(expand_error("maildir:%d", MailUser{"bob", "/h"}), HasSubstr("empty"));
  EXPECT_THAT(expand_error("maildir:mail/%u", kAlice), HasSubstr("relative"));
  EXPECT_THAT(expand_error("maildir:~/Maildir", kAlice), HasSubstr("use %h"));
}

TEST(MailLocationTest, RefusesMissingOrRelativeHome) {
  EXPECT_THAT(expand_error("maildir:%h/Maildir", MailUser{"bob", ""}),
              HasSubstr("has no home directory"));
  EXPECT_THAT(expand_error("maildir:%h/Maildir", MailUser{"bob", "home/bob"}),
              HasSubstr("is not absolute"));
}

TEST(MailLocationTest, UserDerivedPartsCannotLeaveTheirDirectory) {
  EXPECT_THAT(expand_error("maildir:/var/mail/%u", MailUser{"../root", "/h"}),
              HasSubstr("cannot be used in a path"));
  EXPECT_THAT(expand_error("maildir:/var/mail/%u", MailUser{"..", "/h"}),
              HasSubstr("cannot be used in a path"));
  EXPECT_THAT(expand_error("maildir:/var/mail/%n", MailUser{"a/b@x", "/h"}),
              HasSubstr("cannot be used in a path"));
  EXPECT_THAT(expand_error("maildir:/var/mail/%d/%n", MailUser{"a@..", "/h"}),
              HasSubstr("cannot be used in a path"));
  EXPECT_THAT(expand_error("maildir:/var/mail/%n", MailUser{"@example.org", "/h"}),
              HasSubstr("local part"));
  EXPECT_THAT(expand_error("maildir:/var/mail/%u", MailUser{std::string("a\0b", 3), "/h"}),
              HasSubstr("cannot be used in a path"));
  // Unused escapes do not matter: a '/' in the user name is fine when only %h is used.
  EXPECT_EQ(expand_ok("maildir:%h/Maildir", MailUser{"a/b", "/home/ab"}), "/home/ab/Maildir");
}

TEST(MailLocationTest, ValidateKeepsAbsoluteAndHomeTemplates) {
  EXPECT_EQ(*validate_mail_location("maildir:/var/mail/%u", "/etc/poplar"), "maildir:/var/mail/%u");
  EXPECT_EQ(*validate_mail_location("maildir:%h/Maildir", "/etc/poplar"), "maildir:%h/Maildir");
}

TEST(MailLocationTest, ValidateMakesRelativeTemplatesAbsolute) {
  EXPECT_EQ(*validate_mail_location("maildir:mail/%u", "/etc/poplar"),
            "maildir:/etc/poplar/mail/%u");
  EXPECT_EQ(*validate_mail_location("maildir:%u/Maildir", "/srv/"), "maildir:/srv/%u/Maildir");
}

TEST(MailLocationTest, ValidateEscapesPercentInBaseDir) {
  Result<std::string> r = validate_mail_location("maildir:%n", "/data/100%");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, "maildir:/data/100%%/%n");
  EXPECT_EQ(expand_ok(*r, kAlice), "/data/100%/alice");
}

TEST(MailLocationTest, ValidateRefusesBadTemplates) {
  EXPECT_FALSE(validate_mail_location("maildir:", "/b").is_ok());
  EXPECT_FALSE(validate_mail_location("maildir:/x/%q", "/b").is_ok());
  EXPECT_FALSE(validate_mail_location("maildir:/x/%", "/b").is_ok());
  EXPECT_FALSE(validate_mail_location("maildir:~/Maildir", "/b").is_ok());
  EXPECT_FALSE(validate_mail_location("mbox:/x", "/b").is_ok());
  EXPECT_FALSE(validate_mail_location(":/x", "/b").is_ok());
  EXPECT_FALSE(validate_mail_location("", "/b").is_ok());
}

}  // namespace
}  // namespace poplar::config
