// Fault injection through the file-system seam (LevelDB's fault_injection_test): every file
// operation of open_maildrop() and commit_update() is failed in turn, alone (fail_at) and
// together with everything after it (fail_from, like a dying disk or a crash). Whatever fails:
// no crash, a non-OK Status when something the session needs failed, the lock released, and
// no message lost that was not asked to be removed.
//
// The index file is a cache, so failures that touch only it must not fail the operation.
// Must never: share a Maildir between iterations (op sequences must repeat exactly).
// Single-threaded.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/log.h"
#include "store/crlf_size.h"
#include "store/fs/fault_injection_file_system.h"
#include "store/maildir/index_file.h"
#include "store/maildir/maildir_store.h"
#include "testing/maildir_builder.h"
#include "testing/quiet_log.h"
#include "testing/temp_dir.h"

namespace poplar::conformance {
namespace {

using store::MaildropPtr;
using store::fs::FaultInjectionFileSystem;
using Op = FaultInjectionFileSystem::Op;
namespace stdfs = std::filesystem;

constexpr int kErrnos[] = {EIO, ENOSPC, EACCES, ENOENT};

enum class Scene {
  kFirstLogin,    // no index yet: every message without ",W=" is read once
  kLaterLogin,    // a valid index and one new message
  kTrustedLogin,  // nothing changed since the index was written: it is the snapshot
  kNewUser,       // no Maildir at all
};

// The store's clock in kTrustedLogin runs this far ahead, and the directories are backdated,
// so that the recorded listing counts as settled (index_file.h).
constexpr int64_t kHourNs = int64_t{3600} * 1'000'000'000;

void set_scene_clock(Scene scene, FaultInjectionFileSystem& faulty) {
  if (scene == Scene::kTrustedLogin) {
    faulty.set_now_offset_ns(kHourNs);
  }
}

std::string scene_name(Scene scene) {
  switch (scene) {
    case Scene::kFirstLogin:
      return "first-login";
    case Scene::kLaterLogin:
      return "later-login";
    case Scene::kTrustedLogin:
      return "trusted-login";
    case Scene::kNewUser:
      return "new-user";
  }
  return "?";
}

// The messages of a scene, by content; a Maildir per iteration so op sequences repeat exactly.
class Fixture {
 public:
  explicit Fixture(Scene scene) : root_(dir_.path() / "Maildir") {
    if (scene == Scene::kNewUser) {
      return;
    }
    testing::MaildirBuilder builder(root_);
    add(builder, {.bytes = "Subject: 1\n\nplain LF\n"});
    add(builder, {.bytes = "Subject: 2\r\n\r\nCRLF\r\n"});
    add(builder, {.bytes = "Subject: 3\n\n.dot\n", .in_cur = true, .flags = "S"});
    add(builder, {.bytes = "Subject: 4\n\nsized\n", .size_fields = true});
    add(builder, {.bytes = "Subject: 5\n\nno final newline"});
    add(builder, {.bytes = "Subject: 6\n\nread\n", .in_cur = true, .flags = "RS"});
    if (scene == Scene::kLaterLogin) {
      store::maildir::MaildirStore clean(store::fs::posix_file_system());
      EXPECT_TRUE(clean.open_maildrop(location()).is_ok());  // writes the index
      add(builder, {.bytes = "Subject: 7\n\narrived later\n"});
    }
    if (scene == Scene::kTrustedLogin) {
      builder.backdate_directories(3600);
      FaultInjectionFileSystem ahead(store::fs::posix_file_system());
      set_scene_clock(scene, ahead);
      store::maildir::MaildirStore clean(ahead);
      EXPECT_TRUE(clean.open_maildrop(location()).is_ok());  // writes a settled index
    }
  }

  std::string location() const { return root_.string(); }
  const stdfs::path& root() const { return root_; }
  const std::vector<std::string>& all() const { return all_; }

  // Every message file's content, sorted, read straight from the disk.
  std::multiset<std::string> on_disk() const {
    std::multiset<std::string> out;
    for (const char* sub : {"new", "cur"}) {
      std::error_code ec;
      for (const auto& entry : stdfs::directory_iterator(root_ / sub, ec)) {
        std::ifstream in(entry.path(), std::ios::binary);
        out.insert(std::string(std::istreambuf_iterator<char>(in), {}));
      }
    }
    return out;
  }

