// Tests of the keywords file (keywords_file.h): Dovecot's dovecot-keywords format, lenient
// reading, atomic writing under Dovecot's dotlock name.
#include "store/maildir/keywords_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/fs/fault_injection_file_system.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(KeywordsFileTest, ParsesDovecotLines) {
  KeywordTable table = KeywordTable::parse("0 $Junk\n1 $NonJunk\n3 $Label1\n");
  EXPECT_EQ(table.keyword('a'), "$Junk");
  EXPECT_EQ(table.keyword('b'), "$NonJunk");
  EXPECT_EQ(table.keyword('c'), "");
  EXPECT_EQ(table.keyword('d'), "$Label1");
  EXPECT_EQ(table.keyword('A'), "");
  EXPECT_EQ(table.letter_of("$junk"), 'a');
  EXPECT_FALSE(table.letter_of("$Other"));
  EXPECT_FALSE(table.changed());
  EXPECT_EQ(table.format(), "0 $Junk\n1 $NonJunk\n3 $Label1\n");
}

TEST(KeywordsFileTest, IgnoresWhatItCannotUse) {
  KeywordTable table = KeywordTable::parse(
      "garbage\n26 $TooFar\n-1 $Neg\nx $NotANumber\n0 $First\n0 $Second\n1 two words\n"
      "2 $first\n\n4 $Fine\r\n5 $Last");
  EXPECT_EQ(table.keyword('a'), "$First");
  EXPECT_EQ(table.keyword('b'), "");  // not an atom
  EXPECT_EQ(table.keyword('c'), "");  // the same keyword twice: the first letter counts
  EXPECT_EQ(table.keyword('e'), "");  // CR is not part of an atom
  EXPECT_EQ(table.keyword('f'), "$Last");
  // Lines with a letter but an unusable name are written back as they were, and their letters
  // are never given out.
  EXPECT_EQ(table.format(), "0 $First\n5 $Last\n1 two words\n2 $first\n4 $Fine\r\n");
  EXPECT_EQ(KeywordTable::parse(table.format()).format(), table.format());
  EXPECT_EQ(*table.add("$New"), 'd');
  EXPECT_EQ(*table.add("$Newer"), 'g');
}

TEST(KeywordsFileTest, AKeywordOnTwoLinesKeepsItsFirstLetterAfterARewrite) {
  KeywordTable table = KeywordTable::parse("7 $Dup\n2 $dup\n");
  EXPECT_EQ(table.letter_of("$DUP"), 'h');
  KeywordTable again = KeywordTable::parse(table.format());
  EXPECT_EQ(again.letter_of("$DUP"), 'h');
  EXPECT_EQ(again.keyword('c'), "");
}

TEST(KeywordsFileTest, ReservedLettersAreSkipped) {
  KeywordTable table;
  table.reserve('a');
  table.reserve('c');
  table.reserve('A');  // not a keyword letter: ignored
  EXPECT_EQ(*table.add("$X"), 'b');
  EXPECT_EQ(*table.add("$Y"), 'd');
  EXPECT_EQ(table.keyword('a'), "");
  EXPECT_EQ(table.format(), "1 $X\n3 $Y\n");
}

TEST(KeywordsFileTest, AddUsesTheFirstFreeLetterAndNeverMovesOthers) {
  KeywordTable table = KeywordTable::parse("1 $B\n");
  EXPECT_EQ(*table.add("$B"), 'b');
  EXPECT_FALSE(table.changed());
  EXPECT_EQ(*table.add("$A"), 'a');
  EXPECT_EQ(*table.add("$C"), 'c');
  EXPECT_TRUE(table.changed());
  EXPECT_EQ(table.format(), "0 $A\n1 $B\n2 $C\n");
  for (int i = 3; i < 26; ++i) {
    ASSERT_TRUE(table.add("k" + std::to_string(i)).is_ok());
  }
  EXPECT_EQ(table.add("k26").status().code(), ErrorCode::kLimit);
  EXPECT_EQ(*table.add("K3"), 'd');  // known, in any case: still fine when full
}

TEST(KeywordsFileTest, MissingFileIsEmptyAndWritesAreAtomic) {
  testing::TempDir dir;
  const std::string maildir = dir.path().string();
  fs::FileSystem& fs = fs::posix_file_system();
  Result<KeywordTable> read = read_keywords_file(fs, maildir);
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->format(), "");
  ASSERT_TRUE(read->add("$Junk").is_ok());
  ASSERT_TRUE(write_keywords_file(fs, maildir, *read).is_ok());
  EXPECT_EQ(slurp(dir.path() / "dovecot-keywords"), "0 $Junk\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "dovecot-keywords.lock"));
  Result<KeywordTable> again = read_keywords_file(fs, maildir);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->keyword('a'), "$Junk");
}

TEST(KeywordsFileTest, AFreshLockOfAnotherWriterIsRespectedAStaleOneRemoved) {
  testing::TempDir dir;
  const std::string maildir = dir.path().string();
  std::ofstream(dir.path() / "dovecot-keywords") << "0 $Theirs\n";
  std::ofstream(dir.path() / "dovecot-keywords.lock") << "half written";
  fs::FaultInjectionFileSystem fs(fs::posix_file_system());
  KeywordTable table = *read_keywords_file(fs, maildir);
  ASSERT_TRUE(table.add("$Mine").is_ok());
  EXPECT_EQ(write_keywords_file(fs, maildir, table).code(), ErrorCode::kTemporary);
  EXPECT_EQ(slurp(dir.path() / "dovecot-keywords"), "0 $Theirs\n");
  fs.set_now_offset_ns((kStaleLockSeconds + 10) * int64_t{1'000'000'000});
  ASSERT_TRUE(write_keywords_file(fs, maildir, table).is_ok());
  EXPECT_EQ(slurp(dir.path() / "dovecot-keywords"), "0 $Theirs\n1 $Mine\n");
}

TEST(KeywordsFileTest, AHugeFileIsAnErrorNotACrash) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "dovecot-keywords") << std::string(kMaxKeywordsFileBytes + 1, 'x');
  EXPECT_EQ(read_keywords_file(fs::posix_file_system(), dir.path().string()).status().code(),
            ErrorCode::kLimit);
}

TEST(KeywordsFileTest, EveryFailingWriteLeavesTheOldFile) {
  testing::TempDir dir;
  const std::string maildir = dir.path().string();
  std::ofstream(dir.path() / "dovecot-keywords") << "0 $Old\n";
  for (uint64_t n = 1; n <= 8; ++n) {
    fs::FaultInjectionFileSystem fs(fs::posix_file_system());
    KeywordTable table = *read_keywords_file(fs, maildir);
    ASSERT_TRUE(table.add("$New").is_ok());
    fs.reset();
    fs.fail_at(n, EIO);
    Status status = write_keywords_file(fs, maildir, table);
    std::string text = slurp(dir.path() / "dovecot-keywords");
    EXPECT_TRUE(text == "0 $Old\n" || text == "0 $Old\n1 $New\n") << n << ": " << text;
    if (!status.is_ok()) {
      EXPECT_FALSE(std::filesystem::exists(dir.path() / "dovecot-keywords.lock")) << n;
    }
    std::ofstream(dir.path() / "dovecot-keywords", std::ios::trunc) << "0 $Old\n";
  }
}

}  // namespace
}  // namespace poplar::store::maildir
