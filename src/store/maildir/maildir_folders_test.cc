// MaildirFolders specifics (the behaviour every backend shares is tests/conformance/
// store_folders_conformance_test.cc): the Dovecot layout of what STOR and COPY write (folder
// directory, maildirfolder, cur/<name>:2,<letters>, dovecot-keywords), COPY by link, the
// keyword limit, letters a lost keywords file leaves in names, a dropped STOR's tmp/ file,
// copying from another backend.
// Must never: depend on the order tests run in. Single-threaded.
#include "store/maildir/maildir_folders.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/maildir/maildir_maildrop.h"
#include "store/maildir/maildir_store.h"
#include "store/memory/memory_store.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

namespace stdfs = std::filesystem;

std::vector<std::string> entries(const stdfs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : stdfs::directory_iterator(dir)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

MessageFlags flags_of(std::string_view list) { return *parse_flag_list(list); }

class MaildirFoldersTest : public ::testing::Test {
 protected:
  MaildirFoldersTest() : root_(dir_.path() / "Maildir"), builder_(root_) {
    builder_.add("Subject: one\n\nfirst\n");
    builder_.add({.bytes = "Subject: two\n\nsecond\n", .in_cur = true, .flags = "FS"});
    Result<MaildropPtr> drop = store_.open_maildrop(root_.string());
    EXPECT_TRUE(drop.is_ok()) << drop.status().to_string();
    inbox_ = std::move(drop).value();
  }

  Folders& folders() { return *inbox_->folders(); }

  std::string store_message(std::string_view target, std::string_view wire,
                            const MessageFlags& flags) {
    Result<FolderMessageWriterPtr> writer = folders().begin_store(target, flags);
    EXPECT_TRUE(writer.is_ok()) << writer.status().to_string();
    if (!writer.is_ok()) {
      return "";
    }
    EXPECT_TRUE((*writer)->write(wire).is_ok());
    Result<std::string> path = (*writer)->commit();
    EXPECT_TRUE(path.is_ok()) << path.status().to_string();
    return std::string((*writer)->uidl());
  }

  testing::TempDir dir_;
  stdfs::path root_;
  testing::MaildirBuilder builder_;
  MaildirStore store_{fs::posix_file_system()};
  MaildropPtr inbox_;
};

TEST_F(MaildirFoldersTest, StoreWritesDovecotsLayout) {
  ASSERT_TRUE(folders().create("Sent Items").is_ok());
  const std::string uidl =
      store_message("Sent Items", "Subject: s\r\n\r\nsent\r\n", flags_of("\\Seen $Junk"));
  const stdfs::path folder = root_ / ".Sent Items";
  EXPECT_TRUE(stdfs::is_regular_file(folder / "maildirfolder"));
  EXPECT_EQ(slurp(folder / "dovecot-keywords"), "0 $Junk\n");
  std::vector<std::string> cur = entries(folder / "cur");
  ASSERT_EQ(cur.size(), 1u);
  // $Junk is keyword 0, letter 'a'; letters in ASCII order: "Sa".
  EXPECT_TRUE(cur[0].ends_with(":2,Sa")) << cur[0];
  EXPECT_EQ(cur[0].substr(0, cur[0].find(':')), uidl);  // a plain base name is its UIDL
  EXPECT_EQ(slurp(folder / "cur" / cur[0]), "Subject: s\n\nsent\n");
  EXPECT_TRUE(entries(folder / "new").empty());
  EXPECT_TRUE(entries(folder / "tmp").empty());
  // The root's keywords file is not touched: keywords are per folder.
  EXPECT_FALSE(stdfs::exists(root_ / "dovecot-keywords"));
}

TEST_F(MaildirFoldersTest, StoreWithoutFlagsGoesToNew) {
  ASSERT_TRUE(folders().create("Drafts").is_ok());
  const std::string uidl = store_message("Drafts", "a\r\n", {});
  std::vector<std::string> fresh = entries(root_ / ".Drafts" / "new");
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0], uidl);
  EXPECT_TRUE(fresh[0].ends_with(",S=2,W=3")) << fresh[0];
  EXPECT_TRUE(entries(root_ / ".Drafts" / "cur").empty());
}

TEST_F(MaildirFoldersTest, ADroppedStoreRemovesItsTmpFile) {
  ASSERT_TRUE(folders().create("Drafts").is_ok());
  {
    Result<FolderMessageWriterPtr> writer = folders().begin_store("Drafts", flags_of("\\Seen"));
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->write("Subject: lost\r\n\r\n").is_ok());
    EXPECT_EQ(entries(root_ / ".Drafts" / "tmp").size(), 1u);  // streamed, not held
  }
  EXPECT_TRUE(entries(root_ / ".Drafts" / "tmp").empty());
  EXPECT_TRUE(entries(root_ / ".Drafts" / "new").empty());
  EXPECT_TRUE(entries(root_ / ".Drafts" / "cur").empty());
}

