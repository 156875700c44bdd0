// Tests of the fetch state file: round trips, the one-append-per-record rule, the lock, torn and
// corrupt files, and fault injection at every file operation (nothing whose record() returned
// OK may be missing after a reopen).
#include "fetch/fetch_state.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/fs/fault_injection_file_system.h"
#include "store/fs/file_system_wrapper.h"
#include "testing/temp_dir.h"

namespace poplar::fetch {
namespace {

using store::fs::FaultInjectionFileSystem;
using store::fs::posix_file_system;

constexpr const char* kKey = "pops://bob@mail.example.org";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_text(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class FetchStateTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_.path() / "acct.state").string(); }
  FetchState open_ok(store::fs::FileSystem& fs = posix_file_system()) {
    auto state = FetchState::open(fs, path(), kKey);
    EXPECT_TRUE(state.is_ok()) << state.status().to_string();
    if (!state.is_ok()) {
      std::abort();
    }
    return std::move(*state);
  }
  Status open_error(std::string_view contents) {
    write_text(path(), contents);
    auto state = FetchState::open(posix_file_system(), path(), kKey);
    EXPECT_FALSE(state.is_ok()) << contents;
    return state.is_ok() ? Status::ok() : state.status();
  }

  testing::TempDir dir_;
};

TEST_F(FetchStateTest, MissingFileIsAnEmptyStateAndGetsAHeader) {
  FetchState state = open_ok();
  EXPECT_EQ(state.size(), 0u);
  EXPECT_EQ(read_text(path()), std::string("poplar-fetch-state 1 ") + kKey + "\n");
  EXPECT_TRUE(state.close().is_ok());
}

TEST_F(FetchStateTest, RecordsSurviveAReopen) {
  {
    FetchState state = open_ok();
    ASSERT_TRUE(state.record("uidl-1", 1000).is_ok());
    ASSERT_TRUE(state.record("uidl-2", 1001).is_ok());
    ASSERT_TRUE(state.record("uidl-1", 5000).is_ok());  // known: the earliest time stays
    EXPECT_EQ(state.first_seen("uidl-1"), 1000);
    EXPECT_EQ(state.first_seen("nope"), std::nullopt);
    ASSERT_TRUE(state.close().is_ok());
    ASSERT_TRUE(state.close().is_ok());
  }
  EXPECT_EQ(read_text(path()),
            std::string("poplar-fetch-state 1 ") + kKey + "\n1000 uidl-1\n1001 uidl-2\n");
  {
    FetchState again = open_ok();
    EXPECT_EQ(again.size(), 2u);
    EXPECT_EQ(again.first_seen("uidl-2"), 1001);
    ASSERT_TRUE(again.record("!~", 0).is_ok());
  }  // destroyed without close(): every record() that returned OK is already in the file
  FetchState third = open_ok();
  EXPECT_EQ(third.first_seen("!~"), 0);
  // Compacted on open: sorted by time, then UIDL.
  EXPECT_EQ(read_text(path()),
            std::string("poplar-fetch-state 1 ") + kKey + "\n0 !~\n1000 uidl-1\n1001 uidl-2\n");
}

TEST_F(FetchStateTest, RecordIsOneAppendAndOneSync) {
  FaultInjectionFileSystem fs(posix_file_system());
  FetchState state = open_ok(fs);
  fs.reset();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(state.record("m" + std::to_string(i), 7).is_ok());
  }
  EXPECT_EQ(fs.operation_count(), 200u);
  EXPECT_EQ(fs.count(FaultInjectionFileSystem::Op::kAppend), 100u);
  EXPECT_EQ(fs.count(FaultInjectionFileSystem::Op::kSync), 100u);
  ASSERT_TRUE(state.close().is_ok());
}

TEST_F(FetchStateTest, AppendThenOneSyncCoversABatchAndCloseSyncsTheRest) {
  FaultInjectionFileSystem fs(posix_file_system());
  {
    FetchState state = open_ok(fs);
    fs.reset();
    for (int i = 0; i < 32; ++i) {
      ASSERT_TRUE(state.append("m" + std::to_string(i), 7).is_ok());
    }
    EXPECT_TRUE(state.first_seen("m31").has_value());  // known at once
    ASSERT_TRUE(state.sync().is_ok());
    ASSERT_TRUE(state.sync().is_ok());  // nothing new: no second fsync
    EXPECT_EQ(fs.count(FaultInjectionFileSystem::Op::kAppend), 32u);
    EXPECT_EQ(fs.count(FaultInjectionFileSystem::Op::kSync), 1u);
    ASSERT_TRUE(state.append("last", 8).is_ok());
    ASSERT_TRUE(state.close().is_ok());
    EXPECT_EQ(fs.count(FaultInjectionFileSystem::Op::kSync), 2u);  // close synced "last"
  }
  FetchState reopened = open_ok();
  EXPECT_EQ(reopened.first_seen("m0"), 7);
  EXPECT_EQ(reopened.first_seen("last"), 8);
}

