// Fault sweep of `poplar fetch` delivery (issue 7): run_fetch with --delete against a real
// ServerSession over a memory store, served on loopback by a thread, into a Maildir and into an
// mbox, with every file operation of the run (state file, target) failed in turn through
// FetchAccount::file_system: operation N alone (fail_at) and every operation from N on
// (fail_from: a dying disk), with EIO, ENOSPC, EACCES and ENOENT. After each faulty run:
// nothing the server deleted is missing from the target (no loss), the exit code is what
// docs/fetch.md gives the errno (75 for EIO and ENOSPC, 74 for EACCES and ENOENT) and the message
// names the failing path and never the password. After a fault-free second run: exit 0, the
// server empty, every message in the target exactly once (no duplicate: a delivery whose UIDL
// could not be recorded is undone, fetch_run.cc). The one duplicate allowed is the documented
// window where the undo itself fails (fail_from), which the run reports as a warning.
//
// Must never: use a fixed port, sleep, or share a target between iterations.
// Thread-safety: each iteration's server runs on its own thread, over its own store.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstring>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "fetch/delivery_undo.h"
#include "fetch/fetch_run.h"
#include "pop3/server_session.h"
#include "store/fs/fault_injection_file_system.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "testing/quiet_log.h"
#include "testing/temp_dir.h"

namespace poplar::fetch {
namespace {

using store::fs::FaultInjectionFileSystem;
namespace stdfs = std::filesystem;

constexpr int kErrnos[] = {EIO, ENOSPC, EACCES, ENOENT};
constexpr std::string_view kPassword = "s3cret-Pa55";
const std::vector<std::string> kMessages = {
    "Subject: one\n\nfirst body\n",
    "Subject: two\n\nsecond body\n",
    "Subject: three\n\nthird body\n",
};

// docs/fetch.md "Output and exit codes": a local failure that is temporary is 75, one that needs
// a person 74 (store/fs: EIO and ENOSPC are kTemporary, EACCES kPermission, ENOENT kNotFound).
int expected_exit(int err) { return err == EIO || err == ENOSPC ? kExTempFail : kExIoErr; }

// A POP3 server on 127.0.0.1 (port 0): a thread accepting connections one after the other and
// driving a ServerSession over `store` for each, until destroyed.
class LoopbackServer {
 public:
  explicit LoopbackServer(store::MailStore& store) : store_(store) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 4) == 0;
    socklen_t length = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length);
    port_ = ntohs(a.sin_port);
    if (ok_) {
      thread_ = std::thread([this] { accept_loop(); });
    }
  }
  ~LoopbackServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) {
      thread_.join();
    }
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }

 private:
  void accept_loop() {
    for (;;) {
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        return;  // shut down
      }
      serve(client);
      ::close(client);
    }
  }

  void serve(int fd) {
    testing::FakeClock clock;
    testing::FakeRandom random;
    pop3::SessionConfig config;
    pop3::ServerSession session(config, clock, random, "127.0.0.1");
    session.start();
    char buffer[16 * 1024];
    for (;;) {
      switch (session.next_action()) {
        case pop3::ActionKind::kWrite: {
          std::string_view out = session.pending_output();
          ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
          if (n <= 0) {
            session.abort(pop3::CloseReason::kIoError);
            break;
          }
          session.consume_output(static_cast<size_t>(n));
          break;
        }
        case pop3::ActionKind::kRead: {
          ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
          if (n <= 0) {
            session.on_eof();
          } else {
            session.receive(std::string_view(buffer, static_cast<size_t>(n)));
          }
          break;
        }
        case pop3::ActionKind::kAuthenticate: {
          auth::AuthResult result;
          if (session.auth_request().user == "alice" &&
              session.auth_request().password.view() == kPassword) {
            result.user.name = "alice";
          } else {
            result.status = Status::error(ErrorCode::kAuthFailed, "wrong password");
          }
          session.on_auth_result(result);
          break;
        }
        case pop3::ActionKind::kOpenMaildrop:
          session.on_maildrop_opened(store_.open_maildrop("alice"));
          break;
        case pop3::ActionKind::kCommitUpdate:
          session.on_update_committed(session.run_update());
          break;
        case pop3::ActionKind::kStartTls:
          return;
        case pop3::ActionKind::kClose:
          return;
      }
    }
  }

  store::MailStore& store_;
  int fd_ = -1;
  bool ok_ = false;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Message bytes -> how often the target holds them.
using Census = std::map<std::string, int>;

std::string slurp(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Census maildir_census(const stdfs::path& root) {
  Census out;
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    for (const auto& entry : stdfs::directory_iterator(root / sub, ec)) {
      ++out[slurp(entry.path())];
    }
  }
  return out;
}

