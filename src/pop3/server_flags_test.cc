// POP4 FLGS, FLAG, COPY and MOVE in ServerSession (POP4.md "Flag commands", "Folder commands",
// "When changes take effect"): every form and every error, driven in-process by a small driver
// of its own over store::memory::MemoryStore (real folders, real flag commits), so that what
// UPDATE leaves in the store is checked, not only what the session says. A wrapping Maildrop
// plays a store with a keyword limit (a Maildir's 26) and one without folders.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/ascii.h"
#include "base/log.h"
#include "pop3/server_session.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"

namespace poplar::pop3 {
namespace {

using store::MessageFlags;
using store::SystemFlag;

// Forwards to a MemoryStore Maildrop and adds what the memory store lacks: a keyword limit
// like a Maildir's (distinct keywords of the snapshot plus those asked for), and optionally no
// folders at all.
class LimitedMaildrop final : public store::Maildrop {
 public:
  LimitedMaildrop(store::MaildropPtr inner, size_t max_keywords, bool folders)
      : inner_(std::move(inner)), max_keywords_(max_keywords), folders_(folders) {}
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
  MessageFlags flags(size_t index) const override { return inner_->flags(index); }
  Status check_keywords_fit(std::span<const std::string> keywords) const override {
    std::set<std::string> all;
    for (size_t i = 0; i < messages().size(); ++i) {
      const MessageFlags stored = flags(i);
      for (const std::string& k : stored.keywords()) {
        all.insert(ascii_upper(k));
      }
    }
    for (const std::string& k : keywords) {
      all.insert(ascii_upper(k));
    }
    if (all.size() > max_keywords_) {
      return Status::error(ErrorCode::kLimit, "This folder cannot hold more than " +
                                                  std::to_string(max_keywords_) +
                                                  " different keywords.");
    }
    return Status::ok();
  }
  store::Folders* folders() override { return folders_ ? inner_->folders() : nullptr; }

 private:
  store::MaildropPtr inner_;
  size_t max_keywords_;
  bool folders_;
};

// net/'s part, synchronously: every login succeeds, maildrops come from the MemoryStore (through
// `wrap` when set), UPDATE runs at once.
class MemoryDriver {
 public:
  MemoryDriver(ServerSession& session, store::memory::MemoryStore& store,
               std::function<store::MaildropPtr(store::MaildropPtr)> wrap)
      : session_(session), store_(store), wrap_(std::move(wrap)) {}

  bool run(std::string& out) {
    for (int step = 0; step < 1000000; ++step) {
      switch (session_.next_action()) {
        case ActionKind::kRead:
          return true;
        case ActionKind::kWrite: {
          std::string_view pending = session_.pending_output();
          max_pending_ = std::max(max_pending_, pending.size());
          out += pending;
          session_.consume_output(pending.size());
          break;
        }
        case ActionKind::kAuthenticate: {
          auth::AuthResult result;
          result.user.name = session_.auth_request().user;
          session_.on_auth_result(std::move(result));
          break;
        }
        case ActionKind::kOpenMaildrop: {
          Result<store::MaildropPtr> drop =
              store_.open_maildrop(session_.authenticated_user().name);
          if (drop.is_ok() && wrap_) {
            drop = wrap_(std::move(drop).value());
          }
          session_.on_maildrop_opened(std::move(drop));
          break;
        }
        case ActionKind::kCommitUpdate:
          ++commits_;
          session_.on_update_committed(session_.run_update());
          break;
        case ActionKind::kClose:
          closed_ = true;
          return true;
        case ActionKind::kStartTls:
          return false;
      }
    }
    return false;
  }

  bool closed() const { return closed_; }
  int commits() const { return commits_; }
  size_t max_pending_octets() const { return max_pending_; }

