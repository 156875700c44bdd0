// Tests for SCRAM-SHA-1/-256 (+PLUS): the RFC 5802 §5 and RFC 7677 §3 examples reproduced
// byte for byte, client ↔ server pairs, channel binding, the "y" downgrade, and malformed input
// at each step.
#include "sasl/scram.h"

#include <gtest/gtest.h>

#include "base/base64.h"
#include "testing/fake_random.h"

namespace poplar::sasl {
namespace {

using Kind = ServerStep::Kind;
using CKind = ClientStep::Kind;

ClientCredentials creds(std::string user, std::string password, std::string authzid = {}) {
  ClientCredentials c;
  c.authcid = std::move(user);
  c.password = Secret(password);
  c.authzid = std::move(authzid);
  return c;
}

ScramCredentials stored(ScramHash hash, std::string_view password, std::string_view salt_b64,
                        uint32_t iterations = 4096) {
  Result<ScramCredentials> c =
      derive_scram_credentials(hash, Secret(password), *base64_decode(salt_b64), iterations);
  EXPECT_TRUE(c);
  return *c;
}

ChannelBindings tls_bindings() {
  ChannelBindings b;
  b.tls_active = true;
  b.tls_exporter = std::string(32, '\x42');
  b.tls_server_end_point = std::string(32, '\x17');
  return b;
}

struct Vector {
  ScramHash hash;
  std::string client_nonce;
  std::string server_nonce;
  std::string salt_b64;
  std::string client_first;
  std::string server_first;
  std::string client_final;
  std::string server_final;
};

// RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256): user "user", password "pencil".
const Vector kRfc5802 = {
    ScramHash::kSha1,
    "fyko+d2lbbFgONRv9qkxdawL",
    "3rfcNHYJY1ZVvWVs7j",
    "QSXCR+Q6sek8bf92",
    "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};
const Vector kRfc7677 = {
    ScramHash::kSha256,
    "rOprNGfwEbeRWgbNEkqO",
    "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    "W22ZaJ0SNY7soEsUEjb6gQ==",
    "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

void check_vector(const Vector& v) {
  testing::FakeRandom random;
  auto client = make_scram_client(v.hash, false, creds("user", "pencil"), random, ChannelBindings{},
                                  v.client_nonce);
  auto server = make_scram_server(v.hash, false, ServerContext{}, v.server_nonce);

  std::optional<std::string> first = client->initial_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, v.client_first);
  ServerStep step = server->start(*first);
  ASSERT_EQ(step.kind, Kind::kLookupScram) << step.reason;
  EXPECT_EQ(step.scram_lookup.user, "user");
  EXPECT_EQ(step.scram_lookup.hash, v.hash);
  step = server->on_scram_credentials(stored(v.hash, "pencil", v.salt_b64));
  ASSERT_EQ(step.kind, Kind::kChallenge) << step.reason;
  EXPECT_EQ(step.data, v.server_first);
  ClientStep reply = client->step(step.data);
  ASSERT_EQ(reply.kind, CKind::kRespond) << reply.error;
  EXPECT_EQ(reply.response, v.client_final);
  step = server->step(reply.response);
  ASSERT_EQ(step.kind, Kind::kSuccess) << step.reason;
  EXPECT_EQ(step.user, "user");
  EXPECT_EQ(step.data, v.server_final);
  EXPECT_FALSE(client->complete());  // not before the server signature is checked
  reply = client->step(step.data);
  ASSERT_EQ(reply.kind, CKind::kRespond) << reply.error;
  EXPECT_EQ(reply.response, "");
  EXPECT_TRUE(client->complete());
}

TEST(Scram, Rfc5802Sha1Example) { check_vector(kRfc5802); }
TEST(Scram, Rfc7677Sha256Example) { check_vector(kRfc7677); }

ServerStep client_gave_up() {
  ServerStep step;
  step.kind = Kind::kFailure;
  step.reason = "client gave up";
  return step;
}

// Runs a whole exchange with generated nonces; returns the server's final step and leaves the
// client's verdict in *client_complete.
ServerStep run(ScramHash hash, bool plus, const ClientCredentials& client_creds,
               std::string_view server_password, const ChannelBindings& client_bindings,
               const ServerContext& server_context, bool* client_complete = nullptr,
               bool with_initial_response = true) {
  testing::FakeRandom client_random(11);
  auto client = make_scram_client(hash, plus, client_creds, client_random, client_bindings);
  auto server = make_scram_server(hash, plus, server_context);
  ServerStep step;
  if (with_initial_response) {
    std::optional<std::string> first = client->initial_response();
    if (!first) {
      return client_gave_up();
    }
    step = server->start(*first);
  } else {
    step = server->start(std::nullopt);
    if (step.kind != Kind::kChallenge || !step.data.empty()) {
      return step;
    }
    ClientStep reply = client->step(step.data);
    if (reply.kind != CKind::kRespond) {
      return client_gave_up();
    }
    step = server->step(reply.response);
  }
  if (step.kind != Kind::kLookupScram) {
    return step;
  }
  step = server->on_scram_credentials(stored(hash, server_password, "c2FsdHNhbHRzYWx0"));
  if (step.kind != Kind::kChallenge) {
    return step;
  }
  ClientStep reply = client->step(step.data);
  if (reply.kind != CKind::kRespond) {
    return client_gave_up();
  }
  step = server->step(reply.response);
  if (step.kind == Kind::kSuccess) {
    ClientStep last = client->step(step.data);
    EXPECT_EQ(last.kind, CKind::kRespond);
  }
  if (client_complete != nullptr) {
    *client_complete = client->complete();
  }
  return step;
}

ServerContext plain_context() {
  ServerContext c;
  c.hostname = "pop.example.org";
  return c;
}

ServerContext tls_context(bool plus_advertised) {
  ServerContext c = plain_context();
  c.bindings = tls_bindings();
  c.plus_advertised = plus_advertised;
  return c;
}

TEST(Scram, PairsSucceedForBothHashes) {
  for (ScramHash hash : {ScramHash::kSha1, ScramHash::kSha256}) {
    bool complete = false;
    ServerStep step = run(hash, false, creds("alice", "correct horse"), "correct horse",
                          ChannelBindings{}, plain_context(), &complete);
    EXPECT_EQ(step.kind, Kind::kSuccess) << step.reason;
    EXPECT_EQ(step.user, "alice");
    EXPECT_TRUE(complete);
  }
}

TEST(Scram, PairWithoutInitialResponse) {
  ServerStep step = run(ScramHash::kSha256, false, creds("alice", "pw"), "pw", ChannelBindings{},
                        plain_context(), nullptr, false);
  EXPECT_EQ(step.kind, Kind::kSuccess) << step.reason;
}

TEST(Scram, WrongPasswordFailsWithInvalidProof) {
  bool complete = true;
  ServerStep step = run(ScramHash::kSha256, false, creds("alice", "wrong"), "right",
                        ChannelBindings{}, plain_context(), &complete);
  EXPECT_EQ(step.kind, Kind::kFailure);
  EXPECT_EQ(step.data, "e=invalid-proof");
  EXPECT_FALSE(complete);
}

TEST(Scram, SaslPrepMakesEquivalentPasswordsEqual) {
  // RFC 4013 §3: SOFT HYPHEN is mapped to nothing, U+2168 to "IX".
  ServerStep step = run(ScramHash::kSha256, false, creds("alice", "I\xc2\xadX"), "IX",
                        ChannelBindings{}, plain_context());
  EXPECT_EQ(step.kind, Kind::kSuccess) << step.reason;
  step = run(ScramHash::kSha256, false, creds("alice", "\xe2\x85\xa8"), "IX", ChannelBindings{},
             plain_context());
  EXPECT_EQ(step.kind, Kind::kSuccess) << step.reason;
}

TEST(Scram, UserNameEscapingRoundTrips) {
  testing::FakeRandom random;
  auto client =
      make_scram_client(ScramHash::kSha256, false, creds("a,b=c", "pw"), random, {}, "nonce");
  std::optional<std::string> first = client->initial_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "n,,n=a=2Cb=3Dc,r=nonce");
  auto server = make_scram_server(ScramHash::kSha256, false, plain_context());
  ServerStep step = server->start(*first);
  ASSERT_EQ(step.kind, Kind::kLookupScram);
  EXPECT_EQ(step.scram_lookup.user, "a,b=c");
}

TEST(Scram, ClientFirstMalformedFails) {
  for (const std::string& bad : std::vector<std::string>{
           "",
           "n",
           "n,",
           "x,,n=user,r=abc",        // unknown cbind flag
           "n,,n=user",              // no nonce
           "n,,r=abc,n=user",        // wrong order
           "n,,m=ext,n=user,r=abc",  // mandatory extension
           "n,,n=,r=abc",            // empty user
           "n,,n=us=2Der,r=abc",     // bad escape (lowercase hex is not =2C/=3D)
           "n,,n=us=41er,r=abc",     // any other escape
           "n,,n=user=,r=abc",       // truncated escape
           "n,,n=user,r=",           // empty nonce
           "n,,n=user,r=a\x01"
           "b",                             // unprintable nonce
           "n,,n=user,r=abc,1=x",           // malformed extension
           "n,b=x,n=user,r=abc",            // authzid without a=
           "n,a=other,n=user,r=abc",        // authzid differs
           "p=tls-exporter,,n=user,r=abc",  // binding requested on a non-PLUS mechanism
           std::string("n,,n=us\0er,r=abc", 16),
           "n,,n=\xff,r=abc",  // not UTF-8
           "n,,n=\x07,r=abc",  // SASLprep-prohibited
       }) {
    auto server = make_scram_server(ScramHash::kSha256, false, plain_context());
    EXPECT_EQ(server->start(bad).kind, Kind::kFailure) << bad;
  }
}

TEST(Scram, ClientFirstAccepted) {
  for (std::string good : {"n,,n=user,r=abc", "y,,n=user,r=abc", "n,a=user,n=user,r=abc",
                           "n,,n=user,r=abc,x=ignored"}) {
    auto server = make_scram_server(ScramHash::kSha256, false, plain_context());
    EXPECT_EQ(server->start(good).kind, Kind::kLookupScram) << good;
  }
}

// A server that has sent server-first for client nonce "abc", server nonce "def".
std::unique_ptr<ServerMechanism> server_at_final(const ServerContext& context, bool plus,
                                                 std::string client_first) {
  auto server = make_scram_server(ScramHash::kSha256, plus, context, "def");
  EXPECT_EQ(server->start(client_first).kind, Kind::kLookupScram);
  EXPECT_EQ(server->on_scram_credentials(stored(ScramHash::kSha256, "pw", "c2FsdA==")).kind,
            Kind::kChallenge);
  return server;
}

TEST(Scram, ClientFinalMalformedFails) {
  const std::string proof = "p=" + base64_encode(std::string(32, 'x'));
  struct Case {
    std::string message;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"", "e=other-error"},
           {"c=biws,r=abcdef", "e=other-error"},                           // no proof
           {"r=abcdef,c=biws," + proof, "e=other-error"},                  // wrong order
           {"c=biws," + proof, "e=other-error"},                           // no nonce
           {"c=bi ws,r=abcdef," + proof, "e=invalid-encoding"},            // bad base64
           {"c=eSws,r=abcdef," + proof, "e=channel-bindings-dont-match"},  // "y,," vs "n,,"
           {"c=biws,r=abcxyz," + proof, "e=other-error"},                  // nonce mismatch
           {"c=biws,r=abc," + proof, "e=other-error"},                     // client nonce only
           {"c=biws,r=abcdef,p=AAAA", "e=invalid-proof"},                  // short proof
           {"c=biws,r=abcdef,p=!!!!", "e=invalid-proof"},                  // bad base64 proof
           {"c=biws,r=abcdef," + proof, "e=invalid-proof"},                // wrong proof
           {"c=biws,r=abcdef,1=x," + proof, "e=other-error"},              // malformed extension
       }) {
    auto server = server_at_final(plain_context(), false, "n,,n=user,r=abc");
    ServerStep step = server->step(c.message);
    EXPECT_EQ(step.kind, Kind::kFailure) << c.message;
    EXPECT_EQ(step.data, c.error) << c.message;
    EXPECT_EQ(server->step(c.message).kind, Kind::kFailure);  // and it stays over
  }
}

