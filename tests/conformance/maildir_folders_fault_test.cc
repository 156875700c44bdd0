// Fault injection for POP4 COPY and STOR into a Maildir folder (MaildirFolders::copy_message,
// begin_store/write/commit): every file operation is failed in turn, alone (fail_at) and with
// everything after it (fail_from: a crash). Afterwards a new session must find the source
// (INBOX) exactly as it was and the target folder either as it was or with exactly one new,
// complete message carrying exactly the wanted flags, every keyword letter in a name mapped by
// the folder's dovecot-keywords; a single failed operation that the call reports as an error
// leaves nothing new at all.
// Must never: share a Maildir between iterations (op sequences must repeat exactly).
// Single-threaded.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "base/log.h"
#include "store/folders.h"
#include "store/fs/fault_injection_file_system.h"
#include "store/maildir/keywords_file.h"
#include "store/maildir/maildir_store.h"
#include "store/message_flags.h"
#include "testing/maildir_builder.h"
#include "testing/quiet_log.h"
#include "testing/temp_dir.h"

namespace poplar::conformance {
namespace {

using store::FolderMessageWriterPtr;
using store::MaildropPtr;
using store::MessageFlags;
using store::fs::FaultInjectionFileSystem;
namespace stdfs = std::filesystem;

MessageFlags flags_of(std::string_view list) { return *store::parse_flag_list(list); }

std::string slurp(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// What a clean session sees of one Maildir: UIDL → (flags, bytes).
using Contents = std::map<std::string, std::pair<std::string, std::string>>;

Contents contents_of(const stdfs::path& maildir) {
  store::maildir::MaildirStore clean(store::fs::posix_file_system());
  Result<MaildropPtr> drop = clean.open_maildrop(maildir.string());
  EXPECT_TRUE(drop.is_ok()) << drop.status().to_string();
  Contents out;
  if (!drop.is_ok()) {
    return out;
  }
  for (size_t i = 0; i < (*drop)->messages().size(); ++i) {
    std::string bytes;
    Result<store::MessageReaderPtr> reader = (*drop)->open_message(i);
    EXPECT_TRUE(reader.is_ok());
    char buffer[4096];
    for (;;) {
      Result<size_t> n = (*reader)->read(buffer);
      if (!n.is_ok() || *n == 0) {
        break;
      }
      bytes.append(buffer, *n);
    }
    out[std::string((*drop)->messages()[i].uidl)] = {format_flags((*drop)->flags(i)), bytes};
  }
  return out;
}

// INBOX with two messages, folder "Target" with one message carrying keyword $Old ('a').
// The operation copies INBOX's second message, or stores a new one, into Target with
// \Flagged and the new keyword $Junk (a keywords file write).
class FolderScene {
 public:
  static constexpr std::string_view kStored = "Subject: stored\n\nby STOR\n";

  FolderScene() : root_(dir_.path() / "Maildir") {
    testing::MaildirBuilder inbox(root_);
    inbox.add("Subject: 0\n\nfirst\n");
    inbox.add({.bytes = "Subject: 1\n\ncopied\n", .in_cur = true, .flags = "S"});
    store::maildir::MaildirStore clean(store::fs::posix_file_system());
    {
      Result<MaildropPtr> drop = clean.open_maildrop(location());
      EXPECT_TRUE(drop.is_ok());
      EXPECT_TRUE((*drop)->folders()->create("Target").is_ok());
    }
    testing::MaildirBuilder target(root_ / ".Target");
    target.add({.bytes = "Subject: t\n\nold\n", .in_cur = true, .flags = "a"});
    std::ofstream(root_ / ".Target" / "dovecot-keywords") << "0 $Old\n";
    inbox_before_ = contents_of(root_);
    target_before_ = contents_of(target_path());
  }

  std::string location() const { return root_.string(); }
  stdfs::path target_path() const { return root_ / ".Target"; }
  static MessageFlags wanted() { return flags_of("\\Flagged $Junk"); }

  // The source unchanged; the target as before or with one complete new message (required
  // when `ok`, forbidden when `nothing_new`).
  void expect_consistent(bool ok, bool nothing_new, std::string_view new_bytes) const {
    EXPECT_EQ(contents_of(root_), inbox_before_);
    Contents after = contents_of(target_path());
    Contents added;
    for (const auto& [uidl, message] : after) {
      if (!target_before_.contains(uidl)) {
        added[uidl] = message;
      } else {
        EXPECT_EQ(message, target_before_.at(uidl)) << uidl;
      }
    }
    EXPECT_EQ(after.size(), target_before_.size() + added.size()) << "a message was lost";
    if (ok) {
      EXPECT_EQ(added.size(), 1u) << "reported OK but nothing is there";
    }
    if (nothing_new) {
      EXPECT_TRUE(added.empty()) << "reported an error but a message appeared";
    }
    EXPECT_LE(added.size(), 1u);
    for (const auto& [uidl, message] : added) {
      EXPECT_EQ(message.first, "\\Flagged $Junk") << uidl;
      EXPECT_EQ(message.second, new_bytes) << uidl;
    }
    // Every letter in a name is mapped, and $Old keeps its letter.
    store::maildir::KeywordTable table =
        store::maildir::KeywordTable::parse(slurp(target_path() / "dovecot-keywords"));
    EXPECT_EQ(table.keyword('a'), "$Old");
    for (const char* sub : {"new", "cur"}) {
      for (const auto& entry : stdfs::directory_iterator(target_path() / sub)) {
        std::string name = entry.path().filename().string();
        const size_t info = name.find(":2,");
        for (char c : info == std::string::npos ? std::string() : name.substr(info + 3)) {
          if (c >= 'a' && c <= 'z') {
            EXPECT_FALSE(table.keyword(c).empty()) << "unmapped letter in " << name;
          }
        }
      }
    }
    // Nothing half-written is visible; at most one tmp/ file may stay (its unlink failed).
    EXPECT_LE(std::distance(stdfs::directory_iterator(target_path() / "tmp"),
                            stdfs::directory_iterator()),
              1);
  }

  std::string copied_bytes() const {
    for (const auto& [uidl, message] : inbox_before_) {
      if (message.first == "\\Seen") {
        return message.second;
      }
    }
    return "";
  }

 private:
  testing::TempDir dir_;
  stdfs::path root_;
  Contents inbox_before_;
  Contents target_before_;
};

// The operations under test, on the Folders of an INBOX opened through the faulty store.
Status do_copy(store::Maildrop& inbox) {
  // INBOX order is by delivery time: message 1 is the one in cur/ with \Seen.
  return inbox.folders()->copy_message(inbox, 1, "Target", FolderScene::wanted());
}

Status do_store(store::Maildrop& inbox) {
  Result<FolderMessageWriterPtr> writer =
      inbox.folders()->begin_store("Target", FolderScene::wanted());
  if (!writer.is_ok()) {
    return writer.status();
  }
  // Wire form, cut mid-line.
  for (std::string_view piece : {"Subject: sto", "red\r\n\r\nby ST", "OR\r\n"}) {
    if (Status written = (*writer)->write(piece); !written.is_ok()) {
      return written;
    }
  }
  return (*writer)->commit().status();
}

using Operation = std::function<Status(store::Maildrop&)>;

std::vector<FaultInjectionFileSystem::Record> clean_ops(const Operation& operation,
                                                        std::string_view bytes) {
  FolderScene scene;
  FaultInjectionFileSystem faulty(store::fs::posix_file_system());
  store::maildir::MaildirStore store(faulty);
  {
    Result<MaildropPtr> inbox = store.open_maildrop(scene.location());
    EXPECT_TRUE(inbox.is_ok());
    faulty.reset();
    Status status = operation(**inbox);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
  }
  std::vector<FaultInjectionFileSystem::Record> ops = faulty.operations();
  scene.expect_consistent(true, false, bytes);
  return ops;
}

void run_every_fault(const Operation& operation, std::string_view bytes) {
  testing::QuietLog quiet;
  const std::vector<FaultInjectionFileSystem::Record> clean = clean_ops(operation, bytes);
  ASSERT_GE(clean.size(), 5u);
  for (bool from : {false, true}) {
    for (int err : {EIO, ENOSPC}) {
      for (uint64_t n = 1; n <= clean.size(); ++n) {
        SCOPED_TRACE(std::string(from ? "fail_from " : "fail_at ") + std::to_string(n) + " (" +
                     std::string(FaultInjectionFileSystem::op_name(clean[n - 1].op)) + " " +
                     clean[n - 1].path + ") errno " + std::to_string(err));
        FolderScene scene;
        Status status;
        {
          FaultInjectionFileSystem faulty(store::fs::posix_file_system());
          store::maildir::MaildirStore store(faulty);
          Result<MaildropPtr> inbox = store.open_maildrop(scene.location());
          ASSERT_TRUE(inbox.is_ok());
          faulty.reset();
          if (from) {
            faulty.fail_from(n, err);
          } else {
            faulty.fail_at(n, err);
          }
          status = operation(**inbox);
        }  // the writer, the folder Maildrops and INBOX die here, still under the faults
        // One failed operation reported as an error leaves nothing new; a crash may leave the
        // complete message (its name was made before the crash), never part of one.
        scene.expect_consistent(status.is_ok(), !from && !status.is_ok(), bytes);
      }
    }
  }
}

TEST(MaildirFoldersFaultTest, CopyLeavesTheSourceAndATargetWithoutPartialMessages) {
  FolderScene probe;
  run_every_fault(do_copy, probe.copied_bytes());
}

TEST(MaildirFoldersFaultTest, StoreLeavesTheTargetWithoutPartialMessages) {
  run_every_fault(do_store, FolderScene::kStored);
}

}  // namespace
}  // namespace poplar::conformance