// mboxrd (docs/formats/mbox.md): a "From " line starts each message, a blank line ends it.
// These messages hold no "From " lines of their own, so no quoting to undo.
Census mbox_census(const stdfs::path& file) {
  Census out;
  std::string text = slurp(file);
  size_t at = 0;
  while (at < text.size()) {
    EXPECT_EQ(text.compare(at, 5, "From "), 0) << "mbox: no From_ line at " << at;
    size_t body = text.find('\n', at);
    if (body == std::string::npos) {
      ADD_FAILURE() << "mbox: a torn From_ line";
      break;
    }
    ++body;
    size_t next = text.find("\n\nFrom ", body);
    size_t end = next == std::string::npos ? text.size() : next + 2;
    std::string message = text.substr(body, end - body);
    if (message.size() >= 2 && message.ends_with("\n\n")) {
      message.pop_back();  // the separator
    } else {
      ADD_FAILURE() << "mbox: a message without its separator";
    }
    ++out[message];
    at = end;
  }
  return out;
}

struct Iteration {
  Target::Kind kind;
  bool from;
  int err;
  uint64_t n;  // 0: no fault
};

std::string describe(const Iteration& it, uint64_t total) {
  return std::string(it.kind == Target::Kind::kMaildir ? "maildir" : "mbox") +
         (it.from ? " fail_from " : " fail_at ") + std::to_string(it.n) + "/" +
         std::to_string(total) + " " + strerrorname_np(it.err);
}

class World {
 public:
  explicit World(Target::Kind kind) : server_(store_), kind_(kind) {
    for (const std::string& m : kMessages) {
      store_.add_message("alice", m);
    }
  }

  FetchAccount account(store::fs::FileSystem* fs) const {
    FetchAccount a;
    a.url = *parse_pop_url("pop://alice@127.0.0.1:" + std::to_string(server_.port()));
    a.password = Secret(kPassword);
    a.insecure_plaintext = true;
    a.policy.keep = FetchPolicy::Keep::kDelete;
    a.target.kind = kind_;
    a.target.where = target_path().string();
    a.state_path = (dir_.path() / "state" / "fetch.state").string();
    a.file_system = fs;
    return a;
  }
  stdfs::path target_path() const {
    return dir_.path() / (kind_ == Target::Kind::kMaildir ? "Mail" : "mbox");
  }
  Census census() const {
    return kind_ == Target::Kind::kMaildir ? maildir_census(target_path())
                                           : mbox_census(target_path());
  }
  std::vector<std::string> on_server() const { return store_.uidls("alice"); }
  bool ok() const { return server_.ok(); }

 private:
  testing::TempDir dir_{testing::TempDir::Where::kTmpfsIfThere};
  store::memory::MemoryStore store_;
  LoopbackServer server_;
  Target::Kind kind_;
};

constexpr int64_t kNow = 1'800'000'000;

// The fault-free run; returns the file operations it made.
std::vector<FaultInjectionFileSystem::Record> clean_run(Target::Kind kind) {
  World world(kind);
  EXPECT_TRUE(world.ok());
  FaultInjectionFileSystem counting(store::fs::posix_file_system());
  FetchSummary summary = run_fetch(world.account(&counting), kNow);
  EXPECT_TRUE(summary.status.is_ok()) << summary.status.to_string();
  EXPECT_EQ(summary.exit_code, kExOk);
  EXPECT_EQ(summary.fetched, kMessages.size());
  EXPECT_TRUE(world.on_server().empty());
  Census census = world.census();
  for (const std::string& m : kMessages) {
    EXPECT_EQ(census[m], 1) << m;
  }
  return counting.operations();
}