TEST(Scram, LookupFailureOrMismatchedCredentialsFail) {
  auto server = make_scram_server(ScramHash::kSha256, false, plain_context());
  ASSERT_EQ(server->start("n,,n=user,r=abc").kind, Kind::kLookupScram);
  EXPECT_EQ(server->on_scram_credentials(Status::temporary("passwd-file unreadable")).kind,
            Kind::kFailure);

  server = make_scram_server(ScramHash::kSha256, false, plain_context());
  ASSERT_EQ(server->start("n,,n=user,r=abc").kind, Kind::kLookupScram);
  EXPECT_EQ(server->on_scram_credentials(stored(ScramHash::kSha1, "pw", "c2FsdA==")).kind,
            Kind::kFailure);

  server = make_scram_server(ScramHash::kSha256, false, plain_context());
  EXPECT_EQ(server->on_scram_credentials(stored(ScramHash::kSha256, "pw", "c2FsdA==")).kind,
            Kind::kFailure);  // before any client-first
}

TEST(Scram, StepsOutOfOrderFail) {
  auto server = make_scram_server(ScramHash::kSha256, false, plain_context());
  ASSERT_EQ(server->start("n,,n=user,r=abc").kind, Kind::kLookupScram);
  EXPECT_EQ(server->step("c=biws,r=abc,p=AAAA").kind, Kind::kFailure);  // lookup pending
}

