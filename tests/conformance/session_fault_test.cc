// Session-level fault sweeps (issue 7): the real pop3::ServerSession, driven without sockets,
// over a Maildir store whose file system fails. For every operation N that a fault-free session
// makes, the sweep runs the session again on a fresh Maildir, failing operation N alone
// (fail_at) and then every operation from N on (fail_from: a dying disk, or a crash), with EIO,
// ENOSPC, EACCES and ENOENT (a vanishing file). Two scenarios: plain POP3 (first login, STAT,
// LIST, UIDL, RETR of every message, DELE of some, QUIT and UPDATE) and POP4 (STOR into a
// folder, COPY, MOVE, FLAG, DELE, QUIT).
//
// Whatever fails: no crash; every reply is +OK (or STOR's "+ " continuation) or an -ERR with the
// response code that pop3/error_mapping gives the injected errno (EIO, ENOSPC: kTemporary;
// ENOENT: kNotFound; both [SYS/TEMP]; EACCES: kPermission, [SYS/PERM]); a RETR that answers +OK
// sends the message's exact bytes; and afterwards a fault-free store and a fault-free session
// find exactly an allowed outcome: the lock released, unmarked messages present and
// byte-identical, marked ones all gone after QUIT's +OK and present-or-gone (never twice) after
// its -ERR, a stored or copied message absent or whole, never two copies of anything, and no
// leftover in tmp/ counted as a message.
//
// Must never: share a Maildir between iterations (operation sequences must repeat exactly); use
// big messages (it runs in make test twice, under ASan too).
// Single-threaded.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "pop3/server_session.h"
#include "store/fs/fault_injection_file_system.h"
#include "store/maildir/maildir_store.h"
#include "store/message_flags.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "testing/maildir_builder.h"
#include "testing/quiet_log.h"
#include "testing/temp_dir.h"

namespace poplar::conformance {
namespace {

using pop3::ActionKind;
using pop3::ServerSession;
using store::MaildropPtr;
using store::fs::FaultInjectionFileSystem;
namespace stdfs = std::filesystem;

constexpr int kErrnos[] = {EIO, ENOSPC, EACCES, ENOENT};

// The response code an -ERR caused by this errno must carry (store/fs/file_system.h maps the
// errno to an ErrorCode; pop3/error_mapping.h maps that to the wire).
std::string_view expected_code(int err) { return err == EACCES ? "[SYS/PERM]" : "[SYS/TEMP]"; }

// Distinct contents, so a message is recognised by its bytes in any folder.
constexpr std::string_view kMessage1 = "Subject: one\n\nfirst body\n";
constexpr std::string_view kMessage2 = "Subject: two\n\nsecond body\n";
constexpr std::string_view kMessage3 = "Subject: three\n\nthird body\n";
constexpr std::string_view kArchived = "Subject: old\n\narchived before\n";
constexpr std::string_view kStored = "Subject: stored\n\nby STOR\n";

// What a client receives for a stored message (LF -> CRLF; these have no dot lines).
std::string on_the_wire(std::string_view stored) {
  std::string out;
  for (char c : stored) {
    if (c == '\n') {
      out += '\r';
    }
    out += c;
  }
  return out;
}

// Message bytes -> how many times a fault-free store lists them in one folder.
using Census = std::map<std::string, int>;

Census census_of(const std::string& location, bool* opened) {
  store::maildir::MaildirStore clean(store::fs::posix_file_system());
  Result<MaildropPtr> drop = clean.open_maildrop(location);
  *opened = drop.is_ok();
  Census out;
  if (!drop.is_ok()) {
    ADD_FAILURE() << location << ": " << drop.status().to_string();
    return out;
  }
  for (size_t i = 0; i < (*drop)->messages().size(); ++i) {
    Result<store::MessageReaderPtr> reader = (*drop)->open_message(i);
    if (!reader.is_ok()) {
      ADD_FAILURE() << reader.status().to_string();
      continue;
    }
    std::string bytes;
    char buffer[4096];
    for (;;) {
      Result<size_t> n = (*reader)->read(buffer);
      if (!n.is_ok() || *n == 0) {
        break;
      }
      bytes.append(buffer, *n);
    }
    ++out[bytes];
  }
  return out;
}

// Flags of the INBOX message with these bytes, as a fault-free store reads them.
std::string flags_of(const std::string& location, std::string_view bytes) {
  store::maildir::MaildirStore clean(store::fs::posix_file_system());
  Result<MaildropPtr> drop = clean.open_maildrop(location);
  if (!drop.is_ok()) {
    return "<" + drop.status().to_string() + ">";
  }
  for (size_t i = 0; i < (*drop)->messages().size(); ++i) {
    Result<store::MessageReaderPtr> reader = (*drop)->open_message(i);
    char buffer[4096];
    Result<size_t> n = reader.is_ok() ? (*reader)->read(buffer) : Result<size_t>(size_t{0});
    if (n.is_ok() && std::string_view(buffer, *n) == bytes) {
      return store::format_flags((*drop)->flags(i));
    }
  }
  return "<absent>";
}

enum class Scenario {
  kPop3,  // first login (no index yet), STAT, LIST, UIDL, RETR 1-3, DELE 1, DELE 3, QUIT
  kPop4,  // login (index written), STOR Archive, COPY 2, MOVE 3, FLAG 1, DELE 2, QUIT
};

// A fresh Maildir: INBOX with three messages (one already read, in cur/), and for kPop4 a
// folder Archive holding one message and an index written by an earlier session.
class Fixture {
 public:
  explicit Fixture(Scenario scenario) : root_(dir_.path() / "Maildir") {
    testing::MaildirBuilder inbox(root_);
    inbox.add(kMessage1);
    inbox.add(kMessage2);
    inbox.add({.bytes = std::string(kMessage3), .in_cur = true, .flags = "S"});
    if (scenario == Scenario::kPop4) {
      store::maildir::MaildirStore clean(store::fs::posix_file_system());
      Result<MaildropPtr> drop = clean.open_maildrop(location());
      EXPECT_TRUE(drop.is_ok());
      EXPECT_TRUE((*drop)->folders()->create("Archive").is_ok());
      testing::MaildirBuilder archive(root_ / ".Archive");
      archive.add(kArchived);
    }
  }
  std::string location() const { return root_.string(); }
  std::string archive() const { return (root_ / ".Archive").string(); }
  const stdfs::path& root() const { return root_; }

