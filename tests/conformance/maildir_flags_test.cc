// Maildir-specific behaviour of flags (docs/formats/maildir.md "Flags"): the move new/ → cur/,
// info letters as written, unknown letters kept, the keywords file shared with Dovecot, the
// 26-keyword limit, stable UIDLs, and a next login that reads no message body.
// Must never: share a Maildir between tests. Single-threaded.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/fs/fault_injection_file_system.h"
#include "store/maildir/keywords_file.h"
#include "store/maildir/maildir_store.h"
#include "store/message_flags.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::conformance {
namespace {

using store::FlagChange;
using store::MaildropPtr;
using store::MessageFlags;
using store::SystemFlag;
namespace stdfs = std::filesystem;

std::string slurp(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

MessageFlags flags_of(std::string_view list) {
  Result<MessageFlags> flags = store::parse_flag_list(list);
  EXPECT_TRUE(flags.is_ok()) << list;
  return flags.is_ok() ? *flags : MessageFlags();
}

class MaildirFlagsTest : public ::testing::Test {
 protected:
  MaildirFlagsTest() : root_(dir_.path() / "Maildir"), builder_(root_) {}

  MaildropPtr open() {
    Result<MaildropPtr> drop = store_.open_maildrop(root_.string());
    EXPECT_TRUE(drop.is_ok()) << drop.status().to_string();
    return drop.is_ok() ? std::move(drop).value() : nullptr;
  }

  Status commit(std::vector<FlagChange> changes, std::vector<size_t> deletions = {}) {
    MaildropPtr drop = open();
    return drop ? drop->commit_update(deletions, changes) : Status::temporary("no drop");
  }

  std::vector<std::string> files() const { return builder_.files(); }

  testing::TempDir dir_;
  stdfs::path root_;
  testing::MaildirBuilder builder_;
  store::maildir::MaildirStore store_{store::fs::posix_file_system()};
};

TEST_F(MaildirFlagsTest, NewMailMovesToCurWithItsInfoAndKeepsItsUidl) {
  std::string rel = builder_.add("Subject: a\n\nbody\n");
  std::string base = rel.substr(4);
  ASSERT_TRUE(commit({{0, flags_of("\\Seen \\Answered")}}).is_ok());
  EXPECT_EQ(files(), std::vector<std::string>{"cur/" + base + ":2,RS"});
  MaildropPtr drop = open();
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(drop->messages()[0].uidl, base);
  EXPECT_EQ(drop->messages()[0].size_octets, 20u);
}

TEST_F(MaildirFlagsTest, LettersAreWrittenInAsciiOrder) {
  builder_.add("x\n");
  ASSERT_TRUE(
      commit({{0, flags_of("\\Seen \\Draft \\Deleted \\Flagged \\Answered $Forwarded")}}).is_ok());
  ASSERT_EQ(files().size(), 1u);
  EXPECT_TRUE(files()[0].ends_with(":2,DFPRST")) << files()[0];
  EXPECT_FALSE(stdfs::exists(root_ / "dovecot-keywords"));  // $Forwarded is P, not a keyword
  MaildropPtr drop = open();
  EXPECT_EQ(format_flags(drop->flags(0)),
            "\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded");
}

TEST_F(MaildirFlagsTest, UnknownLettersAreKept) {
  builder_.add({.bytes = "x\n", .in_cur = true, .flags = "7SXz"});
  {
    MaildropPtr drop = open();
    EXPECT_EQ(format_flags(drop->flags(0)), "\\Seen");  // 'z' is mapped by no keywords file
  }
  ASSERT_TRUE(commit({{0, flags_of("\\Flagged")}}).is_ok());
  ASSERT_EQ(files().size(), 1u);
  EXPECT_TRUE(files()[0].ends_with(":2,7FXz")) << files()[0];
}

TEST_F(MaildirFlagsTest, OddInfoCarriesNoFlagsAndIsReplaced) {
  builder_.add({.bytes = "x\n", .in_cur = true});
  std::string name = files()[0];
  std::string base = name.substr(4, name.find(':') - 4);
  stdfs::rename(root_ / name, root_ / ("cur/" + base + ":1,experimental"));
  {
    MaildropPtr drop = open();
    EXPECT_TRUE(drop->flags(0).empty());
  }
  ASSERT_TRUE(commit({{0, flags_of("\\Seen")}}).is_ok());
  EXPECT_EQ(files(), std::vector<std::string>{"cur/" + base + ":2,S"});
}

TEST_F(MaildirFlagsTest, KeywordsGoToDovecotsFileWithDovecotsLetters) {
  std::ofstream(root_ / "dovecot-keywords") << "0 $Theirs\n";
  builder_.add({.bytes = "1\n", .in_cur = true, .flags = "Sa"});
  builder_.add("2\n");
  builder_.add("3\n");
  {
    MaildropPtr drop = open();
    EXPECT_EQ(format_flags(drop->flags(0)), "\\Seen $Theirs");
  }
  ASSERT_TRUE(
      commit({{1, flags_of("$Junk $theirs")}, {2, flags_of("\\Seen $Label1 $Junk")}}).is_ok());
  EXPECT_EQ(slurp(root_ / "dovecot-keywords"), "0 $Theirs\n1 $Junk\n2 $Label1\n");
  std::vector<std::string> names = files();
  ASSERT_EQ(names.size(), 3u);
  EXPECT_TRUE(names[0].ends_with(":2,Sa")) << names[0];
  EXPECT_TRUE(names[1].ends_with(":2,ab")) << names[1];
  EXPECT_TRUE(names[2].ends_with(":2,Sbc")) << names[2];
  EXPECT_FALSE(stdfs::exists(root_ / "dovecot-keywords.lock"));
  MaildropPtr drop = open();
  EXPECT_EQ(format_flags(drop->flags(1)), "$Junk $Theirs");
  EXPECT_EQ(format_flags(drop->flags(2)), "\\Seen $Junk $Label1");
}

TEST_F(MaildirFlagsTest, ANewKeywordNeverTakesALetterThatNamesUseUnmapped) {
  // No keywords file (lost), but a name uses 'a' and 'c': those letters stay unknown.
  builder_.add({.bytes = "1\n", .in_cur = true, .flags = "Sac"});
  builder_.add("2\n");
  ASSERT_TRUE(commit({{1, flags_of("$Junk $Label1")}}).is_ok());
  EXPECT_EQ(slurp(root_ / "dovecot-keywords"), "1 $Junk\n3 $Label1\n");
  MaildropPtr drop = open();
  EXPECT_EQ(format_flags(drop->flags(0)), "\\Seen");
  EXPECT_EQ(format_flags(drop->flags(1)), "$Junk $Label1");
}

TEST_F(MaildirFlagsTest, TheTwentySeventhKeywordIsKLimitAndNothingChanges) {
  std::string file_text;
  for (int i = 0; i < 25; ++i) {
    file_text += std::to_string(i) + " k" + std::to_string(i) + "\n";
  }
  std::ofstream(root_ / "dovecot-keywords") << file_text;
  builder_.add("1\n");
  builder_.add("2\n");
  builder_.add("3\n");
  std::vector<std::string> before = files();
  // The 26th fits; the 27th does not, and then nothing at all is done, not even the removal.
  Status status = commit({{0, flags_of("k0 twenty-six")}, {1, flags_of("twenty-seven")}}, {2});
  EXPECT_EQ(status.code(), ErrorCode::kLimit) << status.to_string();
  EXPECT_EQ(files(), before);
  EXPECT_EQ(slurp(root_ / "dovecot-keywords"), file_text);
  ASSERT_TRUE(commit({{0, flags_of("k0 twenty-six")}}).is_ok());
  EXPECT_EQ(slurp(root_ / "dovecot-keywords"), file_text + "25 twenty-six\n");
  EXPECT_EQ(commit({{1, flags_of("twenty-seven")}}).code(), ErrorCode::kLimit);
}

TEST_F(MaildirFlagsTest, TheNextLoginReadsNoBodyAfterFlagChanges) {
  for (int i = 0; i < 4; ++i) {
    builder_.add("Subject: " + std::to_string(i) + "\n\nbody\n");  // no ,W=: sizes from the index
  }
  std::vector<std::string> uidls;
  {
    MaildropPtr drop = open();  // reads them once and writes the index
    for (const auto& m : drop->messages()) {
      uidls.emplace_back(m.uidl);
    }
    const std::vector<FlagChange> changes = {{0, flags_of("\\Seen")}, {2, flags_of("$Junk")}};
    ASSERT_TRUE(drop->commit_update({}, changes).is_ok());
  }
  store::fs::FaultInjectionFileSystem counting(store::fs::posix_file_system());
  store::maildir::MaildirStore store(counting);
  Result<MaildropPtr> drop = store.open_maildrop(root_.string());
  ASSERT_TRUE(drop.is_ok());
  EXPECT_EQ(counting.count(store::fs::FaultInjectionFileSystem::Op::kOpenForRead, "/cur/"), 0u);
  EXPECT_EQ(counting.count(store::fs::FaultInjectionFileSystem::Op::kOpenForRead, "/new/"), 0u);
  ASSERT_EQ((*drop)->messages().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*drop)->messages()[i].uidl, uidls[i]);
    EXPECT_EQ((*drop)->messages()[i].size_octets, 20u);
  }
  EXPECT_EQ(format_flags((*drop)->flags(0)), "\\Seen");
  EXPECT_EQ(format_flags((*drop)->flags(2)), "$Junk");
}

