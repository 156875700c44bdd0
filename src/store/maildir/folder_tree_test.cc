// Tests of the Maildir++ folder tree on a real temp Maildir: the layout Dovecot expects
// (".A.B" with cur/ new/ tmp/ and maildirfolder), listing order and what is not a folder,
// create/delete/rename/move and each refusal, LFLD numbers through MaildirStore, and fault
// injection at every file-system operation of create, rename and delete (one failure, and a
// crash: every later operation fails): afterwards every folder is wholly there under its old
// name or wholly under its new one, never half made, and no message is lost.
// Must never: touch files outside its temp dirs. Single-threaded.
#include "store/maildir/folder_tree.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>

#include "store/fs/fault_injection_file_system.h"
#include "store/maildir/maildir_store.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

namespace stdfs = std::filesystem;
using Op = fs::FaultInjectionFileSystem::Op;

class FolderTreeTest : public ::testing::Test {
 protected:
  FolderTreeTest()
      : root_(dir_.path() / "Maildir"),
        inbox_(root_),
        faults_(fs::posix_file_system()),
        tree_(faults_, root_.string()) {}

  std::vector<std::string> names() {
    Result<std::vector<FolderEntry>> listed = tree_.list();
    EXPECT_TRUE(listed.is_ok()) << listed.status().to_string();
    std::vector<std::string> out;
    if (listed.is_ok()) {
      for (const FolderEntry& entry : *listed) {
        out.push_back(entry.name);
      }
    }
    return out;
  }

  // A folder directory as Dovecot expects it: cur/ new/ tmp/ and the marker file.
  bool complete(const std::string& directory) {
    const stdfs::path path = root_ / directory;
    return stdfs::is_directory(path / "cur") && stdfs::is_directory(path / "new") &&
           stdfs::is_directory(path / "tmp") &&
           stdfs::is_regular_file(path / std::string(kFolderMarkerName));
  }
  bool exists(const std::string& directory) { return stdfs::exists(root_ / directory); }

  // The directories of the root (folders and others), by name.
  std::set<std::string> root_entries() {
    std::set<std::string> out;
    for (const auto& entry : stdfs::directory_iterator(root_)) {
      out.insert(entry.path().filename().string());
    }
    return out;
  }
  size_t staging_leftovers() {
    size_t count = 0;
    for (const auto& entry : stdfs::directory_iterator(root_ / "tmp")) {
      count += entry.path().filename().string().starts_with("poplar-") ? 1 : 0;
    }
    return count;
  }
  void put_message(const std::string& directory, const std::string& name) {
    std::ofstream(root_ / directory / "new" / name) << "Subject: " << name << "\n\nbody\n";
  }

  testing::TempDir dir_;
  stdfs::path root_;
  testing::MaildirBuilder inbox_;
  fs::FaultInjectionFileSystem faults_;
  FolderTree tree_;
};

TEST_F(FolderTreeTest, CreatesFoldersTheWayDovecotLaysThemOut) {
  ASSERT_TRUE(tree_.create("Archive").is_ok());
  ASSERT_TRUE(tree_.create("Sent Items").is_ok());
  ASSERT_TRUE(tree_.create("Work/2024/Q1").is_ok());  // with its missing parents
  ASSERT_TRUE(tree_.create("Entwürfe").is_ok());
  for (const char* directory :
       {".Archive", ".Sent Items", ".Work", ".Work.2024", ".Work.2024.Q1", ".Entw&APw-rfe"}) {
    EXPECT_TRUE(complete(directory)) << directory;
  }
  EXPECT_EQ(names(), (std::vector<std::string>{"INBOX", "Archive", "Entwürfe", "Sent Items", "Work",
                                               "Work/2024", "Work/2024/Q1"}));
  EXPECT_EQ(staging_leftovers(), 0u);
  Result<std::vector<FolderEntry>> listed = tree_.list();
  ASSERT_TRUE(listed.is_ok());
  EXPECT_EQ((*listed)[0].path, root_.string());
  EXPECT_EQ((*listed)[1].path, (root_ / ".Archive").string());
  EXPECT_EQ(*tree_.path_of("inbox"), root_.string());
  EXPECT_EQ(*tree_.path_of("Work/2024"), (root_ / ".Work.2024").string());
}