void check_iteration(const Iteration& it, uint64_t total) {
  const std::string where = describe(it, total);
  World world(it.kind);
  ASSERT_TRUE(world.ok());
  FaultInjectionFileSystem faulty(store::fs::posix_file_system());
  if (it.from) {
    faulty.fail_from(it.n, it.err);
  } else {
    faulty.fail_at(it.n, it.err);
  }
  FetchSummary first = run_fetch(world.account(&faulty), kNow);
  // The paths of the operations that failed: op n, or (fail_from) every one from n on. Some
  // failures are absorbed (a best-effort cleanup), so the message names one of them.
  std::vector<std::string> failed_paths;
  for (const auto& record : faulty.operations()) {
    if (record.number == it.n || (it.from && record.number > it.n)) {
      failed_paths.push_back(record.path);
    }
  }

  // No loss: what the server no longer has is in the target.
  std::vector<std::string> left = world.on_server();
  Census after_first = world.census();
  if (left.size() < kMessages.size()) {
    // Which ones are gone is not visible by UIDL here; count instead: every message the server
    // dropped must be in the target.
    size_t delivered = 0;
    for (const std::string& m : kMessages) {
      delivered += after_first.contains(m) ? 1 : 0;
    }
    EXPECT_GE(delivered, kMessages.size() - left.size()) << where << ": a message was lost";
  }
  const std::string text = first.status.to_string() + " " + first.first_error;
  EXPECT_EQ(text.find(kPassword), std::string::npos) << where << ": the password in " << text;
  if (!first.status.is_ok()) {
    EXPECT_EQ(first.exit_code, expected_exit(it.err)) << where << ": " << text;
    bool named = false;
    for (const std::string& path : failed_paths) {
      named = named || (!path.empty() && text.find(path) != std::string::npos);
    }
    EXPECT_TRUE(named) << where << ": the message names no failed path: " << text;
  }

  // The fault-free second run completes the job, once. A failed unlink of the mbox's dotlock
  // leaves it behind, and a dotlock is only taken for stale after 5 minutes (mbox_lock.h):
  // that run happens later, on a clock that far ahead.
  FaultInjectionFileSystem later(store::fs::posix_file_system());
  std::error_code ec;
  if (stdfs::exists(world.target_path().string() + ".lock", ec)) {
    later.set_now_offset_ns(int64_t{10} * 60 * 1'000'000'000);
  }
  FetchSummary second = run_fetch(world.account(&later), kNow);
  EXPECT_EQ(second.exit_code, kExOk) << where << ": " << second.status.to_string();
  EXPECT_TRUE(world.on_server().empty()) << where;
  bool undo_failed = false;
  for (const std::string& w : first.warnings) {
    undo_failed = undo_failed || w.find("could not be undone") != std::string::npos;
  }
  // A dead disk (fail_from) also fails the mbox writer's own roll-back: a message whose fsync
  // failed stays whole in the mbox (mbox_writer.h), unrecorded, and comes again.
  const bool may_double = undo_failed || (it.from && it.kind == Target::Kind::kMbox);
  Census census = world.census();
  EXPECT_EQ(census.size(), kMessages.size()) << where << ": something else is in the target";
  for (const std::string& m : kMessages) {
    if (may_double) {
      EXPECT_GE(census[m], 1) << where << ": lost " << m;
      EXPECT_LE(census[m], 2) << where << ": " << m;
    } else {
      EXPECT_EQ(census[m], 1) << where << ": " << m;
    }
  }
}

void sweep(Target::Kind kind) {
  testing::QuietLog quiet;
  const std::vector<FaultInjectionFileSystem::Record> clean = clean_run(kind);
  const uint64_t total = clean.size();
  ASSERT_GT(total, 10u);
  for (bool from : {false, true}) {
    for (int err : kErrnos) {
      for (uint64_t n = 1; n <= total; ++n) {
        const FaultInjectionFileSystem::Record& op = clean[n - 1];
        if (!from && op.op == FaultInjectionFileSystem::Op::kUnlink && op.path.ends_with(".lock")) {
          // KNOWN (docs/reliability.md "Fault sweeps"): MboxLock::release() ignores a failed
          // unlink of the dotlock; the run's next delivery then waits out lock_wait_ms (5 s)
          // and fails with kInUse (exit 75), and later runs fail until the dotlock is stale
          // (5 minutes). Nothing is lost or doubled, but each such iteration costs seconds.
          continue;
        }
        check_iteration({kind, from, err, n}, total);
        if (::testing::Test::HasFailure()) {
          return;  // one iteration's failures say enough
        }
      }
    }
  }
}

// The undo truncates only what this run appended: with another program's message after its
// own, the mbox is left alone.
TEST(DeliveryUndoTest, MboxUndoTruncatesOnlyItsOwnMessages) {
  testing::TempDir dir{testing::TempDir::Where::kTmpfsIfThere};
  const std::string mbox = (dir.path() / "mbox").string();
  const std::string before = "From a@b Thu Jan  1 00:00:00 1970\nSubject: old\n\n";
  const std::string ours = "From c@d Thu Jan  1 00:00:00 1970\nSubject: ours\n\n>From x\n\n";
  const std::string theirs = "From e@f Thu Jan  1 00:00:00 1970\nSubject: theirs\n\n";
  std::ofstream(mbox, std::ios::binary) << before << ours << theirs;
  store::fs::FileSystem& fs = store::fs::posix_file_system();
  EXPECT_EQ(undo_mbox_deliveries(fs, mbox, before.size(), 1).code(), ErrorCode::kPermanent);
  EXPECT_EQ(slurp(mbox), before + ours + theirs);
  EXPECT_EQ(undo_mbox_deliveries(fs, mbox, before.size() + 1, 2).code(), ErrorCode::kPermanent);
  EXPECT_TRUE(undo_mbox_deliveries(fs, mbox, before.size(), 2).is_ok());
  EXPECT_EQ(slurp(mbox), before);
  EXPECT_FALSE(stdfs::exists(mbox + ".lock"));
  EXPECT_EQ(*mbox_offset_of(mbox + "@" + std::to_string(before.size())), before.size());
  EXPECT_FALSE(mbox_offset_of("no-offset").is_ok());
}

TEST(FetchFaultTest, MaildirDeliverySurvivesEveryFailedOperation) { sweep(Target::Kind::kMaildir); }

TEST(FetchFaultTest, MboxDeliverySurvivesEveryFailedOperation) { sweep(Target::Kind::kMbox); }

}  // namespace
}  // namespace poplar::fetch
