// POP4 FOLDERS in ServerSession (server_handlers_folders.cc): the paths the golden transcripts
// (tests/transcripts/pop4/folders-*.txt, stor-*.txt) cannot reach, over a MemoryStore whose
// Folders can be made to fail: a backend without folders, store failures in LFLD, STOR's
// writer and commit, the open-folder bound of SFLD, and the memory bounds of LFLD with 10,000
// folders and of STOR with a message of many megabytes sent in one burst.
//
// Test-only; drives the session with its own small driver loop. Thread-safety: one thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "pop3/server_session.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"

namespace poplar::pop3 {
namespace {

// Failure knobs for the decorators below.
struct Knobs {
  bool no_folders = false;
  ErrorCode write_error = ErrorCode::kOk;
  ErrorCode commit_error = ErrorCode::kOk;
  ErrorCode counts_error = ErrorCode::kOk;  // for every folder but INBOX
};

class FailingWriter final : public store::FolderMessageWriter {
 public:
  FailingWriter(store::FolderMessageWriterPtr inner, const Knobs& knobs)
      : inner_(std::move(inner)), knobs_(knobs) {}
  Status write(std::string_view chunk) override {
    ++writes_;
    if (knobs_.write_error != ErrorCode::kOk && writes_ > 1) {
      return Status::error(knobs_.write_error, "fake disk full");
    }
    return inner_->write(chunk);
  }
  Result<std::string> commit() override {
    if (knobs_.commit_error != ErrorCode::kOk) {
      return Status::error(knobs_.commit_error, "fake fsync failure");
    }
    return inner_->commit();
  }
  uint64_t received_octets() const override { return inner_->received_octets(); }
  uint64_t stored_octets() const override { return inner_->stored_octets(); }
  std::string_view uidl() const override { return inner_->uidl(); }

 private:
  store::FolderMessageWriterPtr inner_;
  const Knobs& knobs_;
  int writes_ = 0;
};

class FailingFolders final : public store::Folders {
 public:
  FailingFolders(store::Folders& inner, const Knobs& knobs) : inner_(inner), knobs_(knobs) {}
  Result<std::vector<std::string>> list() override { return inner_.list(); }
  Result<store::FolderCounts> counts(std::string_view name) override {
    if (knobs_.counts_error != ErrorCode::kOk) {
      return Status::error(knobs_.counts_error, "fake counts failure");
    }
    return inner_.counts(name);
  }
  Result<store::MaildropPtr> open(std::string_view name) override { return inner_.open(name); }
  Status create(std::string_view name) override { return inner_.create(name); }
  Status remove(std::string_view name) override { return inner_.remove(name); }
  Status rename(std::string_view from, std::string_view to) override {
    return inner_.rename(from, to);
  }
  Status move_under(std::string_view name, std::string_view parent) override {
    return inner_.move_under(name, parent);
  }
  Status copy_message(store::Maildrop& source, size_t index, std::string_view target,
                      const store::MessageFlags& flags) override {
    return inner_.copy_message(source, index, target, flags);
  }
  Result<store::FolderMessageWriterPtr> begin_store(std::string_view target,
                                                    const store::MessageFlags& flags) override {
    auto writer = inner_.begin_store(target, flags);
    if (!writer.is_ok()) {
      return writer.status();
    }
    return store::FolderMessageWriterPtr(
        std::make_unique<FailingWriter>(std::move(writer).value(), knobs_));
  }

 private:
  store::Folders& inner_;
  const Knobs& knobs_;
};

class ShimDrop final : public store::Maildrop {
 public:
  ShimDrop(store::MaildropPtr inner, const Knobs& knobs)
      : inner_(std::move(inner)), knobs_(knobs), folders_(*inner_->folders(), knobs) {}
  const std::vector<store::MessageInfo>& messages() const override { return inner_->messages(); }
  Result<store::MessageReaderPtr> open_message(size_t index) override {
    return inner_->open_message(index);
  }
  Status commit_update(std::span<const size_t> deletions) override {
    return inner_->commit_update(deletions);
  }
  Status commit_update(std::span<const size_t> deletions,
                       std::span<const store::FlagChange> changes) override {
    return inner_->commit_update(deletions, changes);
  }
  store::MessageFlags flags(size_t index) const override { return inner_->flags(index); }
  store::Folders* folders() override { return knobs_.no_folders ? nullptr : &folders_; }

