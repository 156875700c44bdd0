// Tests for ClientSession against scripted servers: each script is a list of steps (what the
// server sends, what the client must write in answer). Every script runs with the server's
// bytes fed whole, byte by byte, and cut at every offset of every step; the client's bytes and
// the events must be the same every time. The SPEC §16 items are named in the test names.
#include "pop3/client_session.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/base64.h"
#include "sasl/cram_md5.h"
#include "testing/fake_random.h"
#include "testing/transcript.h"

namespace poplar::pop3 {
namespace {

using testing::escape_for_display;

struct Step {
  std::string server;  // fed to receive()
  std::string client;  // what the client must have written after it (all of it)
  bool eof = false;    // after feeding `server`, the server closes
};

// What the fetch driver does with the listing.
struct Policy {
  bool retrieve = true;
  bool remove = false;  // DELE after each RETR (queued up front, like a "delete" fetch)
  bool quit = true;
  bool move = false;  // MOVE after each RETR (POP4), like a --move-to fetch
};

// Records events as text; plays a fetch driver.
class Recorder final : public ClientEvents {
 public:
  explicit Recorder(Policy policy) : policy_(policy) {}
  ClientSession* session = nullptr;
  std::vector<std::string> log;
  std::map<uint32_t, std::string> bodies;
  size_t max_outstanding = 0;

  void on_logged_in(std::string_view method) override {
    log.push_back("login " + std::string(method));
  }
  void on_listing(std::span<const ListedMessage> messages) override {
    std::string line = "listing";
    for (const ListedMessage& m : messages) {
      line += " " + std::to_string(m.number) + ":" + std::to_string(m.octets) + ":" + m.uidl;
    }
    log.push_back(line);
    for (const ListedMessage& m : messages) {
      if (policy_.retrieve) {
        session->retrieve(m.number);
      }
      if (policy_.remove) {
        session->remove(m.number);
      }
      if (policy_.move) {
        session->move(m.number);
      }
    }
    if (policy_.quit) {
      session->finish();
    }
  }
  void on_message_begin(uint32_t n) override { log.push_back("begin " + std::to_string(n)); }
  void on_message_data(uint32_t n, std::string_view data) override { bodies[n].append(data); }
  void on_message_end(uint32_t n, uint64_t octets) override {
    log.push_back("end " + std::to_string(n) + " " + std::to_string(octets));
  }
  void on_message_error(uint32_t n, const ServerReply& reply) override {
    log.push_back("error " + std::to_string(n) + " " + reply.text);
  }
  void on_deleted(uint32_t n, const ServerReply& reply) override {
    log.push_back("deleted " + std::to_string(n) + (reply.ok ? " ok" : " err"));
  }
  void on_moved(uint32_t n, const ServerReply& reply) override {
    log.push_back("moved " + std::to_string(n) + (reply.ok ? " ok" : " err"));
  }
  void on_folders(std::span<const FolderListing> folders) override {
    std::string line = "folders";
    for (const FolderListing& f : folders) {
      line += " [" + f.name + "]:" + std::to_string(f.messages) + ":" + std::to_string(f.octets);
    }
    log.push_back(line);
    if (policy_.quit) {
      session->finish();
    }
  }
  void on_quit(const ServerReply& reply) override {
    log.push_back(reply.ok ? "quit ok" : "quit err");
  }
  void on_failed(const ClientFailure& failure) override {
    log.push_back("failed " + std::string(failure_kind_name(failure.kind)) + ": " + failure.reason +
                  (failure.needs.empty() ? "" : " (needs " + failure.needs + ")"));
  }

 private:
  Policy policy_;
};

struct Outcome {
  std::string client;  // everything the client wrote
  std::vector<std::string> log;
  std::map<uint32_t, std::string> bodies;
  std::string failure;  // first step whose client bytes differed
  ClientAction last_action = ClientAction::kRead;
  size_t max_outstanding = 0;
  bool failed_while_pipelining = false;
};

// How to cut each step's server bytes.
struct Split {
  enum Kind { kWhole, kBytewise, kAt } kind = kWhole;
  size_t at = 0;
};

sasl::ChannelBindings test_bindings() {
  sasl::ChannelBindings b;
  b.tls_active = true;
  b.tls_exporter = std::string(32, 'x');
  return b;
}

Outcome run(const ClientSessionConfig& config, const std::vector<Step>& steps, Policy policy,
            Split split) {
  testing::FakeRandom random;
  Recorder recorder(policy);
  ClientSession session(config, recorder, random);
  recorder.session = &session;
  Outcome outcome;
  std::string written;
  auto drain = [&] {
    for (int guard = 0; guard < 1000; ++guard) {
      outcome.max_outstanding = std::max(outcome.max_outstanding, session.outstanding());
      ClientAction action = session.next_action();
      outcome.last_action = action;
      if (action == ClientAction::kWrite) {
        // Written in pieces of 3 octets, as a slow socket would take them.
        size_t n = std::min<size_t>(3, session.pending_output().size());
        written.append(session.pending_output().substr(0, n));
        session.consume_output(n);
      } else if (action == ClientAction::kStartTls) {
        session.on_tls_started(test_bindings());
      } else {
        return;
      }
    }
  };
  drain();
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    std::string_view bytes = step.server;
    if (split.kind == Split::kBytewise) {
      for (size_t k = 0; k < bytes.size(); ++k) {
        session.receive(bytes.substr(k, 1));
      }
    } else if (split.kind == Split::kAt && split.at < bytes.size()) {
      session.receive(bytes.substr(0, split.at));
      session.receive(bytes.substr(split.at));
    } else {
      session.receive(bytes);
    }
    if (step.eof) {
      session.on_eof();
    }
    drain();
    if (written != step.client && outcome.failure.empty()) {
      outcome.failure = "step " + std::to_string(i) + ": client wrote \"" +
                        escape_for_display(written) + "\", want \"" +
                        escape_for_display(step.client) + "\"";
    }
    outcome.client += written;
    written.clear();
  }
  outcome.log = recorder.log;
  outcome.bodies = recorder.bodies;
  outcome.failed_while_pipelining = session.failed_while_pipelining();
  return outcome;
}

// Runs whole, bytewise and at every cut; all must agree and match the script. Returns the
// whole run's outcome for further checks.
Outcome run_all_splits(const ClientSessionConfig& config, const std::vector<Step>& steps,
                       Policy policy = {}) {
  Outcome whole = run(config, steps, policy, {Split::kWhole, 0});
  EXPECT_EQ(whole.failure, "");
  Outcome bytewise = run(config, steps, policy, {Split::kBytewise, 0});
  EXPECT_EQ(bytewise.failure, "") << "bytewise";
  EXPECT_EQ(bytewise.log, whole.log) << "bytewise";
  EXPECT_EQ(bytewise.bodies, whole.bodies) << "bytewise";
  size_t longest = 0;
  for (const Step& s : steps) {
    longest = std::max(longest, s.server.size());
  }
  for (size_t at = 1; at < longest; ++at) {
    Outcome cut = run(config, steps, policy, {Split::kAt, at});
    EXPECT_EQ(cut.failure, "") << "cut at " << at;
    EXPECT_EQ(cut.log, whole.log) << "cut at " << at;
    EXPECT_EQ(cut.bodies, whole.bodies) << "cut at " << at;
    EXPECT_EQ(cut.failed_while_pipelining, whole.failed_while_pipelining) << "cut at " << at;
  }
  return whole;
}

ClientSessionConfig plaintext_config(AuthChoice auth = AuthChoice::kAny) {
  ClientSessionConfig config;
  config.user = "alice";
  config.password = Secret("secret");
  config.auth = auth;
  config.tls = TlsRequirement::kNone;
  config.allow_plaintext_password = true;
  return config;
}

ClientSessionConfig implicit_tls_config(AuthChoice auth = AuthChoice::kAny) {
  ClientSessionConfig config = plaintext_config(auth);
  config.tls = TlsRequirement::kImplicit;
  config.allow_plaintext_password = false;
  return config;
}

const char kGreeting[] = "+OK Poplar ready\r\n";
const char kCapaUser[] = "+OK\r\nUSER\r\nUIDL\r\n.\r\n";
const char kLogin[] = "+OK\r\n";

// The usual login by USER/PASS and a listing of two messages; what follows is the test's.
std::vector<Step> user_pass_login_and_listing() {
  return {
      {kGreeting, "CAPA\r\n"},
      {kCapaUser, "USER alice\r\n"},
      {"+OK\r\n", "PASS secret\r\n"},
      {kLogin, "CAPA\r\n"},
      {"+OK\r\nUIDL\r\n.\r\n", "STAT\r\n"},
      {"+OK 2 30\r\n", "UIDL\r\n"},
      {"+OK\r\n1 u1\r\n2 u2\r\n.\r\n", "LIST\r\n"},
  };
}

TEST(ClientSession, UserPassFetchOneAtATimeWithoutPipelining_PR_C_9) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK 10 octets\r\n1 10\r\n2 20\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"+OK\r\nHello\r\n..dot\r\n.\r\n", "RETR 2\r\n"});
  steps.push_back({"+OK\r\nSecond\r\n.\r\n", "QUIT\r\n"});
  steps.push_back({"+OK bye\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", "listing 1:10:u1 2:20:u2", "begin 1",
                                             "end 1 13", "begin 2", "end 2 8", "quit ok"}));
  EXPECT_EQ(o.bodies[1], "Hello\r\n.dot\r\n");
  EXPECT_EQ(o.bodies[2], "Second\r\n");
  EXPECT_EQ(o.last_action, ClientAction::kClose);
  EXPECT_EQ(o.max_outstanding, 1u);
}

