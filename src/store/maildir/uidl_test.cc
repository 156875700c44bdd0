// Tests of the Maildir UIDL rules (uidl.h, docs/formats/maildir.md): syntax, hashing,
// duplicates. Must never: touch the file system. Single-threaded.
#include "store/maildir/uidl.h"

#include <gtest/gtest.h>

#include <set>

namespace poplar::store::maildir {
namespace {

TEST(MaildirUidlTest, RealisticBaseNameIsItsOwnUidl) {
  EXPECT_EQ(uidl_for_base_name("1700000000.M123P4242Q1.mail.example.org,S=10,W=12", 1),
            "1700000000.M123P4242Q1.mail.example.org,S=10,W=12");
}

TEST(MaildirUidlTest, UnsuitableBaseNamesAreHashedIntoValidUidls) {
  std::string long_name(71, 'a');
  for (std::string_view base : {std::string_view(long_name), std::string_view("has space"),
                                std::string_view(""), std::string_view("caf\xc3\xa9")}) {
    std::string uidl = uidl_for_base_name(base, 1);
    EXPECT_TRUE(is_valid_uidl(uidl)) << uidl;
    EXPECT_EQ(uidl.size(), 33u);
    EXPECT_EQ(uidl.front(), ':');
  }
  EXPECT_EQ(uidl_for_base_name(std::string(70, 'a'), 1), std::string(70, 'a'));
}

TEST(MaildirUidlTest, HashIsTheTruncatedSha256OfTheBaseName) {
  // SHA-256("") = e3b0c44298fc1c149afbf4c8996fb924 27ae41e4649b934ca495991b7852b855
  EXPECT_EQ(uidl_for_base_name("", 1), ":e3b0c44298fc1c149afbf4c8996fb924");
}

TEST(MaildirUidlTest, DuplicatesGetDistinctValidUidls) {
  std::set<std::string> seen;
  for (std::string_view base : {std::string_view("plain"), std::string_view("with space")}) {
    for (uint32_t k = 1; k <= 5; ++k) {
      std::string uidl = uidl_for_base_name(base, k);
      EXPECT_TRUE(is_valid_uidl(uidl)) << uidl;
      EXPECT_TRUE(seen.insert(uidl).second) << uidl;
    }
  }
  EXPECT_EQ(uidl_for_base_name("plain", 2), uidl_for_base_name("plain", 2));  // deterministic
}

TEST(MaildirUidlTest, MaximumOccurrenceStaysWithin70Characters) {
  EXPECT_TRUE(is_valid_uidl(uidl_for_base_name(std::string(200, 'x'), 4294967295u)));
}

}  // namespace
}  // namespace poplar::store::maildir