TEST_F(MaildirFoldersTest, CopyLinksTheFileAndGivesExactlyTheFlags) {
  ASSERT_TRUE(folders().create("Archive").is_ok());
  // Message 1 is cur/<base>:2,FS; the copy is to have $Label1 and \Answered only.
  ASSERT_TRUE(
      folders().copy_message(*inbox_, 1, "Archive", flags_of("\\Answered $Label1")).is_ok());
  ASSERT_TRUE(folders().copy_message(*inbox_, 0, "Archive", {}).is_ok());
  std::vector<std::string> cur = entries(root_ / ".Archive" / "cur");
  std::vector<std::string> fresh = entries(root_ / ".Archive" / "new");
  ASSERT_EQ(cur.size(), 1u);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_TRUE(cur[0].ends_with(":2,Ra")) << cur[0];
  EXPECT_EQ(fresh[0].find(':'), std::string::npos);
  EXPECT_EQ(slurp(root_ / ".Archive" / "dovecot-keywords"), "0 $Label1\n");
  // A second name of the same inode, so it costs no space.
  std::vector<std::string> inbox_cur = entries(root_ / "cur");
  ASSERT_EQ(inbox_cur.size(), 1u);
  struct stat a {};
  struct stat b {};
  ASSERT_EQ(::stat((root_ / "cur" / inbox_cur[0]).c_str(), &a), 0);
  ASSERT_EQ(::stat((root_ / ".Archive" / "cur" / cur[0]).c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_TRUE(inbox_cur[0].ends_with(":2,FS"));  // the source keeps its name and flags
}

TEST_F(MaildirFoldersTest, ATwentySeventhKeywordCopiesAndStoresNothing) {
  ASSERT_TRUE(folders().create("Full").is_ok());
  std::string text;
  for (int i = 0; i < 26; ++i) {
    text += std::to_string(i) + " k" + std::to_string(i) + "\n";
  }
  std::ofstream(root_ / ".Full" / "dovecot-keywords") << text;
  EXPECT_EQ(folders().copy_message(*inbox_, 0, "Full", flags_of("$Junk")).code(),
            ErrorCode::kLimit);
  EXPECT_EQ(folders().begin_store("Full", flags_of("\\Seen $Junk")).status().code(),
            ErrorCode::kLimit);
  EXPECT_TRUE(entries(root_ / ".Full" / "new").empty());
  EXPECT_TRUE(entries(root_ / ".Full" / "cur").empty());
  EXPECT_TRUE(entries(root_ / ".Full" / "tmp").empty());
  EXPECT_EQ(slurp(root_ / ".Full" / "dovecot-keywords"), text);
  // A keyword the folder knows already costs nothing.
  EXPECT_TRUE(folders().copy_message(*inbox_, 0, "Full", flags_of("k25")).is_ok());
}

TEST_F(MaildirFoldersTest, ANewKeywordNeverTakesALetterThatNamesUse) {
  ASSERT_TRUE(folders().create("Lost").is_ok());
  // A message carries letter 'a' but the keywords file is gone: 'a' stays unmapped.
  testing::MaildirBuilder lost(root_ / ".Lost");
  lost.add({.bytes = "x\n", .in_cur = true, .flags = "a"});
  ASSERT_TRUE(folders().copy_message(*inbox_, 0, "Lost", flags_of("$Junk")).is_ok());
  EXPECT_EQ(slurp(root_ / ".Lost" / "dovecot-keywords"), "1 $Junk\n");
}

TEST_F(MaildirFoldersTest, FolderMaildropsHaveTheirOwnLockAndNoFolders) {
  ASSERT_TRUE(folders().create("A").is_ok());
  Result<MaildropPtr> a = folders().open("A");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ((*a)->folders(), nullptr);
  EXPECT_TRUE(stdfs::exists(root_ / ".A" / std::string(kLockFileName)));
  // Opening a missing folder never makes one.
  EXPECT_EQ(folders().open("Missing").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(folders().counts("Missing").status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(stdfs::exists(root_ / ".Missing"));
}

TEST_F(MaildirFoldersTest, CopiesFromAnotherBackendByStoringIt) {
  memory::MemoryStore memory;
  memory.add_message("x", "Subject: far\n\naway\n");
  Result<MaildropPtr> foreign = memory.open_maildrop("x");
  ASSERT_TRUE(foreign.is_ok());
  ASSERT_TRUE(folders().create("Imported").is_ok());
  ASSERT_TRUE(folders().copy_message(**foreign, 0, "Imported", flags_of("\\Seen")).is_ok());
  std::vector<std::string> cur = entries(root_ / ".Imported" / "cur");
  ASSERT_EQ(cur.size(), 1u);
  EXPECT_TRUE(cur[0].ends_with(":2,S"));
  EXPECT_EQ(slurp(root_ / ".Imported" / "cur" / cur[0]), "Subject: far\n\naway\n");
  Result<MaildropPtr> imported = folders().open("Imported");
  ASSERT_TRUE(imported.is_ok());
  EXPECT_EQ((*imported)->messages()[0].size_octets, (*foreign)->messages()[0].size_octets);
}

TEST_F(MaildirFoldersTest, CopyFindsASourceFileRenamedByAnotherProgram) {
  ASSERT_TRUE(folders().create("A").is_ok());
  // An IMAP client marks message 0 seen meanwhile: new/<base> becomes cur/<base>:2,S.
  std::vector<std::string> fresh = entries(root_ / "new");
  ASSERT_EQ(fresh.size(), 1u);
  builder_.set_flags("new/" + fresh[0], "S");
  ASSERT_TRUE(folders().copy_message(*inbox_, 0, "A", {}).is_ok());
  EXPECT_EQ(entries(root_ / ".A" / "new").size(), 1u);
  // And one that is gone is kNotFound.
  for (const auto& entry : stdfs::directory_iterator(root_ / "cur")) {
    if (entry.path().filename().string().starts_with(fresh[0])) {
      stdfs::remove(entry.path());
    }
  }
  EXPECT_EQ(folders().copy_message(*inbox_, 0, "A", {}).code(), ErrorCode::kNotFound);
  EXPECT_EQ(entries(root_ / ".A" / "new").size(), 1u);
}

}  // namespace
}  // namespace poplar::store::maildir