 private:
  store::MaildropPtr inner_;
  const Knobs& knobs_;
  FailingFolders folders_;
};

class ServerFoldersTest : public ::testing::Test {
 protected:
  ServerFoldersTest() {
    config_.pop4.folders = true;
    log::set_sink_for_test([this](log::Level, std::string_view l) { logs_.emplace_back(l); });
    store_.add_message("alice", "Subject: one\n\nHello\n");
  }
  ~ServerFoldersTest() override {
    session_.reset();
    log::reset_sink();
  }

  // Makes folders through the store's own Folders (before the session opens the INBOX).
  void make_folder(const std::string& name, int messages = 0) {
    auto drop = store_.open_maildrop("alice");
    ASSERT_TRUE(drop.is_ok());
    store::Folders* folders = (*drop)->folders();
    ASSERT_TRUE(folders->create(name).is_ok());
    for (int i = 0; i < messages; ++i) {
      auto writer = folders->begin_store(name, {});
      ASSERT_TRUE(writer.is_ok());
      ASSERT_TRUE((*writer)->write("Subject: m\r\n\r\nbody\r\n").is_ok());
      ASSERT_TRUE((*writer)->commit().is_ok());
    }
  }

  // Runs the session's actions until it wants input or closes; returns what it wrote.
  std::string run() {
    std::string out;
    for (int guard = 0; guard < 10'000'000; ++guard) {
      switch (session_->next_action()) {
        case ActionKind::kWrite: {
          std::string_view pending = session_->pending_output();
          max_pending_ = std::max(max_pending_, pending.size());
          out.append(pending);
          session_->consume_output(pending.size());
          break;
        }
        case ActionKind::kRead:
          return out;
        case ActionKind::kAuthenticate: {
          auth::AuthResult result;
          result.user.name = "alice";
          session_->on_auth_result(result);
          break;
        }
        case ActionKind::kOpenMaildrop: {
          auto drop = store_.open_maildrop("alice");
          if (!drop.is_ok()) {
            session_->on_maildrop_opened(drop.status());
          } else {
            session_->on_maildrop_opened(
                store::MaildropPtr(std::make_unique<ShimDrop>(std::move(drop).value(), knobs_)));
          }
          break;
        }
        case ActionKind::kCommitUpdate:
          session_->on_update_committed(session_->run_update());
          break;
        case ActionKind::kStartTls:
          ADD_FAILURE() << "no TLS here";
          return out;
        case ActionKind::kClose:
          closed_ = true;
          return out;
      }
    }
    ADD_FAILURE() << "the session never settled";
    return out;
  }
  std::string send(std::string_view bytes) {
    session_->receive(bytes);
    return run();
  }
  void login() {
    session_ = std::make_unique<ServerSession>(config_, clock_, random_, "198.51.100.7");
    session_->start();
    run();
    ASSERT_NE(send("USER alice\r\nPASS secret\r\n").find("+OK Logged in"), std::string::npos);
  }
  bool logged(std::string_view needle) const {
    for (const auto& l : logs_) {
      if (l.find(needle) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  SessionConfig config_;
  poplar::testing::FakeClock clock_;
  poplar::testing::FakeRandom random_;
  store::memory::MemoryStore store_;
  Knobs knobs_;
  std::unique_ptr<ServerSession> session_;
  size_t max_pending_ = 0;
  bool closed_ = false;
  std::vector<std::string> logs_;
};

TEST_F(ServerFoldersTest, BackendWithoutFoldersRefusesEveryFolderCommand) {
  knobs_.no_folders = true;
  login();
  const std::string refusal = "-ERR [SYS/PERM] This mailbox has no folders.\r\n";
  EXPECT_EQ(send("LFLD\r\n"), refusal);
  EXPECT_EQ(send("SFLD Work\r\n"), refusal);
  EXPECT_EQ(send("SFLD INBOX\r\n"), refusal);
  EXPECT_EQ(send("CFLD Work\r\n"), refusal);
  EXPECT_EQ(send("DFLD Work\r\n"), refusal);
  EXPECT_EQ(send("RENF Work Other\r\n"), refusal);
  EXPECT_EQ(send("MOVF Work \"\"\r\n"), refusal);
  EXPECT_EQ(send("STOR INBOX\r\n"), refusal);
  EXPECT_EQ(send("STAT\r\n"), "+OK 1 23\r\n");
}

TEST_F(ServerFoldersTest, StorWriteFailureReadsToTheTerminatorThenSysTemp) {
  make_folder("Archive");
  config_.max_stor_octets = 1 << 30;
  knobs_.write_error = ErrorCode::kTemporary;
  login();
  ASSERT_EQ(send("STOR Archive\r\n"), "+ send message\r\n");
  // Two chunks' worth, so the writer is called twice and fails the second time.
  std::string line(1000, 'x');
  std::string message;
  for (int i = 0; i < 150; ++i) {
    message += line + "\r\n";
  }
  EXPECT_EQ(send(message), "");
  EXPECT_EQ(send(".\r\nNOOP\r\n"),
            "-ERR [SYS/TEMP] Message could not be stored; try again later.\r\n+OK Still here.\r\n");
  EXPECT_TRUE(logged("fake disk full"));
  EXPECT_TRUE(store_.uidls("alice", "Archive").empty());
}

TEST_F(ServerFoldersTest, StorCommitFailureIsTheStoresError) {
  make_folder("Archive");
  knobs_.commit_error = ErrorCode::kTemporary;
  login();
  EXPECT_EQ(send("STOR Archive\r\nSubject: x\r\n.\r\n"),
            "+ send message\r\n-ERR [SYS/TEMP] Folder is temporarily unavailable; try again "
            "later.\r\n");
  EXPECT_TRUE(logged("fake fsync failure"));
  EXPECT_TRUE(store_.uidls("alice", "Archive").empty());
}

TEST_F(ServerFoldersTest, LfldStoreFailureAfterTheOkClosesTheConnection) {
  make_folder("Work");
  knobs_.counts_error = ErrorCode::kTemporary;
  login();
  // INBOX's line comes from the snapshot; Work's needs the store, which fails: an -ERR is no
  // longer possible and a "." would claim a complete list.
  EXPECT_EQ(send("LFLD\r\n"), "+OK 2 folders\r\nINBOX 1 23\r\n");
  EXPECT_TRUE(closed_);
  EXPECT_EQ(session_->close_reason(), CloseReason::kIoError);
}

TEST_F(ServerFoldersTest, LfldLeavesOutAFolderThatVanishedSinceTheListing) {
  make_folder("Work");
  knobs_.counts_error = ErrorCode::kNotFound;
  login();
  EXPECT_EQ(send("LFLD\r\n"), "+OK 2 folders\r\nINBOX 1 23\r\n.\r\n");
  EXPECT_FALSE(closed_);
}

TEST_F(ServerFoldersTest, TenThousandFoldersAreListedWithinTheWatermark) {
  {
    auto drop = store_.open_maildrop("alice");
    ASSERT_TRUE(drop.is_ok());
    for (int i = 0; i < 10'000; ++i) {
      ASSERT_TRUE((*drop)->folders()->create("Folder" + std::to_string(i)).is_ok());
    }
  }
  login();
  max_pending_ = 0;
  session_->receive("LFLD\r\n");
  // Drain a little at a time, as a slow client would.
  std::string out;
  for (int guard = 0; guard < 1'000'000 && !closed_; ++guard) {
    ActionKind action = session_->next_action();
    if (action == ActionKind::kRead) {
      break;
    }
    ASSERT_EQ(action, ActionKind::kWrite);
    std::string_view pending = session_->pending_output();
    max_pending_ = std::max(max_pending_, pending.size());
    size_t n = std::min<size_t>(pending.size(), 1000);
    out.append(pending.substr(0, n));
    session_->consume_output(n);
  }
  EXPECT_TRUE(out.starts_with("+OK 10001 folders\r\nINBOX 1 23\r\nFolder0 0 0\r\n"));
  EXPECT_TRUE(out.ends_with("Folder9999 0 0\r\n.\r\n"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 10'003);
  EXPECT_LT(max_pending_, ServerSession::kHighWatermarkOctets + 1024);
}

TEST_F(ServerFoldersTest, SfldKeepsAtMost64FoldersOpen) {
  for (int i = 0; i < 64; ++i) {
    make_folder("F" + std::to_string(i), 1);
  }
  login();
  // Each folder left with a DELE mark stays open for UPDATE: INBOX and 63 others fill the bound.
  for (int i = 0; i < 63; ++i) {
    ASSERT_EQ(send("SFLD F" + std::to_string(i) + "\r\nDELE 1\r\n"),
              "+OK 1 20\r\n+OK Message 1 deleted.\r\n")
        << i;
  }
  EXPECT_EQ(send("SFLD F63\r\n"),
            "-ERR [SYS/PERM] Too many folders with changes waiting for QUIT.\r\n");
  // The selection is unchanged, and open folders are still reachable.
  EXPECT_EQ(send("STAT\r\n"), "+OK 0 0\r\n");
  EXPECT_EQ(send("SFLD F0\r\n"), "+OK 0 0\r\n");
  EXPECT_EQ(send("QUIT\r\n"), "+OK Bye, 63 messages deleted.\r\n");
  EXPECT_TRUE(store_.uidls("alice", "F0").empty());
  EXPECT_EQ(store_.uidls("alice", "F63").size(), 1u);
}

TEST_F(ServerFoldersTest, StorOfSeveralMegabytesInOneBurstStaysWithinTheInputBounds) {
  make_folder("Archive");
  login();
  ASSERT_EQ(send("STOR Archive (\\Seen)\r\n"), "+ send message\r\n");
  const std::string line = std::string(76, 'A') + "\r\n";
  std::string burst;
  for (int i = 0; i < 1000; ++i) {
    burst += line;
  }
  size_t largest_footprint = 0;
  // 78 KB per receive(), as a driver reading 64 KiB and more at a time would hand it over.
  for (int i = 0; i < 80; ++i) {
    EXPECT_EQ(send(burst), "");
    largest_footprint = std::max(largest_footprint, session_->buffer_footprint_octets());
  }
  EXPECT_EQ(send(".\r\n"), "+OK m2\r\n");
  EXPECT_FALSE(closed_);
  EXPECT_LT(largest_footprint, 512u * 1024);
  auto flags = store_.flags_for_test("alice", "Archive", "m2");
  ASSERT_TRUE(flags.has_value());
  EXPECT_TRUE(flags->has(store::SystemFlag::kSeen));
  EXPECT_TRUE(logged("message-stored"));
}

TEST_F(ServerFoldersTest, StorSizeLimitCountsUnstuffedCrlfOctets) {
  make_folder("Archive");
  config_.max_stor_octets = 5;  // "..a\r\n" un-stuffs to ".a\r\n": 4 octets, then 1 more
  login();
  EXPECT_EQ(send("STOR Archive\r\n..a\r\n\r\n.\r\n"),
            "+ send message\r\n-ERR [SYS/PERM] Message is larger than the 5 octets this server "
            "stores.\r\n");
  EXPECT_EQ(send("STOR Archive\r\n..a\r\n.\r\n"), "+ send message\r\n+OK m2\r\n");
}

TEST_F(ServerFoldersTest, EofDuringStorStoresNothing) {
  make_folder("Archive");
  login();
  EXPECT_EQ(send("STOR Archive\r\nSubject: x\r\n\r\nbody\r\n"), "+ send message\r\n");
  session_->on_eof();
  run();
  EXPECT_TRUE(closed_);
  EXPECT_EQ(session_->close_reason(), CloseReason::kPeerClosed);
  EXPECT_TRUE(store_.uidls("alice", "Archive").empty());
}

}  // namespace
}  // namespace poplar::pop3