 private:
  testing::TempDir dir_{testing::TempDir::Where::kTmpfsIfThere};
  stdfs::path root_;
};

// One session over `fs`, driven like net/ does, minus sockets: every action runs at once.
class Driver {
 public:
  Driver(store::fs::FileSystem& fs, std::string location, bool pop4)
      : store_(fs), location_(std::move(location)) {
    pop3::SessionConfig config;
    config.pop4.folders = pop4;
    config.pop4.flags = pop4;
    session_ = std::make_unique<ServerSession>(config, clock_, random_, "192.0.2.1");
    session_->start();
    greeting_ = run();
  }

  // Sends bytes, runs the session until it wants input or closes, returns what it wrote.
  std::string send(std::string_view bytes) {
    session_->receive(bytes);
    return run();
  }
  bool closed() const { return closed_; }
  const std::string& greeting() const { return greeting_; }

 private:
  std::string run() {
    std::string out;
    for (int guard = 0; guard < 100'000; ++guard) {
      switch (session_->next_action()) {
        case ActionKind::kWrite:
          out.append(session_->pending_output());
          session_->consume_output(session_->pending_output().size());
          break;
        case ActionKind::kRead:
          return out;
        case ActionKind::kAuthenticate: {
          auth::AuthResult result;
          result.user.name = "alice";
          session_->on_auth_result(result);
          break;
        }
        case ActionKind::kOpenMaildrop:
          session_->on_maildrop_opened(store_.open_maildrop(location_));
          break;
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

  testing::FakeClock clock_;
  testing::FakeRandom random_;
  store::maildir::MaildirStore store_;
  std::string location_;
  std::unique_ptr<ServerSession> session_;
  std::string greeting_;
  bool closed_ = false;
};

// What one run of a scenario's commands answered, for the checks afterwards.
struct Replies {
  bool logged_in = false;
  bool quit_ok = false;
  bool closed = false;
  std::map<std::string, bool> ok;           // command name -> it answered +OK
  std::map<uint32_t, std::string> content;  // message number -> its bytes (from UIDL)
};

// Message number `n` of the command (0: none), e.g. "RETR 2" -> 2, "MOVE 3 Archive" -> 3.
uint32_t number_in(std::string_view line) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos) {
    return 0;
  }
  uint32_t n = 0;
  for (size_t i = space + 1; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
    n = n * 10 + static_cast<uint32_t>(line[i] - '0');
  }
  return n;
}

// The checks of one reply: +OK (or "+ " for STOR), or -ERR with the expected code. `err` 0:
// the fault-free run, where only +OK is right. A message the snapshot left out (a file the OS
// refused to read, or one that vanished, is skipped at login: maildir_maildrop.cc) gets a plain
// "-ERR No such message."
void check_status_line(std::string_view name, std::string_view reply, int err, bool in_snapshot,
                       const std::string& where) {
  if (reply.starts_with("+OK") || (name.starts_with("STOR") && reply.starts_with("+ "))) {
    return;
  }
  if (err == 0) {
    ADD_FAILURE() << where << ": fault-free " << name << " answered " << reply;
    return;
  }
  if (!in_snapshot && (err == EACCES || err == ENOENT)) {
    EXPECT_TRUE(reply.starts_with("-ERR ")) << where << ": " << name << " answered " << reply;
    return;
  }
  // A folder that vanished (ENOENT on its directory) is what a missing folder looks like:
  // POP4 folder commands answer that without a response code (pop3/error_mapping.h).
  const bool folder_command =
      name == "STOR" || name == "STOR message" || name == "COPY" || name == "MOVE";
  if (err == ENOENT && folder_command && reply.starts_with("-ERR No such folder.")) {
    return;
  }
  // UPDATE reports every partial failure as kTemporary (the marks stay and are retried by the
  // next session's QUIT), whatever the errno.
  const std::string code(name == "QUIT" ? std::string_view("[SYS/TEMP]") : expected_code(err));
  const std::string wanted = "-ERR " + code + " ";
  EXPECT_TRUE(reply.starts_with(wanted))
      << where << ": " << name << " answered \"" << reply.substr(0, reply.find('\r'))
      << "\", wanted " << wanted;
}

// Sends one command line (and, for STOR, the message after "+ "); returns the reply.
std::string command(Driver& driver, Replies& replies, const std::string& name,
                    const std::string& line, int err, const std::string& where) {
  std::string reply = driver.send(line + "\r\n");
  if (driver.closed() && reply.empty()) {
    replies.closed = true;
    return "";
  }
  const uint32_t n = number_in(line);
  const bool in_snapshot = n == 0 || replies.content.contains(n);
  check_status_line(name, reply, err, in_snapshot, where);
  if (name == "STOR" && reply.starts_with("+ ")) {
    reply = driver.send(on_the_wire(kStored) + ".\r\n");
    check_status_line("STOR message", reply, err, true, where);
  }
  replies.ok[name] = reply.starts_with("+OK");
  if (name.starts_with("RETR ") && reply.starts_with("+OK") && !driver.closed()) {
    std::string_view body(reply);
    body.remove_prefix(body.find("\r\n") + 2);
    EXPECT_EQ(body, on_the_wire(replies.content[n]) + ".\r\n") << where << ": " << name;
  }
  replies.closed = driver.closed();
  return reply;
}

// "+OK\r\n1 uidl\r\n...\r\n.\r\n" -> number -> bytes, by the UIDLs of a fault-free open.
void learn_numbers(std::string_view reply, const std::map<std::string, std::string>& by_uidl,
                   Replies& replies, const std::string& where) {
  size_t at = reply.find("\r\n");
  while (at != std::string_view::npos && at + 2 < reply.size()) {
    size_t end = reply.find("\r\n", at + 2);
    std::string_view line = reply.substr(at + 2, end - at - 2);
    at = end;
    if (line == ".") {
      break;
    }
    size_t space = line.find(' ');
    std::string uidl(line.substr(space + 1));
    auto it = by_uidl.find(uidl);
    if (it == by_uidl.end()) {
      ADD_FAILURE() << where << ": unknown UIDL " << uidl;
      continue;
    }
    replies.content[number_in(" " + std::string(line.substr(0, space)))] = it->second;
  }
}

Replies run_scenario(Scenario scenario, store::fs::FileSystem& fs, const Fixture& fixture,
                     const std::map<std::string, std::string>& by_uidl, int err,
                     const std::string& where) {
  Replies replies;
  Driver driver(fs, fixture.location(), scenario == Scenario::kPop4);
  EXPECT_TRUE(driver.greeting().starts_with("+OK")) << where;
  command(driver, replies, "USER", "USER alice", err, where);
  std::string pass = command(driver, replies, "PASS", "PASS secret", err, where);
  replies.logged_in = pass.starts_with("+OK");
  if (replies.logged_in && !replies.closed) {
    // The snapshot's numbers, by UIDL (no file operation: the snapshot has them).
    std::string uidl = command(driver, replies, "UIDL", "UIDL", err, where);
    learn_numbers(uidl, by_uidl, replies, where);
    std::vector<std::pair<std::string, std::string>> commands;
    if (scenario == Scenario::kPop3) {
      commands = {{"STAT", "STAT"},     {"LIST", "LIST"},     {"RETR 1", "RETR 1"},
                  {"RETR 2", "RETR 2"}, {"RETR 3", "RETR 3"}, {"DELE 1", "DELE 1"},
                  {"DELE 3", "DELE 3"}};
    } else {
      commands = {{"STOR", "STOR Archive (\\Seen)"},
                  {"COPY", "COPY 2 Archive"},
                  {"MOVE", "MOVE 3 Archive"},
                  {"FLAG", "FLAG 1 +\\Flagged"},
                  {"DELE 2", "DELE 2"}};
    }
    for (const auto& [name, line] : commands) {
      if (replies.closed) {
        break;
      }
      command(driver, replies, name, line, err, where);
    }
  }
  if (!replies.closed) {
    std::string quit = command(driver, replies, "QUIT", "QUIT", err, where);
    replies.quit_ok = quit.starts_with("+OK");
    EXPECT_TRUE(driver.closed()) << where << ": QUIT did not close the session";
  }
  return replies;
}

// The allowed outcomes, checked by a fault-free store and a fault-free session.
void check_outcome(Scenario scenario, const Fixture& fixture, const Replies& r,
                   const std::string& where) {
  bool opened = false;
  Census inbox = census_of(fixture.location(), &opened);
  ASSERT_TRUE(opened) << where << ": the lock was not released, or the Maildir is broken";
  auto count = [](const Census& c, std::string_view bytes) {
    auto it = c.find(std::string(bytes));
    return it == c.end() ? 0 : it->second;
  };
  auto ok = [&](const std::string& name) { return r.ok.contains(name) && r.ok.at(name); };
  // The bytes of message number n of the session's snapshot ("" when it had none).
  auto bytes_of = [&](uint32_t n) {
    auto it = r.content.find(n);
    return it == r.content.end() ? std::string() : it->second;
  };
  // Only the three messages (and nothing from tmp/) are listed, each at most once.
  for (const auto& [bytes, n] : inbox) {
    EXPECT_TRUE(bytes == kMessage1 || bytes == kMessage2 || bytes == kMessage3)
        << where << ": INBOX lists something unexpected: " << bytes;
    EXPECT_LE(n, 1) << where << ": INBOX lists twice: " << bytes;
  }
  // Marked for removal (by +OK to DELE or MOVE of its number): gone after QUIT's +OK, present
  // or gone otherwise. Every other message is there.
  std::set<std::string> marked;
  for (const auto& [name, n] : std::vector<std::pair<std::string, uint32_t>>{
           {"DELE 1", 1}, {"DELE 2", 2}, {"DELE 3", 3}, {"MOVE", 3}}) {
    if (ok(name)) {
      marked.insert(bytes_of(n));
    }
  }
  for (std::string_view bytes : {kMessage1, kMessage2, kMessage3}) {
    if (!marked.contains(std::string(bytes))) {
      EXPECT_EQ(count(inbox, bytes), 1) << where << ": an unmarked message is missing: " << bytes;
    } else if (r.quit_ok) {
      EXPECT_EQ(count(inbox, bytes), 0) << where << ": QUIT said +OK but it is still there";
    }
  }
  if (scenario == Scenario::kPop4) {
    Census archive = census_of(fixture.archive(), &opened);
    ASSERT_TRUE(opened) << where << ": Archive cannot be opened";
    for (const auto& [bytes, n] : archive) {
      EXPECT_TRUE(bytes == kArchived || bytes == kStored || bytes == kMessage1 ||
                  bytes == kMessage2 || bytes == kMessage3)
          << where << ": Archive lists something unexpected: " << bytes;
      EXPECT_LE(n, 1) << where << ": Archive lists twice: " << bytes;
    }
    EXPECT_EQ(count(archive, kArchived), 1) << where << ": Archive lost its message";
    // +OK means durable: a later fault must not take it back.
    if (ok("STOR")) {
      EXPECT_EQ(count(archive, kStored), 1) << where << ": STOR said +OK";
    }
    if (ok("COPY")) {
      EXPECT_EQ(count(archive, bytes_of(2)), 1) << where << ": COPY said +OK";
    }
    if (ok("MOVE")) {
      EXPECT_EQ(count(archive, bytes_of(3)), 1) << where << ": MOVE said +OK";
    }
    // Never lost: a moved message is in INBOX or in Archive.
    if (ok("MOVE")) {
      EXPECT_GE(count(inbox, bytes_of(3)) + count(archive, bytes_of(3)), 1) << where;
    }
    if (r.quit_ok && ok("FLAG")) {
      EXPECT_EQ(flags_of(fixture.location(), bytes_of(1)).find("\\Flagged") != std::string::npos,
                true)
          << where << ": FLAG and QUIT said +OK";
    }
  }
  // The next session logs in (the lock is free).
  Driver next(store::fs::posix_file_system(), fixture.location(), false);
  EXPECT_TRUE(next.send("USER alice\r\n").starts_with("+OK")) << where;
  EXPECT_TRUE(next.send("PASS secret\r\n").starts_with("+OK Logged in")) << where;
  EXPECT_TRUE(next.send("QUIT\r\n").starts_with("+OK")) << where;
}

// UIDL -> bytes of a fresh fixture, by a fault-free open (MaildirBuilder's names are
// deterministic, so every fixture has the same UIDLs).
std::map<std::string, std::string> uidls_of_fixture(Scenario scenario) {
  Fixture fixture(scenario);
  store::maildir::MaildirStore clean(store::fs::posix_file_system());
  Result<MaildropPtr> drop = clean.open_maildrop(fixture.location());
  std::map<std::string, std::string> out;
  if (!drop.is_ok()) {
    ADD_FAILURE() << drop.status().to_string();
    return out;
  }
  for (size_t i = 0; i < (*drop)->messages().size(); ++i) {
    Result<store::MessageReaderPtr> reader = (*drop)->open_message(i);
    char buffer[4096];
    Result<size_t> n = reader.is_ok() ? (*reader)->read(buffer) : Result<size_t>(size_t{0});
    out[std::string((*drop)->messages()[i].uidl)] = std::string(buffer, n.is_ok() ? *n : 0);
  }
  return out;
}

std::string scenario_name(Scenario scenario) {
  return scenario == Scenario::kPop3 ? "pop3" : "pop4";
}

// The fault-free run: every reply +OK, and the expected end state. Returns its operations.
std::vector<FaultInjectionFileSystem::Record> clean_run(
    Scenario scenario, const std::map<std::string, std::string>& by_uidl) {
  Fixture fixture(scenario);
  FaultInjectionFileSystem counting(store::fs::posix_file_system());
  Replies r =
      run_scenario(scenario, counting, fixture, by_uidl, 0, scenario_name(scenario) + " clean");
  EXPECT_EQ(r.content.size(), 3u);
  EXPECT_TRUE(r.quit_ok);
  check_outcome(scenario, fixture, r, scenario_name(scenario) + " clean");
  return counting.operations();
}

void sweep(Scenario scenario) {
  testing::QuietLog quiet;
  const std::map<std::string, std::string> by_uidl = uidls_of_fixture(scenario);
  ASSERT_EQ(by_uidl.size(), 3u);
  const std::vector<FaultInjectionFileSystem::Record> clean = clean_run(scenario, by_uidl);
  const uint64_t total = clean.size();
  ASSERT_GT(total, 10u);
  for (bool from : {false, true}) {
    for (int err : kErrnos) {
      for (uint64_t n = 1; n <= total; ++n) {
        const std::string where = scenario_name(scenario) + (from ? " fail_from " : " fail_at ") +
                                  std::to_string(n) + "/" + std::to_string(total) + " " +
                                  strerrorname_np(err) + " (" +
                                  std::string(FaultInjectionFileSystem::op_name(clean[n - 1].op)) +
                                  " " + clean[n - 1].path + ")";
        Fixture fixture(scenario);
        FaultInjectionFileSystem faulty(store::fs::posix_file_system());
        if (from) {
          faulty.fail_from(n, err);
        } else {
          faulty.fail_at(n, err);
        }
        Replies r = run_scenario(scenario, faulty, fixture, by_uidl, err, where);
        check_outcome(scenario, fixture, r, where);
        if (::testing::Test::HasFailure()) {
          return;  // one iteration's failures say enough
        }
      }
    }
  }
}

TEST(SessionFaultTest, Pop3SessionSurvivesEveryFailedOperation) { sweep(Scenario::kPop3); }

TEST(SessionFaultTest, Pop4SessionSurvivesEveryFailedOperation) { sweep(Scenario::kPop4); }

}  // namespace
}  // namespace poplar::conformance
