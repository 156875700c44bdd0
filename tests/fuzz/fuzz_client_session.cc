// Fuzzes the whole sans-I/O client session (pop3/client_session.h) with arbitrary server bytes,
// as `poplar fetch` meets them from untrusted servers. Input: byte 0 = the feed size (1-256);
// the rest is the server's output, fed in pieces of that size to one ClientSession per auth
// choice (any, APOP, each SASL mechanism by name, USER/PASS; STLS required for some, implicit
// TLS or plaintext for others), driven as fetch/ will drive it: output drained, STLS
// "completed" at once, every listed message retrieved and deleted, then QUIT; finally EOF.
// Checks: no crash or sanitizer report, the session always ends in kClose after EOF, the
// window is respected, a message never ends after a failure, and payload octets reported per
// message add up to what its end event says.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "pop3/client_session.h"
#include "testing/fake_random.h"

namespace {

using poplar::pop3::AuthChoice;
using poplar::pop3::ClientAction;
using poplar::pop3::ClientEvents;
using poplar::pop3::ClientFailure;
using poplar::pop3::ClientSession;
using poplar::pop3::ClientSessionConfig;
using poplar::pop3::ListedMessage;
using poplar::pop3::ServerReply;
using poplar::pop3::TlsRequirement;

constexpr size_t kWindow = 4;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_client_session: %s\n", what);
  std::abort();
}

class Driver final : public ClientEvents {
 public:
  ClientSession* session = nullptr;

  void on_listing(std::span<const ListedMessage> messages) override {
    check_alive();
    size_t n = 0;
    for (const ListedMessage& m : messages) {
      if (++n > 64) {
        break;  // enough to exercise the window; a huge listing costs only time
      }
      session->retrieve(m.number);
      session->remove(m.number);
    }
    session->finish();
  }
  void on_message_begin(uint32_t n) override {
    check_alive();
    open_[n] = 0;
  }
  void on_message_data(uint32_t n, std::string_view data) override {
    check_alive();
    auto it = open_.find(n);
    if (it == open_.end()) {
      fail("message data outside a message");
    }
    it->second += data.size();
  }
  void on_message_end(uint32_t n, uint64_t octets) override {
    check_alive();
    auto it = open_.find(n);
    if (it == open_.end() || it->second != octets) {
      fail("message end does not match the data reported");
    }
    open_.erase(it);
  }
  void on_message_error(uint32_t, const ServerReply&) override { check_alive(); }
  void on_deleted(uint32_t, const ServerReply&) override { check_alive(); }
  void on_quit(const ServerReply&) override { check_alive(); }
  void on_failed(const ClientFailure& failure) override {
    check_alive();
    if (failure.reason.empty()) {
      fail("a failure without a reason");
    }
    failed_ = true;
  }

 private:
  void check_alive() const {
    if (failed_) {
      fail("an event after on_failed");
    }
  }
  std::map<uint32_t, uint64_t> open_;
  bool failed_ = false;
};

// Runs actions until the session waits for input or closes.
void drive(ClientSession& session) {
  for (int steps = 0; steps < 100000; ++steps) {
    if (session.outstanding() > kWindow + 1) {  // +1: the AUTH or listing command in flight
      fail("more commands outstanding than the window");
    }
    switch (session.next_action()) {
      case ClientAction::kWrite: {
        std::string_view out = session.pending_output();
        if (out.empty()) {
          fail("kWrite with nothing to write");
        }
        session.consume_output(out.size() / 2 + 1);
        break;
      }
      case ClientAction::kStartTls: {
        poplar::sasl::ChannelBindings bindings;
        bindings.tls_active = true;
        bindings.tls_exporter = std::string(32, 'x');
        session.on_tls_started(bindings);
        break;
      }
      case ClientAction::kRead:
      case ClientAction::kIdle:
      case ClientAction::kClose:
        return;
    }
  }
  fail("the session never settled");
}

void run_one(std::string_view input, size_t piece, AuthChoice auth, const char* mechanism,
             TlsRequirement tls) {
  ClientSessionConfig config;
  config.user = "alice";
  config.password = poplar::Secret("secret");
  config.auth = auth;
  config.sasl_mechanism = mechanism;
  config.tls = tls;
  config.allow_plaintext_password = tls == TlsRequirement::kNone;
  config.pipelining_window = kWindow;
  config.max_line_octets = 1024;
  poplar::testing::FakeRandom random;
  Driver driver;
  ClientSession session(config, driver, random);
  driver.session = &session;
  drive(session);
  for (size_t i = 0; i < input.size(); i += piece) {
    session.receive(input.substr(i, piece));
    drive(session);
  }
  session.on_eof();
  drive(session);
  if (session.next_action() != ClientAction::kClose || !session.finished()) {
    fail("the session did not end after EOF");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const size_t piece = static_cast<size_t>(data[0]) + 1;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  run_one(input, piece, AuthChoice::kAny, "", TlsRequirement::kStartTls);
  run_one(input, piece, AuthChoice::kAny, "", TlsRequirement::kNone);
  run_one(input, piece, AuthChoice::kApop, "", TlsRequirement::kNone);
  run_one(input, piece, AuthChoice::kUserPass, "", TlsRequirement::kNone);
  for (const char* mechanism :
       {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}) {
    run_one(input, piece, AuthChoice::kSasl, mechanism, TlsRequirement::kImplicit);
  }
  return 0;
}