TEST_F(FolderTreeTest, CreateRefusesWhatExistsAndBadNames) {
  ASSERT_TRUE(tree_.create("Archive").is_ok());
  EXPECT_EQ(tree_.create("Archive").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.create("inbox").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.create("a/../b").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.create("/Archive").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.create("a.b").code(), ErrorCode::kInvalidInput);
  std::ofstream(root_ / ".Plain") << "a file";
  EXPECT_EQ(tree_.create("Plain").code(), ErrorCode::kPermanent);
  EXPECT_EQ(tree_.create("Plain/Sub").code(), ErrorCode::kPermanent);
  EXPECT_EQ(tree_.create(std::string(300, 'x')).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(names(), (std::vector<std::string>{"INBOX", "Archive"}));
}

TEST_F(FolderTreeTest, ListLeavesOutWhatIsNotAFolder) {
  ASSERT_TRUE(tree_.create("Real").is_ok());
  for (const char* junk : {".a..b", ".x&AGE-", ".INBOX", ".inbox.x", ".a.", ".~home"}) {
    stdfs::create_directory(root_ / junk);
  }
  std::ofstream(root_ / ".File") << "not a directory";
  // A Maildir++ folder made by another program without the marker is still a folder.
  stdfs::create_directories(root_ / ".Other" / "cur");
  stdfs::create_directory_symlink(root_ / ".Real", root_ / ".Linked");
  EXPECT_EQ(names(), (std::vector<std::string>{"INBOX", "Linked", "Other", "Real"}));
}

TEST_F(FolderTreeTest, RemovesOnlyEmptyFolders) {
  ASSERT_TRUE(tree_.create("Empty").is_ok());
  std::ofstream(root_ / ".Empty" / "tmp" / "1.stale") << "half a delivery";
  std::ofstream(root_ / ".Empty" / "dovecot-uidlist") << "3 V1 N1\n";
  ASSERT_TRUE(tree_.remove("Empty").is_ok());
  EXPECT_FALSE(exists(".Empty"));
  EXPECT_EQ(staging_leftovers(), 0u);

  ASSERT_TRUE(tree_.create("Full").is_ok());
  put_message(".Full", "1700000000.M1P1Q1.host");
  EXPECT_EQ(tree_.remove("Full").code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(complete(".Full"));

  ASSERT_TRUE(tree_.create("Parent/Child").is_ok());
  EXPECT_EQ(tree_.remove("Parent").code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(tree_.remove("Parent/Child").is_ok());
  EXPECT_TRUE(tree_.remove("Parent").is_ok());

  EXPECT_EQ(tree_.remove("Missing").code(), ErrorCode::kNotFound);
  EXPECT_EQ(tree_.remove("INBOX").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.remove("..").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(names(), (std::vector<std::string>{"INBOX", "Full"}));
  EXPECT_EQ(staging_leftovers(), 0u);
}

TEST_F(FolderTreeTest, RemoveGivesBackAFolderThatGotMailMeanwhile) {
  ASSERT_TRUE(tree_.create("Racy").is_ok());
  // A delivery lands between the emptiness check and the move out of sight: the first rename
  // of the folder's directory is the moment.
  faults_.set_hook([&](Op op, std::string_view path) {
    if (op == Op::kRename && path.find(".Racy") != std::string_view::npos &&
        !exists(".Racy/new/late")) {
      put_message(".Racy", "late");
    }
    return 0;
  });
  EXPECT_EQ(tree_.remove("Racy").code(), ErrorCode::kInvalidInput);
  faults_.reset();
  EXPECT_TRUE(complete(".Racy"));
  EXPECT_TRUE(stdfs::exists(root_ / ".Racy" / "new" / "late"));
}

TEST_F(FolderTreeTest, RenamesAFolderWithEverythingBeneathIt) {
  ASSERT_TRUE(tree_.create("A/B/C").is_ok());
  ASSERT_TRUE(tree_.create("AB").is_ok());  // shares the prefix, not the hierarchy
  put_message(".A", "m1");
  put_message(".A.B.C", "m3");
  ASSERT_TRUE(tree_.rename("A", "X/Y").is_ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"INBOX", "AB", "X", "X/Y", "X/Y/B", "X/Y/B/C"}));
  EXPECT_TRUE(stdfs::exists(root_ / ".X.Y" / "new" / "m1"));
  EXPECT_TRUE(stdfs::exists(root_ / ".X.Y.B.C" / "new" / "m3"));
  EXPECT_TRUE(complete(".X"));

  EXPECT_EQ(tree_.rename("X/Y", "AB").code(), ErrorCode::kInvalidInput);       // exists
  EXPECT_EQ(tree_.rename("X/Y", "X/Y/B/Z").code(), ErrorCode::kInvalidInput);  // beneath itself
  EXPECT_EQ(tree_.rename("X/Y", "X/Y").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.rename("INBOX", "Old").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.rename("AB", "inbox").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.rename("Nope", "Other").code(), ErrorCode::kNotFound);
  EXPECT_EQ(tree_.rename("AB", "a//b").code(), ErrorCode::kInvalidInput);
}

TEST_F(FolderTreeTest, RenameRefusesNamesThatWouldGrowTooLong) {
  ASSERT_TRUE(tree_.create("S/" + std::string(200, 'c')).is_ok());
  EXPECT_EQ(tree_.rename("S", std::string(60, 'L')).code(), ErrorCode::kInvalidInput);
  std::string deep = "d";
  for (size_t i = 1; i < kMaxFolderLevels; ++i) {
    deep += "/d";
  }
  ASSERT_TRUE(tree_.create("T/U").is_ok());
  // deep itself has the most levels allowed; T/U would get one more.
  EXPECT_EQ(tree_.rename("T", deep).code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(complete(".S." + std::string(200, 'c')));
  EXPECT_TRUE(complete(".T.U"));
}

TEST_F(FolderTreeTest, MovesAFolderUnderAParent) {
  ASSERT_TRUE(tree_.create("Projects").is_ok());
  ASSERT_TRUE(tree_.create("Old/Report").is_ok());
  ASSERT_TRUE(tree_.move_under("Old/Report", "Projects").is_ok());
  ASSERT_TRUE(tree_.move_under("Projects/Report", "").is_ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"INBOX", "Old", "Projects", "Report"}));
  EXPECT_EQ(tree_.move_under("Report", "Missing").code(), ErrorCode::kNotFound);
  EXPECT_EQ(tree_.move_under("Report", "INBOX").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.move_under("INBOX", "Old").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(tree_.move_under("Report", "").code(), ErrorCode::kInvalidInput);  // same name
}

TEST_F(FolderTreeTest, SummarizesAFolderAsStatWould) {
  ASSERT_TRUE(tree_.create("Archive").is_ok());
  testing::MaildirBuilder archive(root_ / ".Archive");
  archive.add("a\nb\n");                                        // 6 octets on the wire
  archive.add({.bytes = "abc", .in_cur = true, .flags = "S"});  // 5
  MaildirStore store(fs::posix_file_system());
  Result<std::vector<FolderEntry>> listed = tree_.list();
  ASSERT_TRUE(listed.is_ok());
  ASSERT_EQ(listed->size(), 2u);
  Result<FolderSummary> summary = summarize_folder(store, (*listed)[1]);
  ASSERT_TRUE(summary.is_ok()) << summary.status().to_string();
  EXPECT_EQ(summary->messages, 2u);
  EXPECT_EQ(summary->octets, 11u);
  // INBOX is held by the session: its lock conflicts, so the caller uses its own snapshot.
  Result<MaildropPtr> session = store.open_maildrop(root_.string());
  ASSERT_TRUE(session.is_ok());
  EXPECT_EQ(summarize_folder(store, (*listed)[0]).status().code(), ErrorCode::kInUse);
}

// Runs `operation` with a fault at every operation number in turn, both as one failure and as a
// crash, resetting the Maildir with `setup` before each run; `check` sees the outcome.
template <typename Setup, typename Operation, typename Check>
void at_every_fault(fs::FaultInjectionFileSystem& faults, Setup setup, Operation operation,
                    Check check) {
  faults.reset();
  setup();
  faults.reset();
  ASSERT_TRUE(operation().is_ok());
  const uint64_t count = faults.operation_count();
  ASSERT_GT(count, 3u);
  for (bool crash : {false, true}) {
    for (uint64_t n = 1; n <= count; ++n) {
      faults.reset();
      setup();
      faults.reset();
      if (crash) {
        faults.fail_from(n, EIO);
      } else {
        faults.fail_at(n, EIO);
      }
      const Status outcome = operation();
      faults.reset();
      check(outcome, crash, n);
    }
  }
}

TEST_F(FolderTreeTest, CreateAtEveryFaultLeavesWholeFoldersOrNone) {
  const char* const levels[] = {".A", ".A.B", ".A.B.C"};
  at_every_fault(
      faults_,
      [&] {
        for (const auto& entry : stdfs::directory_iterator(root_)) {
          if (entry.path().filename().string().starts_with(".")) {
            stdfs::remove_all(entry.path());
          }
        }
        stdfs::remove_all(root_ / "tmp");
        stdfs::create_directory(root_ / "tmp");
      },
      [&] { return tree_.create("A/B/C"); },
      [&](const Status& outcome, bool crash, uint64_t n) {
        for (const char* level : levels) {
          EXPECT_TRUE(!exists(level) || complete(level)) << level << " at " << n;
        }
        if (outcome.is_ok()) {
          EXPECT_TRUE(complete(".A.B.C")) << n;
        }
        if (!crash) {
          EXPECT_FALSE(outcome.is_ok() && staging_leftovers() != 0) << n;
          EXPECT_EQ(outcome.is_ok(), exists(".A.B.C")) << n;
          if (!outcome.is_ok()) {
            EXPECT_EQ(staging_leftovers(), 0u) << "one failure is cleaned up, at " << n;
          }
        }
      });
}

TEST_F(FolderTreeTest, RenameAtEveryFaultKeepsEveryFolderWholeUnderOneName) {
  const std::pair<std::string, std::string> moves[] = {
      {".A", ".Z.Q"}, {".A.B", ".Z.Q.B"}, {".A.B.C", ".Z.Q.B.C"}};
  at_every_fault(
      faults_,
      [&] {
        for (const auto& entry : stdfs::directory_iterator(root_)) {
          if (entry.path().filename().string().starts_with(".")) {
            stdfs::remove_all(entry.path());
          }
        }
        for (const auto& [old_dir, new_dir] : moves) {
          stdfs::create_directory(root_ / old_dir);
          for (const char* sub : {"cur", "new", "tmp"}) {
            stdfs::create_directory(root_ / old_dir / sub);
          }
          std::ofstream(root_ / old_dir / "maildirfolder");
          put_message(old_dir, "msg" + old_dir);
        }
      },
      [&] { return tree_.rename("A", "Z/Q"); },
      [&](const Status& outcome, bool crash, uint64_t n) {
        size_t renamed = 0;
        for (const auto& [old_dir, new_dir] : moves) {
          const bool at_old = exists(old_dir);
          const bool at_new = exists(new_dir);
          EXPECT_NE(at_old, at_new) << old_dir << " at " << n;
          const std::string& here = at_old ? old_dir : new_dir;
          EXPECT_TRUE(complete(here)) << here << " at " << n;
          EXPECT_TRUE(stdfs::exists(root_ / here / "new" / ("msg" + old_dir))) << n;
          renamed += at_new ? 1 : 0;
        }
        if (outcome.is_ok()) {
          EXPECT_EQ(renamed, 3u) << n;
        } else if (!crash) {
          EXPECT_EQ(renamed, 0u) << "one failure is undone, at " << n;
        }
        EXPECT_TRUE(!exists(".Z") || complete(".Z")) << n;
      });
}

TEST_F(FolderTreeTest, RemoveAtEveryFaultLeavesTheFolderWholeOrGone) {
  at_every_fault(
      faults_,
      [&] {
        stdfs::remove_all(root_ / ".Gone");
        stdfs::create_directory(root_ / ".Gone");
        for (const char* sub : {"cur", "new", "tmp"}) {
          stdfs::create_directory(root_ / ".Gone" / sub);
        }
        std::ofstream(root_ / ".Gone" / "maildirfolder");
        std::ofstream(root_ / ".Gone" / "tmp" / "stale");
      },
      [&] { return tree_.remove("Gone"); },
      [&](const Status& outcome, bool crash, uint64_t n) {
        EXPECT_TRUE(!exists(".Gone") || complete(".Gone")) << n;
        if (outcome.is_ok()) {
          EXPECT_FALSE(exists(".Gone")) << n;
        } else if (!crash) {
          EXPECT_TRUE(complete(".Gone")) << "one failure changes nothing, at " << n;
        }
      });
}

}  // namespace
}  // namespace poplar::store::maildir
