// End to end without sockets: a ClientSession talks to a real ServerSession (over FakeWorld's
// users and fake maildrops), bytes pumped both ways in pieces of several sizes. Every message
// is fetched with each mechanism the server supports, with and without pipelining (and over a
// fake STLS, so SCRAM-*-PLUS runs too); payloads must equal the stored messages after the
// server's CRLF conversion, and QUIT must commit exactly the deletions asked for.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "base/base64.h"
#include "base/hex.h"
#include "pop3/client_session.h"
#include "pop3/server_session.h"
#include "sasl/crypto.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "testing/transcript.h"

namespace poplar::pop3 {
namespace {

const std::string kExporter(32, 'e');

// What the server sends for a stored message: bare LF as CRLF, a final line end added
// (RFC 1939 §11; PR-S-8's always-on normalisation), bare CR kept.
std::string on_the_wire(std::string_view stored) {
  std::string out;
  for (size_t i = 0; i < stored.size(); ++i) {
    if (stored[i] == '\n' && (i == 0 || stored[i - 1] != '\r')) {
      out += '\r';
    }
    out += stored[i];
  }
  if (!out.empty() && out.back() != '\n') {
    out += "\r\n";
  }
  return out;
}

// A fetch driver: retrieve everything, delete the odd-numbered messages, quit.
class Fetcher final : public ClientEvents {
 public:
  ClientSession* session = nullptr;
  std::string method;
  std::map<uint32_t, std::string> bodies;
  std::map<uint32_t, uint64_t> listed, ended;
  std::vector<uint32_t> deleted;
  bool quit_ok = false;
  std::string failure;