TEST(Scram, ServerNonceIsFreshPrintableAndLong) {
  testing::FakeRandom random(3);
  ServerContext context = plain_context();
  context.random = &random;
  std::string nonces[2];
  for (std::string& nonce : nonces) {
    auto server = make_scram_server(ScramHash::kSha256, false, context);
    ASSERT_EQ(server->start("n,,n=user,r=abc").kind, Kind::kLookupScram);
    ServerStep step = server->on_scram_credentials(stored(ScramHash::kSha256, "pw", "c2FsdA=="));
    ASSERT_EQ(step.kind, Kind::kChallenge);
    ASSERT_TRUE(step.data.starts_with("r=abc"));
    nonce = step.data.substr(5, step.data.find(',') - 5);
    EXPECT_GE(nonce.size(), 24u);  // base64 of 18 bytes
    EXPECT_EQ(nonce.find(','), std::string::npos);
  }
  EXPECT_NE(nonces[0], nonces[1]);
}

// --- channel binding ---

TEST(Scram, PlusWithTlsExporterSucceeds) {
  bool complete = false;
  ServerStep step = run(ScramHash::kSha256, true, creds("alice", "pw"), "pw", tls_bindings(),
                        tls_context(true), &complete);
  EXPECT_EQ(step.kind, Kind::kSuccess) << step.reason;
  EXPECT_TRUE(complete);
}