  testing::MaildirBuilder builder() const { return testing::MaildirBuilder(root_); }

 private:
  void add(testing::MaildirBuilder& builder, testing::MaildirBuilder::Message m) {
    files_.push_back(builder.add(m));
    all_.push_back(m.bytes);
  }

  testing::TempDir dir_;
  stdfs::path root_;
  std::vector<std::string> files_;
  std::vector<std::string> all_;
};

std::string read_all(store::Maildrop& drop, size_t index) {
  Result<store::MessageReaderPtr> reader = drop.open_message(index);
  if (!reader.is_ok()) {
    return "<" + reader.status().to_string() + ">";
  }
  std::string out;
  char buffer[512];
  for (;;) {
    Result<size_t> n = (*reader)->read(buffer);
    if (!n.is_ok()) {
      return "<" + n.status().to_string() + ">";
    }
    if (*n == 0) {
      return out;
    }
    out.append(buffer, *n);
  }
}

// Whether operation i of a recorded sequence belongs to reading or writing the index file: it
// names the index, or it is the fsync of the Maildir that makes the index's rename durable.
bool is_index_op(const std::vector<FaultInjectionFileSystem::Record>& ops, size_t i) {
  auto names_index = [](const FaultInjectionFileSystem::Record& r) {
    return r.path.find(store::maildir::kIndexFileName) != std::string::npos;
  };
  if (names_index(ops[i])) {
    return true;
  }
  return ops[i].op == Op::kSyncDirectory && i > 0 && ops[i - 1].op == Op::kRename &&
         names_index(ops[i - 1]);
}

// Whether failing operation n (1-based) of `ops`, or every operation from n on, touches only the
// index file.
bool only_index_fails(const std::vector<FaultInjectionFileSystem::Record>& ops, uint64_t n,
                      bool from) {
  // A failed index read makes the store list the directories instead, operations the clean
  // run (where the index was the snapshot) never made; with `from` they fail as well.
  if (from && ops[n - 1].op == Op::kReadFile) {
    return false;
  }
  for (size_t i = n - 1; i < (from ? ops.size() : n); ++i) {
    if (!is_index_op(ops, i)) {
      return false;
    }
  }
  return true;
}

// A session opened without faults sees every message with its right size.
void expect_nothing_lost(const Fixture& fixture, const std::string& trace) {
  SCOPED_TRACE(trace);
  store::maildir::MaildirStore clean(store::fs::posix_file_system());
  Result<MaildropPtr> drop = clean.open_maildrop(fixture.location());
  ASSERT_TRUE(drop.is_ok()) << "lock left behind or Maildir broken: " << drop.status().to_string();
  std::multiset<std::string> seen;
  for (size_t i = 0; i < (*drop)->messages().size(); ++i) {
    std::string bytes = read_all(**drop, i);
    EXPECT_EQ((*drop)->messages()[i].size_octets, store::crlf_size_octets(bytes));
    seen.insert(bytes);
  }
  EXPECT_EQ(seen, std::multiset<std::string>(fixture.all().begin(), fixture.all().end()));
}

std::vector<FaultInjectionFileSystem::Record> clean_open_ops(Scene scene) {
  Fixture fixture(scene);
  FaultInjectionFileSystem faulty(store::fs::posix_file_system());
  set_scene_clock(scene, faulty);
  store::maildir::MaildirStore store(faulty);
  EXPECT_TRUE(store.open_maildrop(fixture.location()).is_ok());
  return faulty.operations();
}

// The store logs a warning for every failure it absorbs; hundreds of injected failures would
// bury a real test failure, so the fault tests drop them.
class MaildirOpenFaultTest : public ::testing::TestWithParam<Scene> {
  testing::QuietLog quiet_;
};

TEST_P(MaildirOpenFaultTest, EveryFailingOperationIsHandled) {
  const Scene scene = GetParam();
  const std::vector<FaultInjectionFileSystem::Record> clean = clean_open_ops(scene);
  ASSERT_GE(clean.size(), 3u);
  for (bool from : {false, true}) {
    for (int err : kErrnos) {
      for (uint64_t n = 1; n <= clean.size(); ++n) {
        std::string trace = scene_name(scene) + (from ? " fail_from " : " fail_at ") +
                            std::to_string(n) + " (" +
                            std::string(FaultInjectionFileSystem::op_name(clean[n - 1].op)) + " " +
                            clean[n - 1].path + ") errno " + std::to_string(err);
        SCOPED_TRACE(trace);
        Fixture fixture(scene);
        FaultInjectionFileSystem faulty(store::fs::posix_file_system());
        set_scene_clock(scene, faulty);
        store::maildir::MaildirStore store(faulty);
        if (from) {
          faulty.fail_from(n, err);
        } else {
          faulty.fail_at(n, err);
        }
        Result<MaildropPtr> drop = store.open_maildrop(fixture.location());

        if (only_index_fails(clean, n, from)) {
          EXPECT_TRUE(drop.is_ok())
              << "a cache failure failed the login: " << drop.status().to_string();
        } else if (err == EIO || err == ENOSPC) {
          EXPECT_FALSE(drop.is_ok()) << "an I/O error was hidden";
        }
        if (drop.is_ok()) {
          // Whatever it lists must be right; only skippable errors may hide a message.
          std::set<std::string> expected(fixture.all().begin(), fixture.all().end());
          for (size_t i = 0; i < (*drop)->messages().size(); ++i) {
            std::string bytes = read_all(**drop, i);
            if (bytes.starts_with("<")) {
              continue;  // fail_from also fails the reads of this check
            }
            EXPECT_TRUE(expected.contains(bytes)) << bytes;
            EXPECT_EQ((*drop)->messages()[i].size_octets, store::crlf_size_octets(bytes));
          }
          if (err == EIO || err == ENOSPC) {
            EXPECT_EQ((*drop)->messages().size(), fixture.all().size());
          }
        } else {
          EXPECT_NE(drop.status().code(), ErrorCode::kOk);
          EXPECT_NE(drop.status().code(), ErrorCode::kInUse) << drop.status().to_string();
        }
        drop = Status::temporary("end of session");  // releases the lock if it was taken
        expect_nothing_lost(fixture, trace);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scenes, MaildirOpenFaultTest,
                         ::testing::Values(Scene::kFirstLogin, Scene::kLaterLogin,
                                           Scene::kTrustedLogin, Scene::kNewUser),
                         [](const ::testing::TestParamInfo<Scene>& info) {
                           std::string name = scene_name(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// commit_update({1, 3, 4}) where message 3 was moved to cur/ with new flags after the
// snapshot, so the relocation path is exercised too.
class CommitScene {
 public:
  CommitScene() : fixture_(Scene::kFirstLogin), faulty_(store::fs::posix_file_system()) {
    Result<MaildropPtr> drop = store_.open_maildrop(fixture_.location());
    EXPECT_TRUE(drop.is_ok());
    drop_ = std::move(drop).value();
    // An IMAP client marks the 4th message (index 3) seen meanwhile.
    testing::MaildirBuilder builder = fixture_.builder();
    // Generated base names are their own UIDLs.
    const std::string moved = "new/" + std::string(drop_->messages()[3].uidl);
    EXPECT_TRUE(stdfs::exists(fixture_.root() / moved));
    builder.set_flags(moved, "S");
    for (size_t i = 0; i < fixture_.all().size(); ++i) {
      if (i == 1 || i == 3 || i == 4) {
        doomed_.insert(read_only(i));
      } else {
        kept_.insert(read_only(i));
      }
    }
    faulty_.reset();
  }

  store::Maildrop& drop() { return *drop_; }
  FaultInjectionFileSystem& faulty() { return faulty_; }
  const Fixture& fixture() const { return fixture_; }
  static constexpr size_t kDoomed[] = {1, 3, 4};

  // No kept message is gone; the doomed ones may or may not be.
  void expect_kept_intact() const {
    std::multiset<std::string> disk = fixture_.on_disk();
    for (const std::string& k : kept_) {
      EXPECT_EQ(disk.count(k), 1u) << "lost: " << k;
    }
    for (const std::string& d : disk) {
      EXPECT_TRUE(kept_.contains(d) || doomed_.contains(d)) << d;
    }
  }
  void expect_exactly_kept() const { EXPECT_EQ(fixture_.on_disk(), kept_); }
  std::multiset<std::string> doomed() const { return doomed_; }

  void end_session() { drop_.reset(); }

  void expect_lock_released() const {
    store::maildir::MaildirStore clean(store::fs::posix_file_system());
    Result<MaildropPtr> drop = clean.open_maildrop(fixture_.location());
    EXPECT_TRUE(drop.is_ok()) << drop.status().to_string();
  }

 private:
  std::string read_only(size_t i) { return read_all(*drop_, i); }

  Fixture fixture_;
  FaultInjectionFileSystem faulty_;
  store::maildir::MaildirStore store_{faulty_};
  MaildropPtr drop_;
  std::multiset<std::string> kept_;
  std::multiset<std::string> doomed_;
};

std::vector<FaultInjectionFileSystem::Record> clean_commit_ops() {
  CommitScene scene;
  EXPECT_TRUE(scene.drop().commit_update(CommitScene::kDoomed).is_ok());
  scene.expect_exactly_kept();
  return scene.faulty().operations();
}

TEST(MaildirCommitFaultTest, MovedMessageIsFoundAndRemovedWithoutFaults) {
  std::vector<FaultInjectionFileSystem::Record> ops = clean_commit_ops();
  EXPECT_GE(ops.size(), 5u);
}

TEST(MaildirCommitFaultTest, EveryFailingOperationKeepsWhatWasNotDoomed) {
  testing::QuietLog quiet;
  const std::vector<FaultInjectionFileSystem::Record> clean = clean_commit_ops();
  for (bool from : {false, true}) {
    for (int err : kErrnos) {
      for (uint64_t n = 1; n <= clean.size(); ++n) {
        std::string trace = std::string(from ? "fail_from " : "fail_at ") + std::to_string(n) +
                            " (" + std::string(FaultInjectionFileSystem::op_name(clean[n - 1].op)) +
                            " " + clean[n - 1].path + ") errno " + std::to_string(err);
        SCOPED_TRACE(trace);
        CommitScene scene;
        if (from) {
          scene.faulty().fail_from(n, err);
        } else {
          scene.faulty().fail_at(n, err);
        }
        Status status = scene.drop().commit_update(CommitScene::kDoomed);

        // An injected ENOENT lies (the file or directory is there), so the store may
        // believe a doomed message is already gone; it must still never touch a kept one.
        const bool lie = err == ENOENT;
        if (only_index_fails(clean, n, from)) {
          EXPECT_TRUE(status.is_ok()) << status.to_string();
        } else if (!lie) {
          EXPECT_EQ(status.code(), ErrorCode::kTemporary) << status.to_string();
        }
        if (status.is_ok() && !lie) {
          scene.expect_exactly_kept();
        } else {
          scene.expect_kept_intact();
        }

        // The same session retrying (the server's UPDATE retry) converges.
        scene.faulty().reset();
        EXPECT_TRUE(scene.drop().commit_update(CommitScene::kDoomed).is_ok());
        if (!lie) {
          scene.expect_exactly_kept();
        }
        scene.expect_kept_intact();
        scene.end_session();
        scene.expect_lock_released();
      }
    }
  }
}

TEST(MaildirCommitFaultTest, CrashMidCommitThenANewSessionFinishesTheJob) {
  testing::QuietLog quiet;
  const std::vector<FaultInjectionFileSystem::Record> clean = clean_commit_ops();
  for (uint64_t n = 1; n <= clean.size(); ++n) {
    SCOPED_TRACE("crash at op " + std::to_string(n));
    CommitScene scene;
    scene.faulty().fail_from(n, EIO);
    (void)scene.drop().commit_update(CommitScene::kDoomed);
    scene.end_session();  // the process dies; the kernel releases the lock
    scene.expect_kept_intact();

    store::maildir::MaildirStore clean_store(store::fs::posix_file_system());
    Result<MaildropPtr> drop = clean_store.open_maildrop(scene.fixture().location());
    ASSERT_TRUE(drop.is_ok()) << drop.status().to_string();
    std::multiset<std::string> doomed = scene.doomed();
    std::vector<size_t> again;
    for (size_t i = 0; i < (*drop)->messages().size(); ++i) {
      if (doomed.contains(read_all(**drop, i))) {
        again.push_back(i);
      }
    }
    EXPECT_TRUE((*drop)->commit_update(again).is_ok());
    scene.expect_exactly_kept();
  }
}

}  // namespace
}  // namespace poplar::conformance