  void on_logged_in(std::string_view m) override { method = m; }
  void on_listing(std::span<const ListedMessage> messages) override {
    for (const ListedMessage& m : messages) {
      listed[m.number] = m.octets;
      session->retrieve(m.number);
    }
  }
  void on_message_data(uint32_t n, std::string_view data) override { bodies[n].append(data); }
  void on_message_end(uint32_t n, uint64_t octets) override {
    ended[n] = octets;
    // Deleted only once the message is "delivered" (PR-C-2).
    if (n % 2 == 1) {
      session->remove(n);
    }
    if (ended.size() == listed.size()) {
      session->finish();
    }
  }
  void on_deleted(uint32_t n, const ServerReply& reply) override {
    if (reply.ok) {
      deleted.push_back(n);
    }
  }
  void on_quit(const ServerReply& reply) override { quit_ok = reply.ok; }
  void on_failed(const ClientFailure& f) override {
    failure = std::string(failure_kind_name(f.kind)) + ": " + f.reason;
  }
};

// FakeWorld's APOP knows only RFC 1939's vector; the server's timestamps are fresh, so APOP
// is checked here the way auth/ does it.
auth::AuthResult authenticate(const testing::FakeWorld& world, const auth::AuthRequest& request) {
  if (request.method != auth::AuthMethod::kApop) {
    return world.authenticate(request);
  }
  auth::AuthResult result;
  auto it = world.users.find(request.user);
  std::optional<std::string> digest;
  if (it != world.users.end() && !it->second.apop_secret.empty()) {
    digest = sasl::internal::hash(sasl::internal::Digest::kMd5,
                                  request.apop_timestamp + it->second.apop_secret);
  }
  if (!digest || to_hex(*digest) != request.apop_digest) {
    result.status = Status::error(ErrorCode::kAuthFailed, "credentials do not match");
    return result;
  }
  result.user.name = request.user;
  return result;
}

struct FetchRun {
  AuthChoice auth = AuthChoice::kAny;
  std::string mechanism;
  bool tls = true;  // STLS first (else plaintext with plaintext passwords allowed)
  size_t window = 16;
  size_t chunk = SIZE_MAX;  // octets per receive(), both ways
  std::string password = "secret";
  ErrorCode open_error = ErrorCode::kOk;  // opening the maildrop fails with this
  // A man in the middle replaces SCRAM's server-final with a wrong signature.
  bool forge_server_final = false;
};

struct Result {
  Fetcher fetcher;
  testing::FakeWorld world;
  bool client_closed = false;
  bool server_closed = false;
  bool client_pipelining = false;
  // take_unreported_auth_failure() before each write, as net/ does.
  std::vector<std::string> unreported_failures;
};

void fetch(const FetchRun& run, Result& out) {
  out.world = testing::FakeWorld::with_default_users();
  out.world.users["alice"].apop_secret = "secret";
  out.world.users["alice"].open_error = run.open_error;
  SessionConfig server_config;
  server_config.hostname = "pop.example.org";
  server_config.apop = run.auth == AuthChoice::kApop;
  server_config.sasl_mechanisms = {"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"};
  server_config.starttls_available = run.tls;
  server_config.plaintext_allowed = !run.tls;
  testing::FakeClock clock;
  testing::FakeRandom server_random(7);
  ServerSession server(server_config, clock, server_random, "192.0.2.1");

  ClientSessionConfig config;
  config.user = "alice";
  config.password = Secret(run.password);
  config.auth = run.auth;
  config.sasl_mechanism = run.mechanism;
  config.tls = run.tls ? TlsRequirement::kStartTls : TlsRequirement::kNone;
  config.allow_plaintext_password = !run.tls;
  config.pipelining_window = run.window;
  testing::FakeRandom client_random(3);
  ClientSession client(config, out.fetcher, client_random);
  out.fetcher.session = &client;

  std::string to_server, to_client;
  server.start();
  for (int round = 0; round < 1000000; ++round) {
    bool progress = false;
    // The server side, as net/ runs it.
    for (bool more = !out.server_closed; more;) {
      switch (server.next_action()) {
        case ActionKind::kWrite:
          if (std::optional<std::string> user = server.take_unreported_auth_failure()) {
            out.unreported_failures.push_back(*user);
          }
          to_client.append(server.pending_output());
          server.consume_output(server.pending_output().size());
          progress = true;
          break;
        case ActionKind::kAuthenticate:
          server.on_auth_result(authenticate(out.world, server.auth_request()));
          break;
        case ActionKind::kOpenMaildrop:
          server.on_maildrop_opened(out.world.open(server.authenticated_user()));
          break;
        case ActionKind::kCommitUpdate:
          server.on_update_committed(server.run_update());
          break;
        case ActionKind::kStartTls: {
          to_client.append(server.pending_output());
          server.consume_output(server.pending_output().size());
          TlsInfo info{"TLSv1.3", "TLS_AES_128_GCM_SHA256", kExporter, ""};
          server.on_tls_started(info);
          progress = true;
          break;
        }
        case ActionKind::kClose:
          out.server_closed = true;
          more = false;
          break;
        case ActionKind::kRead:
          more = false;
          break;
      }
    }
    // The client side, as fetch/ will run it.
    for (bool more = !out.client_closed; more;) {
      switch (client.next_action()) {
        case ClientAction::kWrite:
          to_server.append(client.pending_output());
          client.consume_output(client.pending_output().size());
          progress = true;
          break;
        case ClientAction::kStartTls: {
          sasl::ChannelBindings bindings;
          bindings.tls_active = true;
          bindings.tls_exporter = kExporter;
          client.on_tls_started(bindings);
          break;
        }
        case ClientAction::kClose:
          out.client_closed = true;
          more = false;
          break;
        case ClientAction::kRead:
        case ClientAction::kIdle:
          more = false;
          break;
      }
    }
    out.client_pipelining = out.client_pipelining || client.pipelining();
    if (!to_server.empty() && !out.server_closed) {
      size_t n = std::min(run.chunk, to_server.size());
      server.receive(std::string_view(to_server).substr(0, n));
      to_server.erase(0, n);
      progress = true;
    }
    if (run.forge_server_final) {
      // The server-final "v=..." travels as "+ dj..." (base64 of "v=" and more).
      size_t at = to_client.find("+ dj");
      size_t end = at == std::string::npos ? at : to_client.find("\r\n", at);
      if (end != std::string::npos) {
        to_client.replace(at, end - at,
                          "+ " + base64_encode("v=" + base64_encode(std::string(32, '\0'))));
      }
    }
    if (!to_client.empty() && !out.client_closed) {
      size_t n = std::min(run.chunk, to_client.size());
      client.receive(std::string_view(to_client).substr(0, n));
      to_client.erase(0, n);
      progress = true;
    }
    if (out.server_closed && !out.client_closed && to_client.empty()) {
      client.on_eof();
      progress = true;
    }
    if (!progress) {
      break;
    }
  }
}

void expect_full_fetch(const FetchRun& run, std::string_view want_method) {
  SCOPED_TRACE("mechanism " + std::string(want_method) + " window " + std::to_string(run.window) +
               " chunk " + std::to_string(run.chunk));
  Result r;
  fetch(run, r);
  const Fetcher& f = r.fetcher;
  EXPECT_EQ(f.failure, "");
  EXPECT_EQ(f.method, want_method);
  EXPECT_TRUE(r.client_pipelining);  // Poplar offers PIPELINING after login
  const auto& stored = r.world.users["alice"].maildrop->messages;
  ASSERT_EQ(f.bodies.size(), stored.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    uint32_t n = static_cast<uint32_t>(i + 1);
    std::string want = on_the_wire(stored[i].content);
    EXPECT_EQ(f.bodies.at(n), want) << "message " << n;
    EXPECT_EQ(f.ended.at(n), want.size()) << "message " << n;
    EXPECT_EQ(f.listed.at(n), want.size()) << "message " << n;
  }
  EXPECT_EQ(f.deleted, (std::vector<uint32_t>{1, 3}));
  EXPECT_TRUE(f.quit_ok);
  EXPECT_TRUE(r.client_closed);
  EXPECT_EQ(r.world.users["alice"].maildrop->commits, (std::vector<std::vector<size_t>>{{0, 2}}));
}

TEST(ClientSessionEndToEnd, EveryMechanismWithAndWithoutPipeliningAtSeveralChunkSizes) {
  struct Case {
    AuthChoice auth;
    std::string mechanism;
    bool tls;
    std::string want;
  };
  const std::vector<Case> cases = {
      {AuthChoice::kUserPass, "", false, "USER"},
      {AuthChoice::kUserPass, "", true, "USER"},
      {AuthChoice::kApop, "", false, "APOP"},
      {AuthChoice::kSasl, "PLAIN", true, "PLAIN"},
      {AuthChoice::kSasl, "LOGIN", true, "LOGIN"},
      {AuthChoice::kSasl, "CRAM-MD5", false, "CRAM-MD5"},
      {AuthChoice::kSasl, "SCRAM-SHA-1", false, "SCRAM-SHA-1"},
      {AuthChoice::kSasl, "SCRAM-SHA-256", true, "SCRAM-SHA-256"},
      {AuthChoice::kSasl, "SCRAM-SHA-1-PLUS", true, "SCRAM-SHA-1-PLUS"},
      {AuthChoice::kAny, "", true, "SCRAM-SHA-256-PLUS"},
      {AuthChoice::kAny, "", false, "SCRAM-SHA-256"},
  };
  for (const Case& c : cases) {
    for (size_t window : {size_t{1}, size_t{16}}) {
      for (size_t chunk : {SIZE_MAX, size_t{1}, size_t{7}}) {
        FetchRun run;
        run.auth = c.auth;
        run.mechanism = c.mechanism;
        run.tls = c.tls;
        run.window = window;
        run.chunk = chunk;
        expect_full_fetch(run, c.want);
      }
    }
  }
}

TEST(ClientSessionEndToEnd, WrongPasswordIsAnAuthFailure) {
  for (const char* mechanism :
       {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}) {
    FetchRun run;
    run.auth = AuthChoice::kSasl;
    run.mechanism = mechanism;
    run.password = "wrong";
    Result r;
    fetch(run, r);
    EXPECT_EQ(r.fetcher.failure.rfind("auth: ", 0), 0u) << mechanism << ": " << r.fetcher.failure;
    EXPECT_TRUE(r.fetcher.bodies.empty());
    EXPECT_TRUE(r.client_closed);
    // A wrong SCRAM proof is decided in the session, so the driver must hear of it to count
    // and delay it (net/); the other mechanisms fail in a kAuthenticate action it runs itself.
    const bool scram = std::string_view(mechanism).starts_with("SCRAM");
    EXPECT_EQ(r.unreported_failures,
              scram ? std::vector<std::string>{"alice"} : std::vector<std::string>{})
        << mechanism;
  }
  for (AuthChoice auth : {AuthChoice::kUserPass, AuthChoice::kApop}) {
    FetchRun run;
    run.auth = auth;
    run.tls = false;
    run.password = "wrong";
    Result r;
    fetch(run, r);
    EXPECT_EQ(r.fetcher.failure.rfind("auth: login failed", 0), 0u) << r.fetcher.failure;
    EXPECT_TRUE(r.unreported_failures.empty());
  }
}

TEST(ClientSessionEndToEnd, ScramWithTheRightPasswordReportsNoFailure) {
  for (const char* mechanism : {"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}) {
    FetchRun run;
    run.auth = AuthChoice::kSasl;
    run.mechanism = mechanism;
    Result r;
    fetch(run, r);
    EXPECT_EQ(r.fetcher.method, mechanism);
    EXPECT_TRUE(r.unreported_failures.empty()) << mechanism;
  }
}

TEST(ClientSessionEndToEnd, ScramServerWithoutTheRightSignatureIsAnImpostor) {
  FetchRun run;
  run.auth = AuthChoice::kSasl;
  run.mechanism = "SCRAM-SHA-256";
  run.forge_server_final = true;
  Result r;
  fetch(run, r);
  EXPECT_EQ(r.fetcher.failure,
            "protocol: SASL SCRAM-SHA-256: SCRAM: server signature mismatch (impostor?)");
  EXPECT_EQ(r.fetcher.method, "");
  EXPECT_TRUE(r.fetcher.bodies.empty());
  EXPECT_TRUE(r.client_closed);
}

TEST(ClientSessionEndToEnd, LockedMaildropIsTemporary_PR_C_14) {
  for (AuthChoice auth : {AuthChoice::kUserPass, AuthChoice::kSasl}) {
    FetchRun run;
    run.auth = auth;
    run.mechanism = "SCRAM-SHA-256";
    run.open_error = ErrorCode::kInUse;
    Result r;
    fetch(run, r);
    EXPECT_EQ(r.fetcher.failure.rfind("temporary: login failed", 0), 0u) << r.fetcher.failure;
  }
}

}  // namespace
}  // namespace poplar::pop3