TEST(ClientSession, GreetingErrIsAFailureWithTheServersText) {
  Outcome o = run_all_splits(plaintext_config(), {{"-ERR [SYS/TEMP] too busy\x1b[31m\r\n", ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0], "failed temporary: the server refused the connection: too busy\\x1b[31m");
  EXPECT_EQ(o.last_action, ClientAction::kClose);
}

TEST(ClientSession, GreetingThatIsNotAStatusIsAProtocolFailure) {
  Outcome o = run_all_splits(plaintext_config(), {{"* OK IMAP4 ready\r\n", ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0].rfind("failed protocol:", 0), 0u) << o.log[0];
}

TEST(ClientSession, NoCapaServerUsesUserPass_R2449_7_a) {
  Outcome o = run_all_splits(plaintext_config(), {{"+OK\r\n", "CAPA\r\n"},
                                                  {"-ERR unknown command\r\n", "USER alice\r\n"},
                                                  {"+OK\r\n", "PASS secret\r\n"},
                                                  {"+OK\r\n", "CAPA\r\n"},
                                                  {"-ERR what\r\n", "STAT\r\n"},
                                                  {"+OK 0 0\r\n", "UIDL\r\n"},
                                                  {"-ERR no UIDL here\r\n", "LIST\r\n"},
                                                  {"+OK\r\n1 5\r\n.\r\n", "RETR 1\r\n"},
                                                  {"+OK\r\nabc\r\n.\r\n", "QUIT\r\n"},
                                                  {"+OK\r\n", ""}});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", "listing 1:5:", "begin 1", "end 1 5",
                                             "quit ok"}));
}

TEST(ClientSession, UidlUnsupportedIsReportedNotAnError_PR_C_15) {
  testing::FakeRandom random;
  Recorder recorder(Policy{false, false, false});
  ClientSession session(plaintext_config(), recorder, random);
  recorder.session = &session;
  for (std::string_view bytes :
       {"+OK\r\n", "+OK\r\nUSER\r\n.\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n.\r\n", "+OK 1 5\r\n",
        "-ERR\r\n", "+OK\r\n1 5\r\n.\r\n"}) {
    session.receive(bytes);
  }
  EXPECT_FALSE(session.failed());
  EXPECT_FALSE(session.uidl_supported());
  EXPECT_EQ(session.next_action(), ClientAction::kWrite);  // LIST etc. not consumed: fine
  session.consume_output(session.pending_output().size());
  EXPECT_EQ(session.next_action(), ClientAction::kIdle);
  ASSERT_EQ(session.messages().size(), 1u);
  EXPECT_EQ(session.messages()[0].uidl, "");
}

TEST(ClientSession, CapaAfterLoginAddsUidlAndPipelining_PR_C_10) {
  testing::FakeRandom random;
  Recorder recorder(Policy{false, false, false});
  ClientSession session(plaintext_config(), recorder, random);
  recorder.session = &session;
  session.receive("+OK\r\n+OK\r\nUSER\r\n.\r\n");
  EXPECT_FALSE(session.has_capability("UIDL"));
  session.receive("+OK\r\n+OK\r\n+OK\r\nUIDL\r\nPIPELINING\r\nLOGIN-DELAY 900\r\n.\r\n");
  EXPECT_TRUE(session.has_capability("uidl"));
  EXPECT_TRUE(session.pipelining());
  EXPECT_EQ(session.login_delay_seconds(), 900u);
  EXPECT_FALSE(session.failed());
}

TEST(ClientSession, ListingKeyedByUidlAndDuplicateUidlsKept_PR_C_1) {
  // Numbers are per session; the uidl is the key the driver keeps. Two identical messages may
  // share one (R1939-7-e): both are listed, neither dropped.
  std::vector<Step> steps = {
      {kGreeting, "CAPA\r\n"},
      {kCapaUser, "USER alice\r\n"},
      {"+OK\r\n", "PASS secret\r\n"},
      {kLogin, "CAPA\r\n"},
      {"+OK\r\nUIDL\r\n.\r\n", "STAT\r\n"},
      {"+OK 3 30\r\n", "UIDL\r\n"},
      {"+OK\r\n3 same\r\n1 first\r\n2 same\r\n.\r\n", "LIST\r\n"},
      {"+OK\r\n1 10\r\n2 10\r\n3 10\r\n.\r\n", "QUIT\r\n"},
      {"+OK\r\n", ""},
  };
  Outcome o = run_all_splits(plaintext_config(), steps, Policy{false, false, true});
  EXPECT_EQ(o.log[1], "listing 1:10:first 2:10:same 3:10:same");
}