 private:
  ServerSession& session_;
  store::memory::MemoryStore& store_;
  std::function<store::MaildropPtr(store::MaildropPtr)> wrap_;
  bool closed_ = false;
  int commits_ = 0;
  size_t max_pending_ = 0;
};

MessageFlags flags_of(std::initializer_list<SystemFlag> system,
                      std::initializer_list<std::string_view> keywords = {}) {
  MessageFlags flags;
  for (SystemFlag f : system) {
    flags.set(f);
  }
  for (std::string_view k : keywords) {
    EXPECT_TRUE(flags.add_keyword(k));
  }
  return flags;
}

std::string message(int n) {
  return "Subject: message " + std::to_string(n) + "\r\n\r\nBody " + std::to_string(n) + ".\r\n";
}

class ServerFlagsTest : public ::testing::Test {
 protected:
  ServerFlagsTest() {
    config_.pop4.folders = true;
    config_.pop4.flags = true;
    log::set_sink_for_test([this](log::Level, std::string_view l) { logs_.emplace_back(l); });
    for (int i = 1; i <= 3; ++i) {
      EXPECT_TRUE(
          store_.add_message_with_uidl("alice", "u" + std::to_string(i), message(i)).is_ok());
    }
    // Message 1 is \Seen, message 3 \Flagged $Label1; Archive and Sent exist, empty.
    auto drop = store_.open_maildrop("alice");
    EXPECT_TRUE(drop.is_ok());
    store::FlagChange changes[] = {{0, flags_of({SystemFlag::kSeen})},
                                   {2, flags_of({SystemFlag::kFlagged}, {"$Label1"})}};
    EXPECT_TRUE((*drop)->commit_update({}, changes).is_ok());
    EXPECT_TRUE((*drop)->folders()->create("Archive").is_ok());
    EXPECT_TRUE((*drop)->folders()->create("Sent").is_ok());
  }
  ~ServerFlagsTest() override {
    driver_.reset();
    session_.reset();
    log::reset_sink();
  }