TEST_F(MaildirFlagsTest, AMessageMovedByAnotherProgramIsFoundAndRenamed) {
  std::string rel = builder_.add("x\n");
  MaildropPtr drop = open();
  builder_.set_flags(rel, "SZ");  // an IMAP client marks it seen, with a letter Poplar ignores
  ASSERT_TRUE(drop->commit_update({}, std::vector<FlagChange>{{0, flags_of("\\Flagged")}}).is_ok());
  EXPECT_EQ(files(), std::vector<std::string>{"cur/" + rel.substr(4) + ":2,FZ"});
  EXPECT_EQ(format_flags(drop->flags(0)), "\\Flagged");
}

TEST_F(MaildirFlagsTest, AFileOfADuplicateBaseNameIsNeverReplaced) {
  std::string rel = builder_.add("copy one\n");
  std::string base = rel.substr(4);
  builder_.add({.bytes = "copy two\n", .in_cur = true, .flags = "S", .base_name = base});
  std::vector<std::string> before = files();
  ASSERT_EQ(before.size(), 2u);
  MaildropPtr drop = open();
  ASSERT_EQ(drop->messages().size(), 2u);
  size_t in_new = drop->flags(0).empty() ? 0 : 1;
  Status status = drop->commit_update({}, std::vector<FlagChange>{{in_new, flags_of("\\Seen")}});
  EXPECT_EQ(status.code(), ErrorCode::kTemporary) << status.to_string();
  EXPECT_EQ(files(), before);
}

TEST_F(MaildirFlagsTest, AnUnreadableKeywordsFileChangesNothing) {
  builder_.add("x\n");
  stdfs::create_directory(root_ / "dovecot-keywords");  // reading it fails (not a file)
  std::vector<std::string> before = files();
  Status status = commit({{0, flags_of("\\Seen")}}, {0});
  EXPECT_FALSE(status.is_ok());
  EXPECT_EQ(files(), before);
}

}  // namespace
}  // namespace poplar::conformance