TEST(Scram, PlusWithTlsServerEndPointSucceeds) {
  ChannelBindings client = tls_bindings();
  client.tls_exporter.clear();  // e.g. an older TLS stack on the client
  ServerStep step =
      run(ScramHash::kSha1, true, creds("alice", "pw"), "pw", client, tls_context(true));
  EXPECT_EQ(step.kind, Kind::kSuccess) << step.reason;
}

TEST(Scram, PlusBindingMismatchFails) {
  ChannelBindings client = tls_bindings();
  client.tls_exporter = std::string(32, '\x43');  // a man in the middle has another TLS session
  ServerStep step =
      run(ScramHash::kSha256, true, creds("alice", "pw"), "pw", client, tls_context(true));
  EXPECT_EQ(step.kind, Kind::kFailure);
  EXPECT_EQ(step.data, "e=channel-bindings-dont-match");
}

TEST(Scram, PlusFailsWhenTheRequestedBindingIsUnavailable) {
  ServerContext server = tls_context(true);
  server.bindings.tls_exporter.clear();
  auto mech = make_scram_server(ScramHash::kSha256, true, server);
  EXPECT_EQ(mech->start("p=tls-exporter,,n=user,r=abc").kind, Kind::kFailure);
  mech = make_scram_server(ScramHash::kSha256, true, server);
  EXPECT_EQ(mech->start("p=tls-server-end-point,,n=user,r=abc").kind, Kind::kLookupScram);
  mech = make_scram_server(ScramHash::kSha256, true, server);
  EXPECT_EQ(mech->start("p=tls-unique,,n=user,r=abc").kind, Kind::kFailure);
  mech = make_scram_server(ScramHash::kSha256, true, server);
  EXPECT_EQ(mech->start("n,,n=user,r=abc").kind, Kind::kFailure);  // -PLUS needs p=
}