  void make_session() {
    session_ = std::make_unique<ServerSession>(config_, clock_, random_, "198.51.100.7");
    driver_ = std::make_unique<MemoryDriver>(*session_, store_, wrap_);
    session_->start();
    std::string greeting;
    ASSERT_TRUE(driver_->run(greeting));
  }
  std::string send(std::string_view bytes) {
    session_->receive(bytes);
    std::string out;
    EXPECT_TRUE(driver_->run(out));
    return out;
  }
  void login() {
    make_session();
    ASSERT_NE(send("USER alice\r\nPASS secret\r\n").find("+OK"), std::string::npos);
    ASSERT_EQ(session_->state(), SessionState::kTransaction);
  }
  std::string quit() {
    std::string out = send("QUIT\r\n");
    EXPECT_TRUE(driver_->closed());
    return out;
  }
  std::optional<MessageFlags> stored(std::string_view folder, std::string_view uidl) const {
    return store_.flags_for_test("alice", folder, uidl);
  }
  std::vector<std::string> uidls(std::string_view folder) const {
    return store_.uidls("alice", folder);
  }
  bool logged(std::string_view needle) const {
    for (const auto& l : logs_) {
      if (l.find(needle) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  // What the fixture's store shows before any session changed it.
  static constexpr std::string_view kInitialFlgs =
      "+OK 3 messages\r\n1 \\Seen\r\n2\r\n3 \\Flagged $Label1\r\n.\r\n";
  // Every error must leave this as it was.
  void expect_unchanged() {
    EXPECT_EQ(send("FLGS\r\n"), kInitialFlgs);
    EXPECT_EQ(send("STAT\r\n").substr(0, 6), "+OK 3 ");
  }
  void expect_store_unchanged() {
    EXPECT_EQ(uidls("INBOX"), (std::vector<std::string>{"u1", "u2", "u3"}));
    EXPECT_EQ(stored("INBOX", "u1"), flags_of({SystemFlag::kSeen}));
    EXPECT_EQ(stored("INBOX", "u2"), MessageFlags{});
    EXPECT_EQ(stored("INBOX", "u3"), flags_of({SystemFlag::kFlagged}, {"$Label1"}));
  }

  SessionConfig config_;
  poplar::testing::FakeClock clock_;
  poplar::testing::FakeRandom random_;
  store::memory::MemoryStore store_;
  std::function<store::MaildropPtr(store::MaildropPtr)> wrap_;
  std::unique_ptr<ServerSession> session_;
  std::unique_ptr<MemoryDriver> driver_;
  std::vector<std::string> logs_;
};

// --- FLGS ---

TEST_F(ServerFlagsTest, FlgsListsEveryLiveMessageWithItsStoredFlags) {
  login();
  EXPECT_EQ(send("FLGS\r\n"), kInitialFlgs);
  EXPECT_EQ(send("DELE 2\r\nFLGS\r\n"),
            "+OK Message 2 deleted.\r\n"
            "+OK 2 messages\r\n1 \\Seen\r\n3 \\Flagged $Label1\r\n.\r\n");
  EXPECT_EQ(send("flgs\r\n").substr(0, 16), "+OK 2 messages\r\n");  // any case
}

TEST_F(ServerFlagsTest, FlgsWithASetListsThoseAscendingOnce) {
  login();
  EXPECT_EQ(send("FLGS 3,1:2,2\r\n"),
            "+OK 3 messages\r\n1 \\Seen\r\n2\r\n3 \\Flagged $Label1\r\n.\r\n");
  EXPECT_EQ(send("FLGS 2\r\n"), "+OK 1 message\r\n2\r\n.\r\n");
}

TEST_F(ServerFlagsTest, FlgsErrorsComeBeforeAnyOk) {
  login();
  EXPECT_EQ(send("FLGS 5:2\r\n"), "-ERR Invalid message set: a range n:m needs n <= m.\r\n");
  EXPECT_EQ(send("FLGS 0\r\n"),
            "-ERR Invalid message set: numbers are 1 to 4294967295, as n, n:m or n,m.\r\n");
  EXPECT_EQ(send("FLGS 1:99999999999\r\n"),
            "-ERR Invalid message set: numbers are 1 to 4294967295, as n, n:m or n,m.\r\n");
  EXPECT_EQ(send("FLGS 1 2\r\n"), "-ERR Too many arguments.\r\n");
  EXPECT_EQ(send("FLGS 4\r\n"), "-ERR No such message.\r\n");
  EXPECT_EQ(send("FLGS 1:4000000000\r\n"), "-ERR No such message.\r\n");
  EXPECT_EQ(send("DELE 2\r\nFLGS 1:3\r\n"),
            "+OK Message 2 deleted.\r\n-ERR Message 2 is deleted.\r\n");
}

TEST_F(ServerFlagsTest, FlgsOfAHugeFolderStreamsWithinTheWatermark) {
  for (int i = 4; i <= 30000; ++i) {
    store_.add_message("alice", message(i));
  }
  login();
  std::string out = send("FLGS\r\n");
  EXPECT_EQ(out.substr(0, 20), "+OK 30000 messages\r\n");
  EXPECT_NE(out.find("\r\n29999\r\n30000\r\n.\r\n"), std::string::npos);
  EXPECT_LE(driver_->max_pending_octets(), ServerSession::kHighWatermarkOctets + 512);
  EXPECT_LT(session_->buffer_footprint_octets(), 4096u);
}

TEST_F(ServerFlagsTest, FlagsCommandsNeedTheirAbility) {
  config_.pop4.flags = false;
  login();
  EXPECT_EQ(send("FLGS\r\n"), "-ERR Unknown command.\r\n");
  EXPECT_EQ(send("FLAG 1 +\\Seen\r\n"), "-ERR Unknown command.\r\n");
  EXPECT_EQ(send("COPY 1 Archive\r\n"), "+OK 1 copied\r\n");  // FOLDERS is on
  config_.pop4.flags = true;
  config_.pop4.folders = false;
  login();
  EXPECT_EQ(send("COPY 1 Archive\r\n"), "-ERR Unknown command.\r\n");
  EXPECT_EQ(send("MOVE 1 Archive\r\n"), "-ERR Unknown command.\r\n");
}

TEST_F(ServerFlagsTest, FlagCommandsOnlyAfterLogin) {
  make_session();
  EXPECT_EQ(send("FLGS\r\n"), "-ERR Command not valid in this state.\r\n");
  EXPECT_EQ(send("FLAG 1 +\\Seen\r\n"), "-ERR Command not valid in this state.\r\n");
  EXPECT_EQ(send("COPY 1 Archive\r\n"), "-ERR Command not valid in this state.\r\n");
  EXPECT_EQ(send("MOVE 1 Archive\r\n"), "-ERR Command not valid in this state.\r\n");
}

// --- FLAG ---

TEST_F(ServerFlagsTest, FlagChangesShowInFlgsAndReachTheStoreOnlyAtQuit) {
  login();
  EXPECT_EQ(send("FLAG 1:2 +$Junk +\\Answered -\\Seen\r\n"), "+OK Flags changed.\r\n");
  EXPECT_EQ(send("FLAG 3 -\\FLAGGED -$label1 +\\draft\r\n"), "+OK Flags changed.\r\n");
  EXPECT_EQ(send("FLGS\r\n"),
            "+OK 3 messages\r\n1 \\Answered $Junk\r\n2 \\Answered $Junk\r\n3 \\Draft\r\n.\r\n");
  expect_store_unchanged();  // nothing before QUIT
  EXPECT_EQ(quit(), "+OK Bye, 0 messages deleted.\r\n");
  EXPECT_EQ(driver_->commits(), 1);
  EXPECT_EQ(stored("INBOX", "u1"), flags_of({SystemFlag::kAnswered}, {"$Junk"}));
  EXPECT_EQ(stored("INBOX", "u2"), flags_of({SystemFlag::kAnswered}, {"$Junk"}));
  EXPECT_EQ(stored("INBOX", "u3"), flags_of({SystemFlag::kDraft}));
  EXPECT_EQ(uidls("INBOX"), (std::vector<std::string>{"u1", "u2", "u3"}));
}

TEST_F(ServerFlagsTest, EditsApplyInOrderAndAFlagBackToStoredLeavesNothingForUpdate) {
  login();
  EXPECT_EQ(send("FLAG 2 +\\Seen -\\Seen +$A\r\n"), "+OK Flags changed.\r\n");
  EXPECT_EQ(send("FLGS 2\r\n"), "+OK 1 message\r\n2 $A\r\n.\r\n");
  EXPECT_EQ(send("FLAG 2 -$a\r\nFLAG 1 +\\Seen\r\n"),
            "+OK Flags changed.\r\n+OK Flags changed.\r\n");
  EXPECT_EQ(send("FLGS\r\n"), kInitialFlgs);
  quit();
  EXPECT_EQ(driver_->commits(), 0);  // no marks left: UPDATE had nothing to do
  expect_store_unchanged();
}

TEST_F(ServerFlagsTest, DeletedFlagIsJustAFlag) {
  login();
  EXPECT_EQ(send("FLAG 2 +\\Deleted\r\nSTAT\r\n").substr(0, 25), "+OK Flags changed.\r\n+OK 3");
  EXPECT_EQ(send("FLGS 2\r\n"), "+OK 1 message\r\n2 \\Deleted\r\n.\r\n");
  EXPECT_EQ(quit(), "+OK Bye, 0 messages deleted.\r\n");
  EXPECT_EQ(uidls("INBOX"), (std::vector<std::string>{"u1", "u2", "u3"}));
  EXPECT_EQ(stored("INBOX", "u2"), flags_of({SystemFlag::kDeleted}));
}

TEST_F(ServerFlagsTest, FlagErrorsChangeNothing) {
  login();
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"FLAG 5:2 +\\Seen", "-ERR Invalid message set: a range n:m needs n <= m."},
      {"FLAG 0 +\\Seen",
       "-ERR Invalid message set: numbers are 1 to 4294967295, as n, n:m or n,m."},
      {"FLAG 1:99999999999 +\\Seen",
       "-ERR Invalid message set: numbers are 1 to 4294967295, as n, n:m or n,m."},
      {"FLAG", "-ERR Missing message set."},
      {"FLAG 1", "-ERR Missing flag change (+flag or -flag)."},
      {"FLAG 1  +\\Seen", "-ERR Arguments are separated by a single space."},
      {"FLAG 1 +$Junk +\\Recent", "-ERR Not a flag that can be stored: \\Recent."},
      {"FLAG 1 \\Seen", "-ERR A flag change starts with + or -: \\Seen."},
      {"FLAG 1 +$Junk  +\\Seen", "-ERR Arguments are separated by a single space."},
      {"FLAG 1 +$Ju(nk",
       "-ERR Not a flag (a keyword is an atom of at most 64 characters): $Ju(nk."},
      {"FLAG 1 +$Junk -", "-ERR Not a flag (a keyword is an atom of at most 64 characters): ."},
      {"FLAG 1 +$Junk ", "-ERR Missing argument."},
      {"FLAG 4 +$Junk", "-ERR No such message."},
      {"FLAG 1:4000000000 +$Junk", "-ERR No such message."},
  };
  for (const auto& [command, answer] : cases) {
    EXPECT_EQ(send(std::string(command) + "\r\n"), std::string(answer) + "\r\n") << command;
  }
  expect_unchanged();
  EXPECT_EQ(send("DELE 2\r\nFLAG 1:3 +$Junk\r\n"),
            "+OK Message 2 deleted.\r\n-ERR Message 2 is deleted.\r\n");
  EXPECT_EQ(send("FLGS 1,3\r\n"), "+OK 2 messages\r\n1 \\Seen\r\n3 \\Flagged $Label1\r\n.\r\n");
  send("RSET\r\n");
  quit();
  EXPECT_EQ(driver_->commits(), 0);
  expect_store_unchanged();
}

TEST_F(ServerFlagsTest, FlagSyntaxErrorsCountAsBadCommands) {
  config_.max_bad_commands_after_login = 2;
  login();
  EXPECT_EQ(send("FLAG 1 +\\Recent\r\n"), "-ERR Not a flag that can be stored: \\Recent.\r\n");
  // Not a syntax error: not counted.
  EXPECT_EQ(send("FLAG 9 +\\Seen\r\n"), "-ERR No such message.\r\n");
  EXPECT_FALSE(driver_->closed());
  EXPECT_EQ(send("FLGS 0\r\n"), "-ERR Too many bad commands.\r\n");
  EXPECT_TRUE(driver_->closed());
  expect_store_unchanged();
}

TEST_F(ServerFlagsTest, AKeywordTheStoreCannotHoldIsRefusedAtOnce) {
  wrap_ = [](store::MaildropPtr inner) -> store::MaildropPtr {
    return std::make_unique<LimitedMaildrop>(std::move(inner), 26, true);
  };
  login();
  // $Label1 is stored; 25 more fit, counting the pending ones of every message.
  std::string edits;
  for (int k = 1; k <= 13; ++k) {
    edits += " +k" + std::to_string(k);
  }
  EXPECT_EQ(send("FLAG 1" + edits + "\r\n"), "+OK Flags changed.\r\n");
  edits.clear();
  for (int k = 14; k <= 25; ++k) {
    edits += " +k" + std::to_string(k);
  }
  EXPECT_EQ(send("FLAG 2" + edits + "\r\n"), "+OK Flags changed.\r\n");
  const std::string before = send("FLGS\r\n");
  EXPECT_EQ(send("FLAG 3 +k26 +\\Seen\r\n"),
            "-ERR [SYS/PERM] This folder cannot hold more than 26 different keywords.\r\n");
  EXPECT_EQ(send("FLAG 1:2 +k26\r\n"),
            "-ERR [SYS/PERM] This folder cannot hold more than 26 different keywords.\r\n");
  EXPECT_EQ(send("FLGS\r\n"), before);  // nothing changed
  // Keywords the folder has or will have cost nothing; removing and system flags always work.
  EXPECT_EQ(send("FLAG 3 +K1 +$label1 +\\Seen -k2\r\n"), "+OK Flags changed.\r\n");
  // A pending set the command replaces does not count: k13 leaves message 1, k26 takes its place.
  EXPECT_EQ(send("FLAG 1 -k13 +k26\r\n"), "+OK Flags changed.\r\n");
  EXPECT_EQ(send("FLAG 3 +k27\r\n"),
            "-ERR [SYS/PERM] This folder cannot hold more than 26 different keywords.\r\n");
  EXPECT_NE(logged("folder-command-failed"), true);  // the client's mistake: no log line
  quit();
  EXPECT_EQ(stored("INBOX", "u3")->keywords(), (std::vector<std::string>{"$Label1", "K1"}));
  EXPECT_EQ(stored("INBOX", "u1")->keywords().size(), 13u);
  EXPECT_TRUE(stored("INBOX", "u1")->has_keyword("k26"));
}

TEST_F(ServerFlagsTest, RsetUndoesFlagAndMoveMarksButNotTheCopies) {
  login();
  EXPECT_EQ(send("FLAG 1 -\\Seen +$Junk\r\nMOVE 2 Archive\r\n"),
            "+OK Flags changed.\r\n+OK 1 moved\r\n");
  EXPECT_EQ(send("STAT\r\n").substr(0, 6), "+OK 2 ");
  EXPECT_EQ(send("RSET\r\n").substr(0, 3), "+OK");
  expect_unchanged();
  EXPECT_EQ(quit(), "+OK Bye, 0 messages deleted.\r\n");
  EXPECT_EQ(driver_->commits(), 0);
  expect_store_unchanged();
  EXPECT_EQ(uidls("Archive").size(), 1u);  // the copy stays
}

TEST_F(ServerFlagsTest, ADroppedConnectionAppliesNothing) {
  login();
  EXPECT_EQ(send("FLAG 1:3 +$Junk\r\nMOVE 3 Archive\r\nDELE 1\r\n"),
            "+OK Flags changed.\r\n+OK 1 moved\r\n+OK Message 1 deleted.\r\n");
  session_->on_eof();
  std::string out;
  EXPECT_TRUE(driver_->run(out));
  EXPECT_TRUE(driver_->closed());
  EXPECT_EQ(driver_->commits(), 0);
  expect_store_unchanged();
  // The copy half of MOVE was immediate and stays, with the flags it had then.
  ASSERT_EQ(uidls("Archive").size(), 1u);
  EXPECT_EQ(stored("Archive", uidls("Archive")[0]),
            flags_of({SystemFlag::kFlagged}, {"$Junk", "$Label1"}));
}

// --- COPY ---

TEST_F(ServerFlagsTest, CopyCopiesWithTheFlagsAfterUpdateAndChangesNothingHere) {
  login();
  EXPECT_EQ(send("FLAG 2 +\\Answered\r\nCOPY 1:2 Archive\r\n"),
            "+OK Flags changed.\r\n+OK 2 copied\r\n");
  ASSERT_EQ(uidls("Archive").size(), 2u);
  EXPECT_EQ(stored("Archive", uidls("Archive")[0]), flags_of({SystemFlag::kSeen}));
  EXPECT_EQ(stored("Archive", uidls("Archive")[1]), flags_of({SystemFlag::kAnswered}));
  EXPECT_EQ(send("STAT\r\n").substr(0, 6), "+OK 3 ");
  EXPECT_EQ(send("COPY 3 \"Sent\"\r\ncopy 3 Sent\r\n"), "+OK 1 copied\r\n+OK 1 copied\r\n");
  EXPECT_EQ(uidls("Sent").size(), 2u);
  quit();
  EXPECT_EQ(uidls("INBOX"), (std::vector<std::string>{"u1", "u2", "u3"}));
  EXPECT_EQ(stored("INBOX", "u2"), flags_of({SystemFlag::kAnswered}));
}

TEST_F(ServerFlagsTest, CopyIntoTheSelectedFolderShowsInTheNextSession) {
  login();
  EXPECT_EQ(send("COPY 3 inbox\r\nSTAT\r\n").substr(0, 20), "+OK 1 copied\r\n+OK 3 ");
  quit();
  ASSERT_EQ(uidls("INBOX").size(), 4u);
  EXPECT_EQ(stored("INBOX", uidls("INBOX")[3]), flags_of({SystemFlag::kFlagged}, {"$Label1"}));
  login();
  EXPECT_EQ(send("STAT\r\n").substr(0, 6), "+OK 4 ");
}

TEST_F(ServerFlagsTest, CopyErrorsComeBeforeAnyCopy) {
  login();
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"COPY 1:3 Nowhere", "-ERR No such folder."},
      {"COPY 1 a//b", ""},  // the store's rule, whatever its words
      {"COPY 5:2 Archive", "-ERR Invalid message set: a range n:m needs n <= m."},
      {"COPY 0 Archive",
       "-ERR Invalid message set: numbers are 1 to 4294967295, as n, n:m or n,m."},
      {"COPY 1:99999999999 Archive",
       "-ERR Invalid message set: numbers are 1 to 4294967295, as n, n:m or n,m."},
      {"COPY 1", "-ERR Missing folder name."},
      {"COPY", "-ERR Missing message set."},
      {"COPY 1 Archive Sent", "-ERR Too many arguments."},
      {"COPY 1 \"Archive", "-ERR Unterminated quoted folder name."},
      {"COPY 4 Archive", "-ERR No such message."},
      {"MOVE 1:3 Nowhere", "-ERR No such folder."},
      {"MOVE 1 INBOX", "-ERR Messages cannot be moved into the folder they are in."},
      {"MOVE 1 inbox", "-ERR Messages cannot be moved into the folder they are in."},
      {"MOVE 1:4 Archive", "-ERR No such message."},
  };
  for (const auto& [command, answer] : cases) {
    std::string out = send(std::string(command) + "\r\n");
    EXPECT_EQ(out.substr(0, 5), "-ERR ") << command;
    EXPECT_EQ(out.substr(0, answer.size()), answer) << command << ": " << out;
  }
  EXPECT_EQ(send("DELE 2\r\nCOPY 1:3 Archive\r\nMOVE 2 Archive\r\n"),
            "+OK Message 2 deleted.\r\n-ERR Message 2 is deleted.\r\n"
            "-ERR Message 2 is deleted.\r\n");
  EXPECT_TRUE(uidls("Archive").empty());
  EXPECT_TRUE(uidls("Sent").empty());
  send("RSET\r\n");
  expect_unchanged();
  quit();
  expect_store_unchanged();
}

TEST_F(ServerFlagsTest, CopyWithoutFoldersInTheStoreIsRefused) {
  wrap_ = [](store::MaildropPtr inner) -> store::MaildropPtr {
    return std::make_unique<LimitedMaildrop>(std::move(inner), 100, false);
  };
  login();
  EXPECT_EQ(send("COPY 1 Archive\r\nMOVE 1 Archive\r\n"),
            "-ERR [SYS/PERM] This mailbox has no folders.\r\n"
            "-ERR [SYS/PERM] This mailbox has no folders.\r\n");
  expect_unchanged();
}

TEST_F(ServerFlagsTest, ACopyFailingMidwayKeepsTheCopiesMadeAndSaysHowMany) {
  login();
  ASSERT_TRUE(store_.remove_message_for_test("alice", "u2"));  // vanishes behind the session
  EXPECT_EQ(send("COPY 1:3 Archive\r\n"),
            "-ERR [SYS/TEMP] Message is temporarily unavailable. (1 of 3 copied)\r\n");
  EXPECT_EQ(uidls("Archive").size(), 1u);
  EXPECT_TRUE(logged("folder-command-failed"));
  EXPECT_EQ(send("MOVE 1:3 Sent\r\n"),
            "-ERR [SYS/TEMP] Message is temporarily unavailable. (1 of 3 copied, none marked)\r\n");
  EXPECT_EQ(uidls("Sent").size(), 1u);
  EXPECT_EQ(send("STAT\r\n").substr(0, 6), "+OK 3 ");  // MOVE marked nothing
  EXPECT_EQ(send("COPY 2 Archive\r\n"), "-ERR [SYS/TEMP] Message is temporarily unavailable.\r\n");
  EXPECT_EQ(send("COPY 3 Archive\r\n"), "+OK 1 copied\r\n");
}

// --- MOVE ---

TEST_F(ServerFlagsTest, MoveCopiesNowAndRemovesTheOriginalsAtQuit) {
  login();
  EXPECT_EQ(send("FLAG 3 +\\Seen\r\nMOVE 1,3 Archive\r\n"),
            "+OK Flags changed.\r\n+OK 2 moved\r\n");
  ASSERT_EQ(uidls("Archive").size(), 2u);
  EXPECT_EQ(stored("Archive", uidls("Archive")[1]),
            flags_of({SystemFlag::kSeen, SystemFlag::kFlagged}, {"$Label1"}));
  // Like DELE: gone from the listing and the counts, still stored until QUIT.
  EXPECT_EQ(send("STAT\r\n"), "+OK 1 " + std::to_string(message(2).size()) + "\r\n");
  EXPECT_EQ(send("RETR 1\r\n"), "-ERR No such message.\r\n");
  EXPECT_EQ(send("FLGS\r\n"), "+OK 1 message\r\n2\r\n.\r\n");
  EXPECT_EQ(send("MOVE 1 Sent\r\n"), "-ERR Message 1 is deleted.\r\n");
  EXPECT_EQ(uidls("INBOX").size(), 3u);
  EXPECT_EQ(quit(), "+OK Bye, 2 messages deleted.\r\n");
  EXPECT_EQ(uidls("INBOX"), (std::vector<std::string>{"u2"}));
  EXPECT_EQ(uidls("Archive").size(), 2u);
  EXPECT_EQ(stored("Archive", uidls("Archive")[0]), flags_of({SystemFlag::kSeen}));
}

TEST_F(ServerFlagsTest, CopyAndMoveNameFoldersQuotedAndInAnyInboxCase) {
  EXPECT_TRUE(store_.open_maildrop("alice").value()->folders()->create("Old Mail/2024").is_ok());
  login();
  EXPECT_EQ(send("MOVE 2 \"Old Mail/2024\"\r\n"), "+OK 1 moved\r\n");
  EXPECT_EQ(uidls("Old Mail/2024").size(), 1u);
  EXPECT_EQ(send("COPY 1 \"Old Mail\"\r\n"), "+OK 1 copied\r\n");
  EXPECT_EQ(uidls("Old Mail").size(), 1u);
}

}  // namespace
}  // namespace poplar::pop3