TEST_F(FetchStateTest, OpenWritesThroughATempFileRenameAndDirectorySync) {
  FaultInjectionFileSystem fs(posix_file_system());
  FetchState state = open_ok(fs);
  std::vector<FaultInjectionFileSystem::Op> ops;
  for (const auto& record : fs.operations()) {
    ops.push_back(record.op);
  }
  using Op = FaultInjectionFileSystem::Op;
  EXPECT_EQ(ops, (std::vector<Op>{Op::kLockFile, Op::kReadFile, Op::kCreateFile, Op::kAppend,
                                  Op::kSync, Op::kRename, Op::kSyncDirectory}));
  ASSERT_TRUE(state.close().is_ok());
}

TEST_F(FetchStateTest, ASecondOpenOfTheSameAccountIsInUse) {
  FetchState first = open_ok();
  auto second = FetchState::open(posix_file_system(), path(), kKey);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kInUse);
  EXPECT_NE(second.status().message().find("another poplar fetch of"), std::string::npos)
      << second.status().message();
  ASSERT_TRUE(first.close().is_ok());
  // The lock lives as long as the object, not the file.
  EXPECT_FALSE(FetchState::open(posix_file_system(), path(), kKey).is_ok());
}

TEST_F(FetchStateTest, CreatesMissingDirectories) {
  std::string deep = (dir_.path() / "a" / "b" / "c.state").string();
  auto state = FetchState::open(posix_file_system(), deep, kKey);
  ASSERT_TRUE(state.is_ok()) << state.status().to_string();
  EXPECT_FALSE(read_text(deep).empty());
}

TEST_F(FetchStateTest, AnotherAccountsFileIsRefused) {
  Status status = open_error("poplar-fetch-state 1 pop://alice@h\n10 x\n");
  EXPECT_EQ(status.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(status.message().find("belongs to \"pop://alice@h\""), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("--state"), std::string::npos);
  // Nothing was rewritten.
  EXPECT_EQ(read_text(path()), "poplar-fetch-state 1 pop://alice@h\n10 x\n");
}

TEST_F(FetchStateTest, ATornLastLineIsIgnoredAndDuplicatesKeepTheEarliestTime) {
  write_text(path(), std::string("poplar-fetch-state 1 ") + kKey +
                         "\n20 dup\n5 other\n10 dup\n30 dup\n15 tor");
  FetchState state = open_ok();
  EXPECT_EQ(state.size(), 2u);
  EXPECT_EQ(state.first_seen("dup"), 10);
  EXPECT_EQ(state.first_seen("tor"), std::nullopt);
  EXPECT_EQ(read_text(path()), std::string("poplar-fetch-state 1 ") + kKey + "\n5 other\n10 dup\n");
}

TEST_F(FetchStateTest, AnEmptyFileIsAnEmptyState) {
  write_text(path(), "");
  EXPECT_EQ(open_ok().size(), 0u);
}

TEST_F(FetchStateTest, CorruptLinesAreNamedByNumber) {
  const std::string head = std::string("poplar-fetch-state 1 ") + kKey + "\n";
  struct Case {
    std::string text;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"poplar-fetch-state 1 " + std::string(kKey), "line 1: the header line is incomplete"},
      {"mpop uidls\n", "line 1: not a poplar fetch state file"},
      {"poplar-fetch-state 2 " + std::string(kKey) + "\n", "line 1: unknown format version"},
      {"poplar-fetch-state 1 \n", "line 1: the account URL"},
      {head + "1 a\n\n", "line 3: expected"},
      {head + "nospace\n", "line 2: expected"},
      {head + "x a\n", "line 2: the first-seen time"},
      {head + "-1 a\n", "line 2: the first-seen time"},
      {head + " a\n", "line 2: the first-seen time"},
      {head + "99999999999999999999 a\n", "line 2: the first-seen time"},
      {head + "9223372036854775808 a\n", "line 2: the first-seen time"},
      {head + "1 a b\n", "line 2: the UIDL"},
      {head + "1  a\n", "line 2: the UIDL"},
      {head + "1 a\r\n", "line 2: the UIDL"},
      {head + "1 " + std::string(71, 'u') + "\n", "line 2: the UIDL"},
      {head + "1 caf\xc3\xa9\n", "line 2: the UIDL"},
      {head + "1 a\n2 \n", "line 3: the UIDL"},
  };
  for (const auto& c : cases) {
    Status status = open_error(c.text);
    EXPECT_EQ(status.code(), ErrorCode::kCorrupt) << c.text;
    EXPECT_NE(status.message().find(c.message_part), std::string::npos)
        << status.message() << "\nexpected: " << c.message_part;
    EXPECT_NE(status.message().find(path()), std::string::npos) << status.message();
  }
  // 9223372036854775807 is the largest time accepted.
  write_text(path(), head + "9223372036854775807 a\n");
  EXPECT_EQ(open_ok().first_seen("a"), INT64_MAX);
}