TEST(ClientSession, ListedMessageWithoutUidlIsAProtocolFailure) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.back() = {"+OK\r\n1 u1\r\n.\r\n", "LIST\r\n"};
  steps.push_back({"+OK\r\n1 1\r\n2 1\r\n.\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log.back(), "failed protocol: UIDL has no unique-id for message 2");
}

TEST(ClientSession, BadUidlLineIsAProtocolFailureWithSanitisedText) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.back() = {"+OK\r\n1 u1 extra\x07\r\n.\r\n", ""};
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log.back(), "failed protocol: bad UIDL line: 1 u1 extra\\x07");
}

TEST(ClientSession, IdleUntilTheDriverQueuesAndNothingAfterFinish) {
  testing::FakeRandom random;
  Recorder recorder(Policy{false, false, false});
  ClientSession session(plaintext_config(), recorder, random);
  recorder.session = &session;
  std::string written;
  auto drain = [&] {
    while (session.next_action() == ClientAction::kWrite) {
      written.append(session.pending_output());
      session.consume_output(session.pending_output().size());
    }
  };
  for (std::string_view bytes :
       {"+OK\r\n", "+OK\r\nUSER\r\n.\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n.\r\n", "+OK 1 5\r\n",
        "+OK\r\n1 a\r\n.\r\n", "+OK\r\n1 5\r\n.\r\n"}) {
    session.receive(bytes);
    drain();
  }
  EXPECT_EQ(session.next_action(), ClientAction::kIdle);
  written.clear();
  session.remove(1);
  session.finish();
  session.retrieve(1);  // after finish(): ignored
  drain();
  EXPECT_EQ(written, "DELE 1\r\n");
  EXPECT_EQ(session.next_action(), ClientAction::kRead);
  session.receive("+OK\r\n");
  drain();
  EXPECT_EQ(written, "DELE 1\r\nQUIT\r\n");
  session.receive("+OK\r\n");
  EXPECT_TRUE(session.quit_ok());
  EXPECT_TRUE(session.finished());
  EXPECT_EQ(session.next_action(), ClientAction::kClose);
}

TEST(ClientSession, EmptyListing_PR_C_4) {
  std::vector<Step> steps = {
      {kGreeting, "CAPA\r\n"},
      {kCapaUser, "USER alice\r\n"},
      {"+OK\r\n", "PASS secret\r\n"},
      {kLogin, "CAPA\r\n"},
      {"+OK\r\nUIDL\r\n.\r\n", "STAT\r\n"},
      {"+OK 0 0\r\n", "UIDL\r\n"},
      {"+OK\r\n.\r\n", "LIST\r\n"},
      {"+OK 0 messages:\r\n.\r\n", "QUIT\r\n"},
      {"+OK\r\n", ""},
  };
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", "listing", "quit ok"}));
}

TEST(ClientSession, ExtraSpacesInUidlAndListLines_PR_C_3) {
  std::vector<Step> steps = {
      {kGreeting, "CAPA\r\n"},
      {kCapaUser, "USER alice\r\n"},
      {"+OK\r\n", "PASS secret\r\n"},
      {kLogin, "CAPA\r\n"},
      {"+OK\r\n.\r\n", "STAT\r\n"},
      {"+OK  1  7\r\n", "UIDL\r\n"},
      {"+OK\r\n1   abc\r\n.\r\n", "LIST\r\n"},
      {"+OK\r\n1   7  extra\r\n.\r\n", "QUIT\r\n"},
      {"+OK\r\n", ""},
  };
  Outcome o = run_all_splits(plaintext_config(), steps, Policy{false, false, true});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", "listing 1:7:abc", "quit ok"}));
}

TEST(ClientSession, TerminatorIsOnlyALoneDot_PR_C_4) {
  std::vector<Step> steps = {
      {"+OK\r\n", "CAPA\r\n"},
      {"+OK\r\nUSER\r\n.SASL\r\n..\r\n.\r\n", "USER alice\r\n"},
  };
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_TRUE(o.log.empty());
}

TEST(ClientSession, ListSizeIsNotUsedForFraming_PR_C_5) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 3\r\n2 20\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"+OK\r\nmuch longer than three\r\n.\r\n", "RETR 2\r\n"});
  steps.push_back({"+OK\r\n.\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.bodies[1], "much longer than three\r\n");
  EXPECT_EQ(o.log[3], "end 1 24");
  EXPECT_EQ(o.log[5], "end 2 0");
}

TEST(ClientSession, BareLfLinesAreAcceptedAndNormalised_PR_C_6) {
  // The greeting ends in CRLF: the server's own lines are CRLF, so a bare-LF "." line inside a
  // body is a message line it forgot to stuff (greenmail#1049).
  std::vector<Step> steps = {
      {"+OK hi\r\n", "CAPA\r\n"},
      {"+OK\nUSER\nUIDL\n.\r\n", "USER alice\r\n"},
      {"+OK\n", "PASS secret\r\n"},
      {"+OK\n", "CAPA\r\n"},
      {"+OK\n.\r\n", "STAT\r\n"},
      {"+OK 1 9\n", "UIDL\r\n"},
      {"+OK\n1 u1\n.\r\n", "LIST\r\n"},
      {"+OK\n1 9\n.\r\n", "RETR 1\r\n"},
      // A "." line ended by a bare LF is data, not the end (strict mode).
      {"+OK\nab\n.\n..c\n.\r\n", "QUIT\r\n"},
      {"+OK\n", ""},
  };
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.bodies[1], "ab\r\n.\r\n.c\r\n");
  EXPECT_EQ(o.log.back(), "quit ok");
}

// node-pop3#26/#27: a server that ends every line it writes with a bare LF, its terminators
// included. Its greeting says so; waiting for a CRLF terminator would hang until the timeout.
TEST(ClientSession, ServerWhoseGreetingEndsInBareLfIsReadLeniently_PR_C_6) {
  std::vector<Step> steps = {
      {"+OK hi\n", "CAPA\r\n"},
      {"+OK\nUSER\nUIDL\n.\n", "USER alice\r\n"},
      {"+OK\n", "PASS secret\r\n"},
      {"+OK\n", "CAPA\r\n"},
      {"+OK\n.\n", "STAT\r\n"},
      {"+OK 1 9\n", "UIDL\r\n"},
      {"+OK\n1 u1\n.\n", "LIST\r\n"},
      {"+OK\n1 9\n.\n", "RETR 1\r\n"},
      {"+OK\nab\n..\n...c\n.\n", "QUIT\r\n"},
      {"+OK\n", ""},
  };
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.bodies[1], "ab\r\n.\r\n..c\r\n");
  EXPECT_EQ(o.log.back(), "quit ok");
}

TEST(ClientSession, LenientModeEndsABodyAtADotWithBareLf_PR_C_6) {
  ClientSessionConfig config = plaintext_config();
  config.lenient_dot_lf = true;
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 1\r\n2 1\r\n.\n", "RETR 1\r\n"});
  steps.push_back({"+OK\nab\n.\n", "RETR 2\r\n"});
  steps.push_back({"+OK\nc\n.\n", "QUIT\r\n"});
  steps.push_back({"+OK\n", ""});
  Outcome o = run_all_splits(config, steps);
  EXPECT_EQ(o.bodies[1], "ab\r\n");
  EXPECT_EQ(o.bodies[2], "c\r\n");
}