TEST(Scram, PlusClientWithoutBindingDataFails) {
  testing::FakeRandom random;
  auto client = make_scram_client(ScramHash::kSha256, true, creds("a", "pw"), random, {});
  EXPECT_FALSE(client->initial_response());
  EXPECT_EQ(client->step("").kind, CKind::kFailure);
}

TEST(Scram, DowngradeWithYFailsWhenPlusWasAdvertised) {
  // The client can bind (it has TLS data) but picked plain SCRAM: it sends "y". If we did
  // advertise -PLUS, someone stripped it from CAPA.
  ServerStep step =
      run(ScramHash::kSha256, false, creds("alice", "pw"), "pw", tls_bindings(), tls_context(true));
  EXPECT_EQ(step.kind, Kind::kFailure);
  step = run(ScramHash::kSha256, false, creds("alice", "pw"), "pw", tls_bindings(),
             tls_context(false));
  EXPECT_EQ(step.kind, Kind::kSuccess) << step.reason;
}

TEST(Scram, ChangingTheGs2HeaderBreaksTheBinding) {
  // client-first said "y,," but client-final claims "n,," (c=biws): rejected.
  auto server = server_at_final(plain_context(), false, "y,,n=user,r=abc");
  ServerStep step = server->step("c=biws,r=abcdef,p=" + base64_encode(std::string(32, 'x')));
  EXPECT_EQ(step.data, "e=channel-bindings-dont-match");
}

// --- the client against a misbehaving server ---

TEST(Scram, ClientRejectsForgedServerSignature) {
  testing::FakeRandom random;
  auto client = make_scram_client(ScramHash::kSha256, false, creds("user", "pencil"), random, {},
                                  kRfc7677.client_nonce);
  ASSERT_TRUE(client->initial_response());
  ASSERT_EQ(client->step(kRfc7677.server_first).kind, CKind::kRespond);
  ClientStep last = client->step("v=" + base64_encode(std::string(32, 'z')));
  EXPECT_EQ(last.kind, CKind::kFailure);
  EXPECT_FALSE(client->complete());
}

TEST(Scram, ClientReportsServerError) {
  testing::FakeRandom random;
  auto client = make_scram_client(ScramHash::kSha256, false, creds("user", "pencil"), random, {},
                                  kRfc7677.client_nonce);
  ASSERT_TRUE(client->initial_response());
  ASSERT_EQ(client->step(kRfc7677.server_first).kind, CKind::kRespond);
  ClientStep last = client->step("e=invalid-proof");
  EXPECT_EQ(last.kind, CKind::kFailure);
  EXPECT_NE(last.error.find("invalid-proof"), std::string::npos);
  EXPECT_FALSE(client->complete());
}

TEST(Scram, ClientRejectsMalformedServerFirst) {
  for (std::string bad : {
           "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",         // nonce not extended
           "r=other%hvYDpWUa2RaTCAfuxFIlj,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  // not our nonce
           "r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096",                              // empty salt
           "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
           "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
           "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999",  // too costly
           "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
           "m=x,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
       }) {
    testing::FakeRandom random;
    auto client = make_scram_client(ScramHash::kSha256, false, creds("user", "pencil"), random, {},
                                    kRfc7677.client_nonce);
    ASSERT_TRUE(client->initial_response());
    EXPECT_EQ(client->step(bad).kind, CKind::kFailure) << bad;
    EXPECT_FALSE(client->complete());
  }
}

TEST(Scram, DeriveRejectsBadParameters) {
  EXPECT_FALSE(derive_scram_credentials(ScramHash::kSha256, Secret("pw"), "", 4096));
  EXPECT_FALSE(derive_scram_credentials(ScramHash::kSha256, Secret("pw"), "salt", 0));
}

TEST(Scram, MechanismNames) {
  EXPECT_EQ(scram_mechanism_name(ScramHash::kSha1, false), "SCRAM-SHA-1");
  EXPECT_EQ(scram_mechanism_name(ScramHash::kSha256, true), "SCRAM-SHA-256-PLUS");
}

}  // namespace
}  // namespace poplar::sasl