TEST_F(FetchStateTest, BadArgumentsAreRefused) {
  EXPECT_EQ(FetchState::open(posix_file_system(), path(), "has space").status().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(FetchState::open(posix_file_system(), path(), "").status().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(FetchState::open(posix_file_system(), path() + "/", kKey).status().code(),
            ErrorCode::kInvalidInput);
  FetchState state = open_ok();
  EXPECT_EQ(state.record("", 1).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(state.record("a b", 1).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(state.record("a\n9 b", 1).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(state.record(std::string(71, 'x'), 1).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(state.record("ok", -1).code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(state.record(std::string(70, 'x'), 1).is_ok());
}

TEST_F(FetchStateTest, ForgottenUidlsLeaveTheFileAtClose) {
  {
    FetchState state = open_ok();
    for (const char* uidl : {"a", "b", "c"}) {
      ASSERT_TRUE(state.record(uidl, 1).is_ok());
    }
    EXPECT_EQ(state.forget_all_except([](const std::string& uidl) { return uidl != "b"; }), 1u);
    EXPECT_EQ(state.first_seen("b"), std::nullopt);
    ASSERT_TRUE(state.close().is_ok());
  }
  FetchState again = open_ok();
  EXPECT_EQ(again.size(), 2u);
  EXPECT_EQ(again.first_seen("b"), std::nullopt);
  EXPECT_EQ(again.forget_all_except([](const std::string&) { return true; }), 0u);
}

TEST_F(FetchStateTest, AfterAFailedWriteNothingMoreIsWritten) {
  FaultInjectionFileSystem fs(posix_file_system());
  FetchState state = open_ok(fs);
  fs.reset();
  fs.fail_at(2, ENOSPC);  // the sync of the first record
  Status failed = state.record("a", 1);
  EXPECT_EQ(failed.code(), ErrorCode::kTemporary);
  EXPECT_NE(failed.message().find(path()), std::string::npos) << failed.message();
  EXPECT_FALSE(state.record("b", 1).is_ok());
  EXPECT_FALSE(state.compact().is_ok());
  EXPECT_EQ(fs.count(FaultInjectionFileSystem::Op::kAppend), 1u);
}

// Runs one fetch's worth of state operations and returns the UIDLs whose record() returned OK.
std::set<std::string> run_session(store::fs::FileSystem& fs, const std::string& path) {
  std::set<std::string> recorded;
  auto state = FetchState::open(fs, path, kKey);
  if (!state.is_ok()) {
    return recorded;
  }
  auto record = [&](const std::string& uidl) {
    if (state->record(uidl, 100).is_ok()) {
      recorded.insert(uidl);
    }
  };
  record("new-1");
  record("new-2");
  state->forget_all_except([](const std::string& uidl) { return uidl != "old-2"; });
  (void)state->compact();
  record("new-3");
  record("new-4");
  state->forget_all_except([](const std::string& uidl) { return uidl != "old-3"; });
  (void)state->close();
  return recorded;
}

TEST_F(FetchStateTest, NoRecordedUidlIsLostWhicheverOperationFails) {
  auto prepare = [&] {
    FetchState state = open_ok();
    for (const char* uidl : {"old-1", "old-2", "old-3"}) {
      ASSERT_TRUE(state.record(uidl, 50).is_ok());
    }
    ASSERT_TRUE(state.close().is_ok());
  };
  FaultInjectionFileSystem fs(posix_file_system());
  prepare();
  fs.reset();
  ASSERT_EQ(run_session(fs, path()).size(), 4u);
  const uint64_t total = fs.operation_count();
  ASSERT_GT(total, 20u);
  int cases = 0;
  for (uint64_t n = 1; n <= total; ++n) {
    // A single failed operation (disk full, I/O error), and a dead disk from then on.
    for (auto [err, from] :
         {std::pair{ENOSPC, false}, std::pair{EIO, false}, std::pair{EIO, true}}) {
      {
        std::remove(path().c_str());
        prepare();
        fs.reset();
        if (from) {
          fs.fail_from(n, err);
        } else {
          fs.fail_at(n, err);
        }
        std::set<std::string> recorded = run_session(fs, path());
        auto reopened = FetchState::open(posix_file_system(), path(), kKey);
        ASSERT_TRUE(reopened.is_ok()) << "op " << n << ": " << reopened.status().to_string();
        for (const auto& uidl : recorded) {
          EXPECT_TRUE(reopened->first_seen(uidl).has_value())
              << uidl << " lost after a failure of operation " << n << " ("
              << FaultInjectionFileSystem::op_name(fs.operations()[n - 1].op) << ")";
        }
        // old-1 is never forgotten, so it survives every failure too.
        EXPECT_TRUE(reopened->first_seen("old-1").has_value()) << "op " << n;
        for (const auto& [uidl, time] : reopened->entries_for_test()) {
          EXPECT_TRUE(uidl.starts_with("old-") || uidl.starts_with("new-")) << uidl;
        }
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, static_cast<int>(total * 3));
}

// A file system whose appends to the state file write only the first half of the data and then
// fail, as a full disk can: the torn line must not hide earlier ones.
class TearingFileSystem : public store::fs::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  bool tear = false;

  Result<store::fs::WritableFilePtr> create_file(const std::string& path, uint32_t mode) override {
    auto file = FileSystemWrapper::create_file(path, mode);
    if (!file.is_ok()) {
      return file;
    }
    return store::fs::WritableFilePtr(std::make_unique<Tearing>(*this, std::move(*file)));
  }

 private:
  class Tearing : public store::fs::WritableFile {
   public:
    Tearing(TearingFileSystem& owner, store::fs::WritableFilePtr file)
        : owner_(owner), file_(std::move(file)) {}
    Status append(std::string_view data) override {
      if (owner_.tear) {
        (void)file_->append(data.substr(0, data.size() / 2));
        return Status::from_errno(ENOSPC, "write");
      }
      return file_->append(data);
    }
    Status sync() override { return file_->sync(); }
    Status close() override { return file_->close(); }

   private:
    TearingFileSystem& owner_;
    store::fs::WritableFilePtr file_;
  };
};

TEST_F(FetchStateTest, AHalfWrittenLineIsIgnoredOnReopen) {
  TearingFileSystem fs(posix_file_system());
  {
    FetchState state = open_ok(fs);
    ASSERT_TRUE(state.record("kept-1", 1).is_ok());
    ASSERT_TRUE(state.record("kept-2", 2).is_ok());
    fs.tear = true;
    EXPECT_FALSE(state.record("torn-line-uidl", 3).is_ok());
    EXPECT_FALSE(state.record("after", 4).is_ok());
  }
  FetchState again = open_ok();
  EXPECT_EQ(again.size(), 2u);
  EXPECT_TRUE(again.first_seen("kept-2").has_value());
  EXPECT_FALSE(again.first_seen("after").has_value());
}

TEST_F(FetchStateTest, LoadsAHundredThousandUidlsQuickly) {
  std::string text = std::string("poplar-fetch-state 1 ") + kKey + "\n";
  for (int i = 0; i < 100000; ++i) {
    text += std::to_string(1700000000 + i) + " 000000" + std::to_string(i) +
            "-0123456789abcdef0123456789abcdef\n";
  }
  write_text(path(), text);
  auto start = std::chrono::steady_clock::now();
  FetchState state = open_ok();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(state.size(), 100000u);
  std::printf("open (load + compacted rewrite) of 100,000 UIDLs, %zu bytes: %.1f ms\n", text.size(),
              std::chrono::duration<double, std::milli>(elapsed).count());
  EXPECT_EQ(read_text(path()), text);  // already in compacted order
}

}  // namespace
}  // namespace poplar::fetch