TEST(ClientSession, NoLineLimitOnMessageData_PR_C_7) {
  ClientSessionConfig config = plaintext_config();
  config.max_line_octets = 100;
  std::string long_line(100000, 'x');
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 100002\r\n2 1\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"+OK\r\n" + long_line + "\r\n.\r\n", "RETR 2\r\n"});
  steps.push_back({"+OK\r\n.\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run(config, steps, {}, {Split::kWhole, 0});
  EXPECT_EQ(o.failure, "");
  EXPECT_EQ(o.bodies[1], long_line + "\r\n");
  Outcome b = run(config, steps, {}, {Split::kBytewise, 0});
  EXPECT_EQ(b.bodies[1], long_line + "\r\n");
  EXPECT_EQ(b.log, o.log);
}

TEST(ClientSession, StatusLineOverTheLimitIsAProtocolFailure) {
  ClientSessionConfig config = plaintext_config();
  config.max_line_octets = 100;
  Outcome o = run_all_splits(config, {{"+OK " + std::string(200, 'x') + "\r\n", ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0], "failed protocol: bad server reply: line too long");
}

TEST(ClientSession, PipelinedRetrAndDeleRespectTheWindow_PR_C_11) {
  ClientSessionConfig config = plaintext_config();
  config.pipelining_window = 3;
  std::vector<Step> steps = {
      {kGreeting, "CAPA\r\n"},
      {kCapaUser, "USER alice\r\n"},
      {"+OK\r\n", "PASS secret\r\n"},
      {kLogin, "CAPA\r\n"},
      {"+OK\r\nUIDL\r\nPIPELINING\r\n.\r\n", "STAT\r\n"},
      {"+OK 3 3\r\n", "UIDL\r\n"},
      {"+OK\r\n1 a\r\n2 b\r\n3 c\r\n.\r\n", "LIST\r\n"},
      {"+OK\r\n1 1\r\n2 1\r\n3 1\r\n.\r\n", "RETR 1\r\nDELE 1\r\nRETR 2\r\n"},
      {"+OK\r\nx\r\n.\r\n", "DELE 2\r\n"},
      {"+OK\r\n", "RETR 3\r\n"},
      {"+OK\r\ny\r\n.\r\n+OK\r\n", "DELE 3\r\nQUIT\r\n"},
      {"-ERR no\r\n+OK\r\n", ""},
      {"+OK deleted\r\n", ""},
  };
  Outcome o = run_all_splits(config, steps, Policy{true, true, true});
  EXPECT_EQ(o.max_outstanding, 3u);
  EXPECT_EQ(o.log,
            (std::vector<std::string>{"login USER", "listing 1:1:a 2:1:b 3:1:c", "begin 1",
                                      "end 1 3", "deleted 1 ok", "begin 2", "end 2 3",
                                      "deleted 2 ok", "error 3 no", "deleted 3 ok", "quit ok"}));
}

// The login and listing of two messages from a server that offers PIPELINING.
std::vector<Step> pipelining_login_and_listing() {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps[4] = {"+OK\r\nUIDL\r\nPIPELINING\r\n.\r\n", "STAT\r\n"};
  return steps;
}

TEST(ClientSession, LockStepWhenPipeliningIsNotAllowed_PR_C_11) {
  ClientSessionConfig config = plaintext_config();
  config.allow_pipelining = false;
  std::vector<Step> steps = pipelining_login_and_listing();
  steps.push_back({"+OK\r\n1 1\r\n2 1\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"+OK\r\nx\r\n.\r\n", "RETR 2\r\n"});
  steps.push_back({"+OK\r\ny\r\n.\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(config, steps);
  EXPECT_EQ(o.max_outstanding, 1u);
  EXPECT_EQ(o.log.back(), "quit ok");
  EXPECT_FALSE(o.failed_while_pipelining);
}

// wildduck#950: the server wrote RETR 2's "+OK" before RETR 1's terminating "." (the message
// stream had not finished), so message 1 carries a stray status line and RETR 2's body comes
// where a status line belongs. Message 1 must not be reported complete: it is corrupt.
TEST(ClientSession, MisorderedPipelinedResponsesFailBeforeTheMessageCompletes_PR_C_11) {
  std::vector<Step> steps = pipelining_login_and_listing();
  steps.push_back({"+OK\r\n1 3\r\n2 3\r\n.\r\n", "RETR 1\r\nRETR 2\r\nQUIT\r\n"});
  steps.push_back({"+OK\r\nx\r\n+OK\r\n.\r\ny\r\n.\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{
                       "login USER", "listing 1:3:u1 2:3:u2", "begin 1",
                       "failed protocol: bad server reply: status line is not +OK or -ERR "
                       "(responses to pipelined commands out of order?)"}));
  EXPECT_TRUE(o.failed_while_pipelining);
  EXPECT_EQ(o.last_action, ClientAction::kClose);
}

TEST(ClientSession, PipelinedMessageCompletesWhenTheNextResponseStartsWell_PR_C_11) {
  std::vector<Step> steps = pipelining_login_and_listing();
  steps.push_back({"+OK\r\n1 3\r\n2 3\r\n.\r\n", "RETR 1\r\nRETR 2\r\nQUIT\r\n"});
  steps.push_back({"+OK\r\nx\r\n.\r\n", ""});  // message 1 waits for the next status line
  steps.push_back({"+OK\r\ny\r\n.\r\n+OK\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", "listing 1:3:u1 2:3:u2", "begin 1",
                                             "end 1 3", "begin 2", "end 2 3", "quit ok"}));
  EXPECT_FALSE(o.failed_while_pipelining);
}

TEST(ClientSession, PipelinedMessageIsDroppedWhenTheServerClosesBeforeTheNextResponse) {
  std::vector<Step> steps = pipelining_login_and_listing();
  steps.push_back({"+OK\r\n1 3\r\n2 3\r\n.\r\n", "RETR 1\r\nRETR 2\r\nQUIT\r\n"});
  steps.push_back({"+OK\r\nx\r\n.\r\n", "", /*eof=*/true});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{
                       "login USER", "listing 1:3:u1 2:3:u2", "begin 1",
                       "failed temporary: the server closed the connection while a command was "
                       "outstanding"}));
  EXPECT_TRUE(o.failed_while_pipelining);
}

TEST(ClientSession, ProtocolFailureInLockStepIsNotBlamedOnPipelining) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 3\r\n2 3\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"garbage\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log.back(), "failed protocol: bad server reply: status line is not +OK or -ERR");
  EXPECT_FALSE(o.failed_while_pipelining);
}

// R2449-6.7-d: the driver compares --keep-days with what the server keeps.
TEST(ClientSession, ExpireDaysFromTheCapaAfterLogin_R2449_6_7) {
  auto expire_after = [](std::string_view capa_before, std::string_view capa_after) {
    testing::FakeRandom random;
    Recorder recorder(Policy{false, false, false});
    ClientSession session(plaintext_config(), recorder, random);
    recorder.session = &session;
    session.receive("+OK\r\n");
    session.receive(capa_before);
    session.receive("+OK\r\n+OK\r\n");
    session.receive(capa_after);
    EXPECT_FALSE(session.failed());
    EXPECT_TRUE(session.logged_in());
    return session.expire_days();
  };
  const char kBefore[] = "+OK\r\nUSER\r\nEXPIRE 5 USER\r\n.\r\n";
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nEXPIRE 30\r\n.\r\n"), std::optional<uint32_t>(30));
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nexpire 0\r\n.\r\n"), std::optional<uint32_t>(0));
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nEXPIRE NEVER\r\n.\r\n"), std::nullopt);
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nEXPIRE never\r\n.\r\n"), std::nullopt);
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nUIDL\r\n.\r\n"), std::nullopt);
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nEXPIRE 12 USER\r\n.\r\n"), std::optional<uint32_t>(12));
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nEXPIRE soon\r\n.\r\n"), std::nullopt);
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nEXPIRE 99999999999\r\n.\r\n"), std::nullopt);
  EXPECT_EQ(expire_after(kBefore, "+OK\r\nEXPIRE\r\n.\r\n"), std::nullopt);
  // A -ERR to the CAPA after login keeps what was said before it (the smallest for any user).
  EXPECT_EQ(expire_after(kBefore, "-ERR\r\n"), std::optional<uint32_t>(5));
  EXPECT_EQ(expire_after("-ERR\r\n", "-ERR\r\n"), std::nullopt);
}

TEST(ClientSession, RetrErrIsReportedForThatMessageAndTheSessionGoesOn) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 1\r\n2 1\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"-ERR [SYS/TEMP] cannot read\r\n", "RETR 2\r\n"});
  steps.push_back({"+OK\r\nz\r\n.\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log[2], "error 1 cannot read");
  EXPECT_EQ(o.log.back(), "quit ok");
}

TEST(ClientSession, ServerClosingMidBodyFailsAndNeverCompletesTheMessage) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 1\r\n2 1\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"+OK\r\nhalf a mess", "", /*eof=*/true});
  Outcome o = run_all_splits(plaintext_config(), steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{
                       "login USER", "listing 1:1:u1 2:1:u2", "begin 1",
                       "failed temporary: the server closed the connection during message 1"}));
  EXPECT_EQ(o.last_action, ClientAction::kClose);
}

