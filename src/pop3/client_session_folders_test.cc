// Tests for client_session_folders.h: names the user gives, names as command arguments, and
// LFLD lines (atoms, quoted names with escapes, and every kind of bad line).
#include "pop3/client_session_folders.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace poplar::pop3 {
namespace {

using ::testing::HasSubstr;

FolderListing parsed(std::string_view line) {
  Result<FolderListing> r = parse_folder_listing(line);
  EXPECT_TRUE(r.is_ok()) << line << ": " << r.status().message();
  return r.is_ok() ? r.value() : FolderListing{};
}

std::string error_of(std::string_view line) {
  Result<FolderListing> r = parse_folder_listing(line);
  EXPECT_FALSE(r.is_ok()) << "parsed: " << line;
  if (r.is_ok()) {
    return "";
  }
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  return r.status().message();
}

TEST(FolderListingTest, AtomNamesAndCounts) {
  EXPECT_EQ(parsed("INBOX 2 5120"), (FolderListing{"INBOX", 2, 5120}));
  EXPECT_EQ(parsed("Archive/2024 10 81234"), (FolderListing{"Archive/2024", 10, 81234}));
  EXPECT_EQ(parsed("$Junk 0 0"), (FolderListing{"$Junk", 0, 0}));
}

TEST(FolderListingTest, QuotedNamesWithEscapes) {
  EXPECT_EQ(parsed("\"Sent Items\" 0 0"), (FolderListing{"Sent Items", 0, 0}));
  EXPECT_EQ(parsed(R"("say \"hi\"" 1 2)"), (FolderListing{"say \"hi\"", 1, 2}));
  EXPECT_EQ(parsed(R"("back\\slash" 3 4)"), (FolderListing{"back\\slash", 3, 4}));
  EXPECT_EQ(parsed(R"("50% off*" 5 6)"), (FolderListing{"50% off*", 5, 6}));
}

TEST(FolderListingTest, RunsOfSpacesBetweenFields_PR_C_3) {
  EXPECT_EQ(parsed("Archive   10   81234"), (FolderListing{"Archive", 10, 81234}));
  EXPECT_EQ(parsed("\"A B\"  1  2"), (FolderListing{"A B", 1, 2}));
}

TEST(FolderListingTest, LargestCountsFit) {
  EXPECT_EQ(parsed("Big 18446744073709551615 18446744073709551615").octets, UINT64_MAX);
  EXPECT_THAT(error_of("Big 1 18446744073709551616"), HasSubstr("not numbers"));
}

TEST(FolderListingTest, BadLinesAreClearErrorsWithTheLineSanitised) {
  EXPECT_THAT(error_of(""), HasSubstr("empty folder name"));
  EXPECT_THAT(error_of(" 1 2"), HasSubstr("empty folder name"));
  EXPECT_THAT(error_of("\"\" 1 2"), HasSubstr("empty folder name"));
  EXPECT_THAT(error_of("INBOX"), HasSubstr("expected: folder messages octets"));
  EXPECT_THAT(error_of("INBOX 1"), HasSubstr("expected: folder messages octets"));
  EXPECT_THAT(error_of("INBOX 1 2 3"), HasSubstr("expected: folder messages octets"));
  EXPECT_THAT(error_of("INBOX one 2"), HasSubstr("not numbers"));
  EXPECT_THAT(error_of("INBOX -1 2"), HasSubstr("not numbers"));
  EXPECT_THAT(error_of("\"Sent Items 1 2"), HasSubstr("does not end"));
  EXPECT_THAT(error_of("\"A\"B 1 2"), HasSubstr("no space after"));
  EXPECT_THAT(error_of(R"("a\b" 1 2)"), HasSubstr("may follow a backslash"));
  EXPECT_THAT(error_of("\"a\\"), HasSubstr("may follow a backslash"));
  EXPECT_THAT(error_of("a\"b 1 2"), HasSubstr("neither an atom nor quoted"));
  EXPECT_THAT(error_of("a%b 1 2"), HasSubstr("neither an atom nor quoted"));
  EXPECT_THAT(error_of("a\tb 1 2"), HasSubstr("neither an atom nor quoted"));
  EXPECT_THAT(error_of("\"a\x1b[31m\" 1 2"), HasSubstr("control character"));
  EXPECT_THAT(error_of("\"a\x1b[31m\" 1 2"), HasSubstr("\\x1b[31m"));
}

TEST(FolderListingTest, EightBitNamesOfAUtf8ServerAreKept) {
  EXPECT_EQ(parsed("Entw\xc3\xbcrfe 1 2").name, "Entw\xc3\xbcrfe");
  EXPECT_EQ(parsed("\"Gr\xc3\xbc\xc3\x9f\x65 \" 1 2").name, "Gr\xc3\xbc\xc3\x9f\x65 ");
}

TEST(FolderArgumentTest, AtomsAsTheyAreOthersQuoted) {
  EXPECT_EQ(folder_argument("Archive"), "Archive");
  EXPECT_EQ(folder_argument("Archive/2024"), "Archive/2024");
  EXPECT_EQ(folder_argument("Sent Items"), "\"Sent Items\"");
  EXPECT_EQ(folder_argument("a\"b"), R"("a\"b")");
  EXPECT_EQ(folder_argument("a\\b"), R"("a\\b")");
  EXPECT_EQ(folder_argument("50%"), "\"50%\"");
  EXPECT_EQ(folder_argument("*"), "\"*\"");
}

TEST(FolderArgumentTest, EveryArgumentParsesBackToItsName) {
  for (std::string name : {"Archive", "Sent Items", "a\"b", "a\\b", "50% *", "\"", "\\\\"}) {
    FolderListing back = parsed(folder_argument(name) + " 1 2");
    EXPECT_EQ(back.name, name);
  }
}

TEST(CheckFolderNameTest, RefusesWhatNoServerWouldTake) {
  EXPECT_TRUE(check_folder_name("Archive").is_ok());
  EXPECT_TRUE(check_folder_name("Sent Items").is_ok());
  EXPECT_TRUE(check_folder_name("Lists/poplar-dev").is_ok());
  EXPECT_TRUE(check_folder_name(std::string(kMaxFolderNameOctets, 'a')).is_ok());
  EXPECT_THAT(check_folder_name("").message(), HasSubstr("empty"));
  EXPECT_THAT(check_folder_name(std::string(kMaxFolderNameOctets + 1, 'a')).message(),
              HasSubstr("at most"));
  EXPECT_THAT(check_folder_name("a\r\nDELE 1").message(), HasSubstr("control"));
  EXPECT_THAT(check_folder_name("Entw\xc3\xbcrfe").message(), HasSubstr("ASCII"));
  for (std::string_view bad : {"/a", "a/", "a//b", "/"}) {
    EXPECT_THAT(check_folder_name(bad).message(), HasSubstr("empty level")) << bad;
  }
  for (std::string_view bad : {".", "..", "a/../b", "a/."}) {
    EXPECT_THAT(check_folder_name(bad).message(), HasSubstr("\".\" or \"..\"")) << bad;
  }
}

TEST(CheckFolderNameTest, InboxInAnyCase) {
  EXPECT_TRUE(is_inbox("INBOX"));
  EXPECT_TRUE(is_inbox("inbox"));
  EXPECT_TRUE(is_inbox("InBox"));
  EXPECT_FALSE(is_inbox("INBOX/sub"));
  EXPECT_FALSE(is_inbox("Archive"));
}

}  // namespace
}  // namespace poplar::pop3
