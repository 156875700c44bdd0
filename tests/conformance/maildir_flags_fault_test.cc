// Fault injection for flag changes in UPDATE (commit_update with changes): every file operation
// is failed in turn, alone (fail_at) and with everything after it (fail_from: a crash). Then a
// new session must find every message exactly once, under its old name or its new one, with its
// content and UIDL, every keyword letter in a name mapped by the keywords file; and repeating
// the UPDATE must reach exactly the wanted state.
// Must never: share a Maildir between iterations (op sequences must repeat exactly).
// Single-threaded.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "base/log.h"
#include "store/fs/fault_injection_file_system.h"
#include "store/maildir/keywords_file.h"
#include "store/maildir/maildir_store.h"
#include "store/message_flags.h"
#include "testing/maildir_builder.h"
#include "testing/quiet_log.h"
#include "testing/temp_dir.h"

namespace poplar::conformance {
namespace {

using store::FlagChange;
using store::MaildropPtr;
using store::MessageFlags;
using store::fs::FaultInjectionFileSystem;
namespace stdfs = std::filesystem;

MessageFlags flags_of(std::string_view list) { return *store::parse_flag_list(list); }

std::string slurp(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Six messages: two in new/, the others in cur/ with flags, one with a keyword letter; an
// existing keywords file. The update removes one, moves one from new/ to cur/, adds a new
// keyword (a keywords file write), clears one, and changes one only in its keywords.
class FlagScene {
 public:
  FlagScene() : root_(dir_.path() / "Maildir") {
    testing::MaildirBuilder builder(root_);
    std::ofstream(root_ / "dovecot-keywords") << "0 $Old\n";
    const testing::MaildirBuilder::Message messages[] = {
        {.bytes = "Subject: 0\n\nnew, doomed\n"},
        {.bytes = "Subject: 1\n\nnew, to be seen\n", .size_fields = true},
        {.bytes = "Subject: 2\n\nseen, gets $Junk\n", .in_cur = true, .flags = "S"},
        {.bytes = "Subject: 3\n\nflagged, cleared\n", .in_cur = true, .flags = "FX"},
        {.bytes = "Subject: 4\n\n$Old, becomes $Junk\n", .in_cur = true, .flags = "a"},
        {.bytes = "Subject: 5\n\nuntouched\n", .in_cur = true, .flags = "RS"},
    };
    for (const auto& m : messages) {
      std::string rel = builder.add(m);
      base_names_.push_back(rel.substr(
          4, rel.find(':') == std::string::npos ? std::string::npos : rel.find(':') - 4));
      old_names_[base_names_.back()] = rel;
      contents_[base_names_.back()] = m.bytes;
    }
    new_names_ = old_names_;
    new_names_.erase(base_names_[0]);
    new_names_[base_names_[1]] = "cur/" + base_names_[1] + ":2,S";
    new_names_[base_names_[2]] = "cur/" + base_names_[2] + ":2,Sb";
    new_names_[base_names_[3]] = "cur/" + base_names_[3] + ":2,X";
    new_names_[base_names_[4]] = "cur/" + base_names_[4] + ":2,b";
    store::maildir::MaildirStore clean(store::fs::posix_file_system());
    EXPECT_TRUE(clean.open_maildrop(location()).is_ok());  // writes the index
  }

  std::string location() const { return root_.string(); }
  const stdfs::path& root() const { return root_; }

  // The update, by UIDL (= base name here), in the numbering of `drop`.
  Status apply(store::Maildrop& drop) const {
    std::map<std::string, MessageFlags> wanted = {
        {base_names_[1], flags_of("\\Seen")},
        {base_names_[2], flags_of("\\Seen $Junk")},
        {base_names_[3], flags_of("")},
        {base_names_[4], flags_of("$Junk")},
    };
    std::vector<size_t> doomed;
    std::vector<FlagChange> changes;
    for (size_t i = 0; i < drop.messages().size(); ++i) {
      std::string uidl(drop.messages()[i].uidl);
      if (uidl == base_names_[0]) {
        doomed.push_back(i);
      } else if (auto it = wanted.find(uidl); it != wanted.end()) {
        changes.push_back(FlagChange{i, it->second});
      }
    }
    return drop.commit_update(doomed, changes);
  }

  // Every file in new/ and cur/, by base name.
  std::multimap<std::string, std::string> on_disk() const {
    std::multimap<std::string, std::string> out;
    for (const char* sub : {"new", "cur"}) {
      for (const auto& entry : stdfs::directory_iterator(root_ / sub)) {
        std::string name = entry.path().filename().string();
        out.emplace(name.substr(0, name.find(':')), std::string(sub) + "/" + name);
      }
    }
    return out;
  }

  // Each message at most once (the doomed one possibly gone), under its old or new name, with
  // its content; keyword letters mapped.
  // `lie`: an injected ENOENT said a file that exists was missing; a missing keywords file then
  // looks empty and its letters may be given out again, which no real file system does.
  void expect_consistent(bool lie) const {
    std::multimap<std::string, std::string> disk = on_disk();
    store::maildir::KeywordTable table = store::maildir::KeywordTable::parse(
        slurp(root_ / std::string(store::maildir::kKeywordsFileName)));
    if (!lie) {
      EXPECT_EQ(table.keyword('a'), "$Old") << "a letter was renumbered";
    }
    for (const std::string& base : base_names_) {
      size_t count = disk.count(base);
      if (base == base_names_[0]) {
        EXPECT_LE(count, 1u) << base;
      } else {
        EXPECT_EQ(count, 1u) << "lost or duplicated: " << base;
      }
      auto it = disk.find(base);
      if (it == disk.end()) {
        continue;
      }
      const std::string& name = it->second;
      auto wanted = new_names_.find(base);
      EXPECT_TRUE(lie || name == old_names_.at(base) ||
                  (wanted != new_names_.end() && name == wanted->second))
          << name;
      EXPECT_EQ(slurp(root_ / name), contents_.at(base));
      std::string_view letters = name.find(":2,") == std::string::npos
                                     ? std::string_view()
                                     : std::string_view(name).substr(name.find(":2,") + 3);
      for (char c : letters) {
        if (c >= 'a' && c <= 'z' && !lie) {
          EXPECT_FALSE(table.keyword(c).empty()) << "unmapped letter in " << name;
        }
      }
    }
    EXPECT_EQ(disk.size(), base_names_.size() - (disk.count(base_names_[0]) == 1 ? 0 : 1));
  }

  void expect_done() const {
    std::multimap<std::string, std::string> disk = on_disk();
    std::map<std::string, std::string> names(disk.begin(), disk.end());
    EXPECT_EQ(names, new_names_);
    EXPECT_EQ(slurp(root_ / std::string(store::maildir::kKeywordsFileName)), "0 $Old\n1 $Junk\n");
  }

 private:
  testing::TempDir dir_;
  stdfs::path root_;
  std::vector<std::string> base_names_;
  std::map<std::string, std::string> old_names_;
  std::map<std::string, std::string> new_names_;
  std::map<std::string, std::string> contents_;
};

std::vector<FaultInjectionFileSystem::Record> clean_ops() {
  FlagScene scene;
  FaultInjectionFileSystem faulty(store::fs::posix_file_system());
  store::maildir::MaildirStore store(faulty);
  Result<MaildropPtr> drop = store.open_maildrop(scene.location());
  EXPECT_TRUE(drop.is_ok());
  faulty.reset();
  Status status = scene.apply(**drop);
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  scene.expect_done();
  return faulty.operations();
}

TEST(MaildirFlagsFaultTest, CleanRunDoesItAll) { EXPECT_GE(clean_ops().size(), 8u); }

TEST(MaildirFlagsFaultTest, EveryFailureOrCrashLeavesEachMessageOnceOldOrNew) {
  testing::QuietLog quiet;
  const std::vector<FaultInjectionFileSystem::Record> clean = clean_ops();
  for (bool from : {false, true}) {
    for (int err : {EIO, ENOSPC, ENOENT}) {
      for (uint64_t n = 1; n <= clean.size(); ++n) {
        SCOPED_TRACE(std::string(from ? "fail_from " : "fail_at ") + std::to_string(n) + " (" +
                     std::string(FaultInjectionFileSystem::op_name(clean[n - 1].op)) + " " +
                     clean[n - 1].path + ") errno " + std::to_string(err));
        const bool lie = err == ENOENT;
        FlagScene scene;
        {
          FaultInjectionFileSystem faulty(store::fs::posix_file_system());
          store::maildir::MaildirStore store(faulty);
          Result<MaildropPtr> drop = store.open_maildrop(scene.location());
          ASSERT_TRUE(drop.is_ok());
          faulty.reset();
          if (from) {
            faulty.fail_from(n, err);
          } else {
            faulty.fail_at(n, err);
          }
          (void)scene.apply(**drop);
          scene.expect_consistent(lie);
          if (!from && !lie) {
            // The same session retrying its UPDATE converges.
            faulty.reset();
            Status again = scene.apply(**drop);
            EXPECT_TRUE(again.is_ok()) << again.to_string();
            scene.expect_done();
          }
        }  // the session ends (a crash: the kernel releases the lock)
        // The next session, later than a keywords dotlock a crash may have left counts as stale.
        FaultInjectionFileSystem later(store::fs::posix_file_system());
        later.set_now_offset_ns((store::maildir::kStaleLockSeconds + 60) * int64_t{1'000'000'000});
        store::maildir::MaildirStore clean_store(later);
        Result<MaildropPtr> drop = clean_store.open_maildrop(scene.location());
        ASSERT_TRUE(drop.is_ok()) << drop.status().to_string();
        Status again = scene.apply(**drop);
        EXPECT_TRUE(again.is_ok()) << again.to_string();
        if (lie) {
          scene.expect_consistent(lie);
        } else {
          scene.expect_done();
        }
      }
    }
  }
}

}  // namespace
}  // namespace poplar::conformance