TEST(ClientSession, QuitOkIsReportedSeparately_PR_C_2) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 1\r\n2 1\r\n.\r\n", "DELE 1\r\n"});
  steps.push_back({"+OK\r\n", "DELE 2\r\n"});
  steps.push_back({"+OK\r\n", "QUIT\r\n"});
  steps.push_back({"", "", /*eof=*/true});
  Outcome o = run_all_splits(plaintext_config(), steps, Policy{false, true, true});
  EXPECT_EQ(o.log.back(),
            "failed temporary: the server closed the connection before answering QUIT: "
            "deletions may not have been committed");
  steps[steps.size() - 1] = {"-ERR [SYS/TEMP] some deleted messages not removed\r\n", ""};
  o = run_all_splits(plaintext_config(), steps, Policy{false, true, true});
  ASSERT_GE(o.log.size(), 2u);
  EXPECT_EQ(o.log[o.log.size() - 2], "quit err");
  EXPECT_EQ(o.log.back(),
            "failed temporary: the server refused QUIT, so the messages marked deleted were not "
            "removed: some deleted messages not removed");
  EXPECT_EQ(o.last_action, ClientAction::kClose);
}

TEST(ClientSession, QuitErrWithoutDeletionsIsHarmless) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 1\r\n2 1\r\n.\r\n", "QUIT\r\n"});
  steps.push_back({"-ERR whatever\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps, Policy{false, false, true});
  EXPECT_EQ(o.log.back(), "quit err");
  EXPECT_EQ(o.last_action, ClientAction::kClose);
}

TEST(ClientSession, DataNobodyAskedForIsAProtocolFailure) {
  std::vector<Step> steps = user_pass_login_and_listing();
  steps.push_back({"+OK\r\n1 1\r\n2 1\r\n.\r\n", ""});
  steps.push_back({"+OK surprise\r\n", ""});
  Outcome o = run_all_splits(plaintext_config(), steps, Policy{false, false, false});
  EXPECT_EQ(o.log.back(), "failed protocol: the server sent data nobody asked for");
}

// ---- TLS ----

TEST(ClientSession, StlsThenCapaAgain_RFC2595) {
  ClientSessionConfig config = plaintext_config();
  config.tls = TlsRequirement::kStartTls;
  config.allow_plaintext_password = false;
  std::vector<Step> steps = {
      {kGreeting, "CAPA\r\n"},
      {"+OK\r\nSTLS\r\nSASL CRAM-MD5\r\n.\r\n", "STLS\r\n"},
      {"+OK begin TLS\r\n", "CAPA\r\n"},
      {"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n", "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"},
      {"+OK\r\n", "CAPA\r\n"},
  };
  Outcome o = run_all_splits(config, steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{"login PLAIN"}));
}

TEST(ClientSession, StlsRequiredButAbsentFailsClearly_R2595_9_a) {
  ClientSessionConfig config = plaintext_config();
  config.tls = TlsRequirement::kStartTls;
  Outcome o = run_all_splits(config, {{kGreeting, "CAPA\r\n"}, {kCapaUser, ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0],
            "failed config: TLS is required but the server does not offer STLS (refusing to "
            "continue in plaintext)");
  o = run_all_splits(
      config,
      {{kGreeting, "CAPA\r\n"}, {"+OK\r\nSTLS\r\n.\r\n", "STLS\r\n"}, {"-ERR not now\r\n", ""}});
  EXPECT_EQ(o.log[0], "failed config: TLS is required but the server refused STLS: not now");
}

TEST(ClientSession, NoCapaServerIsStillAskedForStls) {
  ClientSessionConfig config = plaintext_config();
  config.tls = TlsRequirement::kStartTls;
  config.allow_plaintext_password = false;
  Outcome o = run_all_splits(config, {{kGreeting, "CAPA\r\n"},
                                      {"-ERR what\r\n", "STLS\r\n"},
                                      {"+OK go\r\n", "CAPA\r\n"},
                                      {"-ERR still no\r\n", "USER alice\r\n"},
                                      {"+OK\r\n", "PASS secret\r\n"},
                                      {"+OK\r\n", "CAPA\r\n"}});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER"}));
}

TEST(ClientSession, PlaintextAfterStlsOkIsRefused) {
  ClientSessionConfig config = plaintext_config();
  config.tls = TlsRequirement::kStartTls;
  Outcome o = run_all_splits(config, {{kGreeting, "CAPA\r\n"},
                                      {"+OK\r\nSTLS\r\n.\r\n", "STLS\r\n"},
                                      {"+OK\r\n+OK injected\r\n", ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0], "failed protocol: the server sent data after accepting STLS, before TLS");
}

TEST(ClientSession, NoPlaintextPasswordWithoutTls) {
  ClientSessionConfig config = plaintext_config();
  config.allow_plaintext_password = false;
  Outcome o = run_all_splits(
      config, {{kGreeting, "CAPA\r\n"}, {"+OK\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n", ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0],
            "failed config: the server offers only methods that send the password in "
            "cleartext, and plaintext is not allowed without TLS");
  // CRAM-MD5 does not send the password: it is used.
  std::string challenge = "<1.2@host>";
  std::string answer = "alice " + sasl::cram_md5_hex("secret", challenge);
  o = run_all_splits(config,
                     {{kGreeting, "CAPA\r\n"},
                      {"+OK\r\nUSER\r\nSASL PLAIN CRAM-MD5\r\n.\r\n", "AUTH CRAM-MD5\r\n"},
                      {"+ " + base64_encode(challenge) + "\r\n", base64_encode(answer) + "\r\n"},
                      {"+OK\r\n", "CAPA\r\n"}});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login CRAM-MD5"}));
}

// ---- mechanisms ----

TEST(ClientSession, PicksTheStrongestCommonMechanism) {
  Outcome o = run_all_splits(
      implicit_tls_config(),
      {{kGreeting, "CAPA\r\n"},
       {"+OK\r\nSASL PLAIN LOGIN SCRAM-SHA-1 CRAM-MD5\r\n.\r\n",
        "AUTH SCRAM-SHA-1 biwsbj1hbGljZSxyPUFRSURCQVVHQndnSkNnc01EUTRQRUJFUw==\r\n"}});
  EXPECT_TRUE(o.log.empty());
}

TEST(ClientSession, PlusOnlyWithChannelBindings) {
  // Implicit TLS without bindings passed: SCRAM-SHA-256-PLUS is skipped.
  Outcome o = run_all_splits(
      implicit_tls_config(),
      {{kGreeting, "CAPA\r\n"},
       {"+OK\r\nSASL SCRAM-SHA-256-PLUS PLAIN\r\n.\r\n", "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"}});
  EXPECT_TRUE(o.log.empty());
}

TEST(ClientSession, PlainWithoutInitialResponseRoomAndGoAhead_PR_C_8) {
  ClientSessionConfig config = implicit_tls_config(AuthChoice::kSasl);
  config.sasl_mechanism = "plain";
  config.user = std::string(200, 'u');
  std::string message = base64_encode(std::string(1, '\0') + config.user + '\0' + "secret");
  // Pitfall 20 / R5034-4-d: the AUTH line would pass 255 octets, so the response waits for
  // the server's "+", here a non-base64 "go ahead".
  Outcome o = run_all_splits(config, {{kGreeting, "CAPA\r\n"},
                                      {"+OK\r\nSASL PLAIN\r\n.\r\n", "AUTH PLAIN\r\n"},
                                      {"+ go ahead\r\n", message + "\r\n"},
                                      {"+OK\r\n", "CAPA\r\n"}});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login PLAIN"}));
}

TEST(ClientSession, LoginMechanismIgnoresChallengeText_PR_C_8) {
  ClientSessionConfig config = implicit_tls_config(AuthChoice::kSasl);
  config.sasl_mechanism = "LOGIN";
  Outcome o = run_all_splits(config, {{kGreeting, "CAPA\r\n"},
                                      {"+OK\r\nSASL LOGIN\r\n.\r\n", "AUTH LOGIN\r\n"},
                                      {"+ VXNlcm5hbWU6\r\n", "YWxpY2U=\r\n"},
                                      {"+ Password please\r\n", "c2VjcmV0\r\n"},
                                      {"+OK\r\n", "CAPA\r\n"}});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login LOGIN"}));
}

TEST(ClientSession, SaslFailureCodes_PR_C_14) {
  ClientSessionConfig config = implicit_tls_config(AuthChoice::kSasl);
  config.sasl_mechanism = "PLAIN";
  auto last = [&](const std::string& reply) {
    Outcome o = run_all_splits(
        config, {{kGreeting, "CAPA\r\n"},
                 {"+OK\r\nSASL PLAIN\r\n.\r\n", "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"},
                 {reply, ""}});
    return o.log.empty() ? std::string() : o.log.back();
  };
  EXPECT_EQ(last("-ERR [AUTH] bad\r\n"), "failed auth: login failed (AUTH PLAIN): bad");
  EXPECT_EQ(last("-ERR bad\r\n"), "failed auth: login failed (AUTH PLAIN): bad");
  EXPECT_EQ(last("-ERR [IN-USE] busy\r\n"), "failed temporary: login failed (AUTH PLAIN): busy");
  EXPECT_EQ(last("-ERR [LOGIN-DELAY] wait\r\n"),
            "failed temporary: login failed (AUTH PLAIN): wait");
  EXPECT_EQ(last("-ERR [SYS/TEMP] later\r\n"),
            "failed temporary: login failed (AUTH PLAIN): later");
  EXPECT_EQ(last("-ERR [SYS/PERM] disabled\r\n"),
            "failed permanent: login failed (AUTH PLAIN): disabled");
}

TEST(ClientSession, UserPassFailureCodes_PR_C_14) {
  auto last = [&](const std::string& reply) {
    Outcome o = run_all_splits(plaintext_config(), {{kGreeting, "CAPA\r\n"},
                                                    {kCapaUser, "USER alice\r\n"},
                                                    {"+OK\r\n", "PASS secret\r\n"},
                                                    {reply, ""}});
    return o.log.empty() ? std::string() : o.log.back();
  };
  EXPECT_EQ(last("-ERR [IN-USE] phone connected\r\n"),
            "failed temporary: login failed (PASS): phone connected");
  EXPECT_EQ(last("-ERR [LOGIN-DELAY] 300\r\n"), "failed temporary: login failed (PASS): 300");
  EXPECT_EQ(last("-ERR [AUTH] wrong\r\n"), "failed auth: login failed (PASS): wrong");
  EXPECT_EQ(last("-ERR invalid password\r\n"),
            "failed auth: login failed (PASS): invalid password");
}

TEST(ClientSession, CramMd5HappyPathAndBadChallenge) {
  ClientSessionConfig config = implicit_tls_config(AuthChoice::kSasl);
  config.sasl_mechanism = "CRAM-MD5";
  std::string challenge = "<1896.697170952@postoffice.example.net>";
  std::string answer = "alice " + sasl::cram_md5_hex("secret", challenge);
  Outcome o = run_all_splits(
      config, {{kGreeting, "CAPA\r\n"},
               {"+OK\r\nSASL CRAM-MD5\r\n.\r\n", "AUTH CRAM-MD5\r\n"},
               {"+ " + base64_encode(challenge) + "\r\n", base64_encode(answer) + "\r\n"},
               {"+OK\r\n", "CAPA\r\n"}});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login CRAM-MD5"}));
  // Not base64: cancelled with "*", then a protocol failure once the server answers.
  o = run_all_splits(config, {{kGreeting, "CAPA\r\n"},
                              {"+OK\r\nSASL CRAM-MD5\r\n.\r\n", "AUTH CRAM-MD5\r\n"},
                              {"+ go ahead\r\n", "*\r\n"},
                              {"-ERR cancelled\r\n", ""}});
  EXPECT_EQ(o.log, (std::vector<std::string>{
                       "failed protocol: the server sent a SASL challenge that is not base64"}));
}

TEST(ClientSession, ScramAcceptedWithoutServerProofIsRefused) {
  ClientSessionConfig config = implicit_tls_config(AuthChoice::kSasl);
  config.sasl_mechanism = "SCRAM-SHA-256";
  Outcome o = run_all_splits(
      config, {{kGreeting, "CAPA\r\n"},
               {"+OK\r\nSASL SCRAM-SHA-256\r\n.\r\n",
                "AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPUFRSURCQVVHQndnSkNnc01EUTRQRUJFUw==\r\n"},
               {"+OK welcome\r\n", ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0].rfind("failed protocol: the server accepted the login before", 0), 0u);
  // A malformed server-first: "*", then the failure.
  o = run_all_splits(
      config, {{kGreeting, "CAPA\r\n"},
               {"+OK\r\nSASL SCRAM-SHA-256\r\n.\r\n",
                "AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPUFRSURCQVVHQndnSkNnc01EUTRQRUJFUw==\r\n"},
               {"+ " + base64_encode("r=other,s=c2FsdA==,i=4096") + "\r\n", "*\r\n"},
               {"-ERR\r\n", ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0],
            "failed protocol: SASL SCRAM-SHA-256: SCRAM: server nonce does not extend the "
            "client nonce");
}

TEST(ClientSession, NamedMechanismTheServerLacksFails) {
  ClientSessionConfig config = implicit_tls_config(AuthChoice::kSasl);
  config.sasl_mechanism = "CRAM-MD5";
  Outcome o = run_all_splits(config, {{kGreeting, "CAPA\r\n"}, {"+OK\r\nSASL PLAIN\r\n.\r\n", ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0], "failed config: the server does not offer SASL CRAM-MD5 (it offers: PLAIN)");
}

// ---- APOP ----

TEST(ClientSession, ApopTimestampTakenVerbatimWherever_PR_C_12) {
  ClientSessionConfig config = plaintext_config(AuthChoice::kApop);
  config.user = "mrose";
  config.password = Secret("tanstaaf");
  config.allow_plaintext_password = false;
  Outcome o = run_all_splits(
      config,
      {{"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us> (Dovecot)\r\n", "CAPA\r\n"},
       {"-ERR\r\n", "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"},
       {"+OK\r\n", "CAPA\r\n"}});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login APOP"}));
}

TEST(ClientSession, ApopWithoutTimestampFails) {
  Outcome o = run_all_splits(plaintext_config(AuthChoice::kApop),
                             {{kGreeting, "CAPA\r\n"}, {kCapaUser, ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0], "failed config: APOP was asked for but the greeting has no timestamp");
}

// ---- helpers ----

TEST(ClientSession, SanitizeServerTextEscapesControls) {
  EXPECT_EQ(sanitize_server_text("ok text"), "ok text");
  EXPECT_EQ(sanitize_server_text("a\r\nb\x1b\\\x80"), "a\\x0d\\x0ab\\x1b\\\\\\x80");
  EXPECT_EQ(sanitize_server_text(std::string(10, 'x'), 4), "xxxx...");
}

TEST(ClientSession, ClassifyLoginError) {
  EXPECT_EQ(classify_login_error("in-use"), FailureKind::kTemporary);
  EXPECT_EQ(classify_login_error("SYS/TEMP/DISK"), FailureKind::kTemporary);
  EXPECT_EQ(classify_login_error("SYS/PERM"), FailureKind::kPermanent);
  EXPECT_EQ(classify_login_error("SYS"), FailureKind::kAuth);
  EXPECT_EQ(classify_login_error("AUTH"), FailureKind::kAuth);
  EXPECT_EQ(classify_login_error(""), FailureKind::kAuth);
}

TEST(ClientSession, UserNameWithLineEndIsRefused) {
  ClientSessionConfig config = plaintext_config();
  config.user = "alice\r\nDELE 1";
  Outcome o = run_all_splits(config, {{kGreeting, "CAPA\r\n"}, {kCapaUser, ""}});
  ASSERT_EQ(o.log.size(), 1u);
  EXPECT_EQ(o.log[0], "failed config: the user name is empty, too long or contains a line end");
}

// ---- POP4 folders (the Poplar POP4 profile, docs/pop4.md) ----

const char kCapaPop4[] = "+OK\r\nUIDL\r\nX-POP4 FOLDERS FLAGS PARTS\r\n.\r\n";
const char kNoFolders[] =
    "failed config: the server does not offer POP4 folders (its CAPA after login has no "
    "\"X-POP4 FOLDERS\"); nothing was changed on the server (needs FOLDERS)";

// Login by USER/PASS up to the CAPA after login, which is `capa_after_login`; the client's
// answer to it is `then`.
std::vector<Step> login_with_capa(const std::string& capa_after_login, const std::string& then) {
  return {
      {kGreeting, "CAPA\r\n"}, {kCapaUser, "USER alice\r\n"}, {"+OK\r\n", "PASS secret\r\n"},
      {kLogin, "CAPA\r\n"},    {capa_after_login, then},
  };
}

ClientSessionConfig folder_config(std::string folder) {
  ClientSessionConfig config = plaintext_config();
  config.folder = std::move(folder);
  return config;
}

TEST(ClientSessionPop4, SelectsTheFolderBeforeTheListing) {
  std::vector<Step> steps = login_with_capa(kCapaPop4, "SFLD \"Sent Items\"\r\n");
  steps.push_back({"+OK 1 10\r\n", "STAT\r\n"});
  steps.push_back({"+OK 1 10\r\n", "UIDL\r\n"});
  steps.push_back({"+OK\r\n1 s1\r\n.\r\n", "LIST\r\n"});
  steps.push_back({"+OK\r\n1 10\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"+OK\r\nsent\r\n.\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(folder_config("Sent Items"), steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", "listing 1:10:s1", "begin 1", "end 1 6",
                                             "quit ok"}));
}

TEST(ClientSessionPop4, InboxInAnyCaseNeedsNoSfldAndNoPop4) {
  std::vector<Step> steps = login_with_capa("+OK\r\nUIDL\r\n.\r\n", "STAT\r\n");
  steps.push_back({"+OK 0 0\r\n", "UIDL\r\n"});
  steps.push_back({"+OK\r\n.\r\n", "LIST\r\n"});
  steps.push_back({"+OK\r\n.\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(folder_config("inbox"), steps);
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", "listing", "quit ok"}));
}

TEST(ClientSessionPop4, WithoutXPop4FoldersOnlyQuitIsSentThenAConfigFailure) {
  for (std::string capa : {"+OK\r\nUIDL\r\n.\r\n", "+OK\r\nX-POP4 PARTS FLAGS\r\n.\r\n",
                           "+OK\r\nX-POP4\r\n.\r\n", "-ERR no CAPA here\r\n"}) {
    std::vector<Step> steps = login_with_capa(capa, "QUIT\r\n");
    steps.push_back({"+OK bye\r\n", ""});
    Outcome o = run_all_splits(folder_config("Archive"), steps);
    EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", kNoFolders})) << capa;
    EXPECT_EQ(o.last_action, ClientAction::kClose);
  }
}

TEST(ClientSessionPop4, MoveToAndListFoldersNeedFoldersToo) {
  ClientSessionConfig move = plaintext_config();
  move.move_to = "Archive";
  ClientSessionConfig list = plaintext_config();
  list.list_folders = true;
  for (const ClientSessionConfig* config : {&move, &list}) {
    std::vector<Step> steps = login_with_capa("+OK\r\nUIDL\r\n.\r\n", "QUIT\r\n");
    steps.push_back({"-ERR odd\r\n", ""});  // whatever QUIT says: nothing had changed
    Outcome o = run_all_splits(*config, steps);
    EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", kNoFolders}));
  }
}

TEST(ClientSessionPop4, ServerClosingAfterTheRefusalKeepsTheRefusalAsTheReason) {
  std::vector<Step> steps = login_with_capa("+OK\r\n.\r\n", "QUIT\r\n");
  steps.push_back({"", "", /*eof=*/true});
  Outcome o = run_all_splits(folder_config("Archive"), steps);
  EXPECT_EQ(o.log.back(), kNoFolders);
}

TEST(ClientSessionPop4, SfldErrQuitsAndNamesTheFolder) {
  std::vector<Step> steps = login_with_capa(kCapaPop4, "SFLD Nope\r\n");
  steps.push_back({"-ERR no such folder\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(folder_config("Nope"), steps);
  EXPECT_EQ(o.log.back(),
            "failed config: the server refused to select folder \"Nope\" (SFLD): no such folder");
  steps[steps.size() - 2].server = "-ERR [SYS/TEMP] try later\x07\r\n";
  o = run_all_splits(folder_config("Nope"), steps);
  EXPECT_EQ(o.log.back(),
            "failed temporary: the server refused to select folder \"Nope\" (SFLD): try "
            "later\\x07");
}

TEST(ClientSessionPop4, ListFoldersReadsQuotedNamesThenIdles) {
  ClientSessionConfig config = plaintext_config();
  config.list_folders = true;
  std::vector<Step> steps = login_with_capa(kCapaPop4, "LFLD\r\n");
  steps.push_back(
      {"+OK 4 folders\r\nINBOX 2 5120\r\nArchive 10 81234\r\n\"Sent Items\" 0 "
       "0\r\n\"say \\\"hi\\\" \\\\o/\"   1   7\r\n..dot 3 4\r\n.\r\n",
       "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(config, steps);
  EXPECT_EQ(o.log,
            (std::vector<std::string>{"login USER",
                                      "folders [INBOX]:2:5120 [Archive]:10:81234 [Sent Items]:0:0 "
                                      "[say \"hi\" \\o/]:1:7 [.dot]:3:4",
                                      "quit ok"}));
}

TEST(ClientSessionPop4, BadLfldLineIsAProtocolFailure) {
  ClientSessionConfig config = plaintext_config();
  config.list_folders = true;
  std::vector<Step> steps = login_with_capa(kCapaPop4, "LFLD\r\n");
  steps.push_back({"+OK\r\nINBOX 2 5120\r\n\"Sent Items 0 0\r\n.\r\n", ""});
  Outcome o = run_all_splits(config, steps);
  EXPECT_EQ(
      o.log.back(),
      "failed protocol: bad LFLD line (the quoted folder name does not end): \"Sent Items 0 0");
}

TEST(ClientSessionPop4, LfldErrQuits) {
  ClientSessionConfig config = plaintext_config();
  config.list_folders = true;
  std::vector<Step> steps = login_with_capa(kCapaPop4, "LFLD\r\n");
  steps.push_back({"-ERR [SYS/PERM] broken\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(config, steps);
  EXPECT_EQ(o.log.back(),
            "failed permanent: the server offers POP4 folders but refused LFLD: broken");
}

TEST(ClientSessionPop4, MoveAfterEachRetrieveQuotingTheTarget) {
  ClientSessionConfig config = plaintext_config();
  config.move_to = "Old Mail";
  std::vector<Step> steps = login_with_capa(kCapaPop4, "STAT\r\n");
  steps.push_back({"+OK 2 30\r\n", "UIDL\r\n"});
  steps.push_back({"+OK\r\n1 u1\r\n2 u2\r\n.\r\n", "LIST\r\n"});
  steps.push_back({"+OK\r\n1 5\r\n2 5\r\n.\r\n", "RETR 1\r\n"});
  steps.push_back({"+OK\r\none\r\n.\r\n", "MOVE 1 \"Old Mail\"\r\n"});
  steps.push_back({"+OK 1 moved\r\n", "RETR 2\r\n"});
  steps.push_back({"+OK\r\ntwo\r\n.\r\n", "MOVE 2 \"Old Mail\"\r\n"});
  steps.push_back({"-ERR [SYS/TEMP] disk full\r\n", "QUIT\r\n"});
  steps.push_back({"+OK\r\n", ""});
  Outcome o = run_all_splits(config, steps, Policy{true, false, true, true});
  EXPECT_EQ(o.log, (std::vector<std::string>{"login USER", "listing 1:5:u1 2:5:u2", "begin 1",
                                             "end 1 5", "moved 1 ok", "begin 2", "end 2 5",
                                             "moved 2 err", "quit ok"}));
}

TEST(ClientSessionPop4, QuitErrAfterAMoveIsAFailure) {
  ClientSessionConfig config = plaintext_config();
  config.move_to = "Archive";
  std::vector<Step> steps = login_with_capa(kCapaPop4, "STAT\r\n");
  steps.push_back({"+OK 1 5\r\n", "UIDL\r\n"});
  steps.push_back({"+OK\r\n1 u1\r\n.\r\n", "LIST\r\n"});
  steps.push_back({"+OK\r\n1 5\r\n.\r\n", "MOVE 1 Archive\r\n"});
  steps.push_back({"+OK 1 moved\r\n", "QUIT\r\n"});
  steps.push_back({"-ERR [SYS/TEMP] not now\r\n", ""});
  Outcome o = run_all_splits(config, steps, Policy{false, false, true, true});
  EXPECT_EQ(o.log.back(),
            "failed temporary: the server refused QUIT, so the messages marked deleted were not "
            "removed: not now");
}

TEST(ClientSessionPop4, MoveWithoutATargetIsIgnored) {
  testing::FakeRandom random;
  Recorder recorder(Policy{false, false, false});
  ClientSession session(plaintext_config(), recorder, random);
  recorder.session = &session;
  for (std::string_view bytes :
       {"+OK\r\n", "+OK\r\nUSER\r\n.\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n.\r\n", "+OK 1 5\r\n",
        "+OK\r\n1 a\r\n.\r\n", "+OK\r\n1 5\r\n.\r\n"}) {
    session.receive(bytes);
    while (session.next_action() == ClientAction::kWrite) {
      session.consume_output(session.pending_output().size());
    }
  }
  session.move(1);
  EXPECT_EQ(session.next_action(), ClientAction::kIdle);
}

TEST(ClientSessionPop4, OffersPop4ReadsTheAbilitiesOfTheXPop4Line) {
  testing::FakeRandom random;
  Recorder recorder(Policy{false, false, false});
  ClientSession session(plaintext_config(), recorder, random);
  recorder.session = &session;
  session.receive("+OK\r\n+OK\r\nUSER\r\nx-pop4 parts  folders\r\n.\r\n");
  EXPECT_TRUE(session.offers_pop4("FOLDERS"));
  EXPECT_TRUE(session.offers_pop4("parts"));
  EXPECT_FALSE(session.offers_pop4("FLAGS"));
}

}  // namespace
}  // namespace poplar::pop3
