#include "auth/authenticator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "sasl/scram.h"
#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "testing/temp_dir.h"

namespace poplar::auth {
namespace {

// "secret", from `openssl passwd -6 -salt /6k.2IU/5UE08g.1 secret`.
constexpr std::string_view kAliceHash =
    "{SHA512-CRYPT}$6$/6k.2IU/5UE08g.1$9H4XqyuCn/5uEdKvjh4UF2a.gs58KTDUPQBefXXpbJdoC9SQC9X4I2nfVY"
    "OY7dMB908eleQYm07fzOZJ3FeGr/";
// "secret" (libsodium, see password_scheme_test.cc).
constexpr std::string_view kCarolHash =
    "{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=1$AQIDBAUGBwgJCgsMDQ4PEA$o9NyJPK4Pe7RWurQLVZ7mPDNSTXS4l"
    "Z2dJD//jHDbR0";
// "password", Dovecot's CRAM-MD5 states.
constexpr std::string_view kFrankHash =
    "{CRAM-MD5}9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740";

// "pencil" with the RFC 7677 §3 and RFC 5802 §5 salts (see password_scheme_test.cc).
constexpr std::string_view kHankScram256 =
    "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
constexpr std::string_view kIvyScram1 =
    "{SCRAM-SHA-1}4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=";

// RFC 2195 §2's challenge; digests from `openssl dgst -md5 -hmac <secret>`.
constexpr std::string_view kCramChallenge = "<1896.697170952@postoffice.reston.mci.net>";
constexpr std::string_view kCramBob = "85a2deaeb5209b0f54d40759dacc24c4";    // "tanstaaf"
constexpr std::string_view kCramFrank = "06d0a325f054648646e072cd4feb17c4";  // "password"

constexpr std::string_view kRfcTimestamp = "<1896.697170952@dbc.mtview.ca.us>";
constexpr std::string_view kRfcDigest = "c4c9334bac560ecc979e58001b3e22fb";

AuthRequest user_pass(std::string_view user, std::string_view password) {
  AuthRequest r;
  r.method = AuthMethod::kUserPass;
  r.user = std::string(user);
  r.password = Secret(password);
  r.remote_ip = "192.0.2.1";
  return r;
}

AuthRequest apop(std::string_view user, std::string_view timestamp, std::string_view digest) {
  AuthRequest r;
  r.method = AuthMethod::kApop;
  r.user = std::string(user);
  r.apop_timestamp = std::string(timestamp);
  r.apop_digest = std::string(digest);
  r.remote_ip = "192.0.2.1";
  return r;
}

AuthRequest cram(std::string_view user, std::string_view challenge, std::string_view digest) {
  AuthRequest r;
  r.method = AuthMethod::kCramMd5;
  r.mechanism = "CRAM-MD5";
  r.user = std::string(user);
  r.cram_challenge = std::string(challenge);
  r.cram_digest = std::string(digest);
  r.remote_ip = "192.0.2.1";
  return r;
}

AuthRequest scram(std::string_view user, sasl::ScramHash hash = sasl::ScramHash::kSha256) {
  AuthRequest r;
  r.method = AuthMethod::kScramLookup;
  r.mechanism = "SCRAM-SHA-256";
  r.user = std::string(user);
  r.scram_hash = hash;
  r.remote_ip = "192.0.2.1";
  return r;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest() {
    log::set_sink_for_test([this](log::Level, std::string_view line) {
      std::lock_guard lock(log_mutex_);
      log_ += line;
      log_ += '\n';
    });
    std::ofstream out(path(), std::ios::binary);
    out << "# test users\n"
        << "alice:" << kAliceHash << ":1000:1001::/home/alice::userdb_mail=maildir:~/Mail\n"
        << "bob:{PLAIN}tanstaaf:1002:1002::/home/bob\n"
        << "carol:" << kCarolHash << ":1003:1003\n"
        << "dave:{NOSUCHSCHEME}whatever\n"
        << "erin::1004:1004\n"
        << "frank:" << kFrankHash << "\n"
        << "gina:{SHA512-CRYPT}not-a-crypt-string\n"
        << "hank:" << kHankScram256 << ":1005:1005::/home/hank\n"
        << "ivy:" << kIvyScram1 << "\n";
  }
  ~AuthenticatorTest() override { log::reset_sink(); }

  std::filesystem::path path() const { return dir_.path() / "users"; }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::mutex log_mutex_;
  std::string log_;
};

TEST_F(AuthenticatorTest, CorrectPasswordReturnsTheUserRecord) {
  Authenticator auth(path().string(), clock_);
  AuthResult r = auth.authenticate(user_pass("alice", "secret"));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.user.name, "alice");
  EXPECT_EQ(r.user.uid, 1000u);
  EXPECT_EQ(r.user.gid, 1001u);
  EXPECT_EQ(r.user.home, "/home/alice");
  EXPECT_EQ(r.user.mail, "maildir:~/Mail");

  EXPECT_TRUE(auth.authenticate(user_pass("bob", "tanstaaf")).status.is_ok());
  EXPECT_TRUE(auth.authenticate(user_pass("carol", "secret")).status.is_ok());
  EXPECT_TRUE(auth.authenticate(user_pass("frank", "password")).status.is_ok());
}

TEST_F(AuthenticatorTest, EveryFailureLooksTheSameToTheClient) {
  Authenticator auth(path().string(), clock_);
  struct Case {
    AuthRequest request;
    std::string log_reason;
  };
  std::vector<Case> cases;
  cases.push_back({user_pass("alice", "wrong"), "password mismatch"});
  cases.push_back({user_pass("nobody", "secret"), "unknown user"});
  cases.push_back({user_pass("Alice", "secret"), "unknown user"});  // case-sensitive
  cases.push_back({user_pass("alice", ""), "empty password"});
  cases.push_back({user_pass("dave", "whatever"), "unknown password scheme"});
  cases.push_back({user_pass("erin", "anything"), "no password set"});
  cases.push_back({user_pass("gina", "x"), "malformed"});
  for (Case& c : cases) {
    SCOPED_TRACE(c.request.user + " / " + c.log_reason);
    AuthResult r = auth.authenticate(c.request);
    EXPECT_EQ(r.status.code(), ErrorCode::kAuthFailed);
    EXPECT_NE(r.status.message().find(c.log_reason), std::string::npos) << r.status.message();
    EXPECT_TRUE(r.user.name.empty());
  }
}

TEST_F(AuthenticatorTest, ApopWorksOnlyForRecoverableSecrets) {
  Authenticator auth(path().string(), clock_);
  AuthResult ok = auth.authenticate(apop("bob", kRfcTimestamp, kRfcDigest));
  ASSERT_TRUE(ok.status.is_ok()) << ok.status.to_string();
  EXPECT_EQ(ok.user.name, "bob");
  EXPECT_EQ(ok.user.home, "/home/bob");

  // Upper-case hex is accepted.
  EXPECT_TRUE(auth.authenticate(apop("bob", kRfcTimestamp, "C4C9334BAC560ECC979E58001B3E22FB"))
                  .status.is_ok());

  AuthResult wrong =
      auth.authenticate(apop("bob", kRfcTimestamp, "c4c9334bac560ecc979e58001b3e22fc"));
  EXPECT_EQ(wrong.status.code(), ErrorCode::kAuthFailed);
  EXPECT_NE(wrong.status.message().find("mismatch"), std::string::npos);

  // Another timestamp gives another digest.
  EXPECT_EQ(auth.authenticate(apop("bob", "<other@host>", kRfcDigest)).status.code(),
            ErrorCode::kAuthFailed);

  AuthResult hashed = auth.authenticate(apop("alice", kRfcTimestamp, kRfcDigest));
  EXPECT_EQ(hashed.status.code(), ErrorCode::kAuthFailed);
  EXPECT_NE(hashed.status.message().find("scheme cannot serve APOP"), std::string::npos);

  AuthResult cram = auth.authenticate(apop("frank", kRfcTimestamp, kRfcDigest));
  EXPECT_EQ(cram.status.code(), ErrorCode::kAuthFailed);

  AuthResult unknown = auth.authenticate(apop("nobody", kRfcTimestamp, kRfcDigest));
  EXPECT_EQ(unknown.status.code(), ErrorCode::kAuthFailed);
  EXPECT_NE(unknown.status.message().find("unknown user"), std::string::npos);

  for (std::string_view bad :
       {"", "c4c9", "zzc9334bac560ecc979e58001b3e22fb", "c4c9334bac560ecc979e58001b3e22fb00"}) {
    AuthResult r = auth.authenticate(apop("bob", kRfcTimestamp, bad));
    EXPECT_EQ(r.status.code(), ErrorCode::kAuthFailed) << bad;
  }
  EXPECT_EQ(auth.authenticate(apop("bob", "", kRfcDigest)).status.code(), ErrorCode::kAuthFailed);
}

TEST_F(AuthenticatorTest, UnreadablePasswdFileIsTemporary) {
  Authenticator auth((dir_.path() / "missing").string(), clock_);
  AuthResult r = auth.authenticate(user_pass("alice", "secret"));
  EXPECT_EQ(r.status.code(), ErrorCode::kTemporary);
  EXPECT_EQ(auth.authenticate(apop("bob", kRfcTimestamp, kRfcDigest)).status.code(),
            ErrorCode::kTemporary);
}

TEST_F(AuthenticatorTest, SeesPasswordChangesAfterTheCheckInterval) {
  Authenticator auth(path().string(), clock_);
  ASSERT_TRUE(auth.authenticate(user_pass("bob", "tanstaaf")).status.is_ok());
  std::filesystem::path tmp = path().string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << "bob:{PLAIN}new-one\n";
  }
  std::filesystem::rename(tmp, path());
  clock_.advance(PasswdFile::kCheckInterval);
  EXPECT_EQ(auth.authenticate(user_pass("bob", "tanstaaf")).status.code(), ErrorCode::kAuthFailed);
  EXPECT_TRUE(auth.authenticate(user_pass("bob", "new-one")).status.is_ok());
}

TEST_F(AuthenticatorTest, NoPasswordInStatusMessagesOrLogs) {
  constexpr std::string_view kPassword = "Sup3r-Unique-Passw0rd";
  Authenticator auth(path().string(), clock_);
  std::vector<std::string> messages;
  for (std::string_view user :
       {"alice", "bob", "carol", "dave", "erin", "frank", "gina", "nobody"}) {
    messages.push_back(auth.authenticate(user_pass(user, kPassword)).status.to_string());
    messages.push_back(
        auth.authenticate(apop(user, kRfcTimestamp, "0123456789abcdef0123456789abcdef"))
            .status.to_string());
  }
  Authenticator missing((dir_.path() / "missing").string(), clock_);
  messages.push_back(missing.authenticate(user_pass("alice", kPassword)).status.to_string());
  for (const std::string& m : messages) {
    EXPECT_EQ(m.find(kPassword), std::string::npos) << m;
    EXPECT_EQ(m.find("tanstaaf"), std::string::npos) << m;  // bob's stored secret
    EXPECT_EQ(m.find("9H4Xqyu"), std::string::npos) << m;   // alice's hash
  }
  std::lock_guard lock(log_mutex_);
  EXPECT_EQ(log_.find(kPassword), std::string::npos);
  EXPECT_EQ(log_.find("tanstaaf"), std::string::npos);
}

TEST_F(AuthenticatorTest, ConcurrentAuthenticationsAgree) {
  Authenticator auth(path().string(), clock_);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        bool good = (i + t) % 2 == 0;
        AuthResult r = auth.authenticate(user_pass(
            i % 3 == 0 ? "alice" : "bob", good ? (i % 3 == 0 ? "secret" : "tanstaaf") : "nope"));
        if (r.status.is_ok() != good) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(wrong, 0);
}

TEST_F(AuthenticatorTest, CramMd5FromPlainAndStoredStates) {
  Authenticator auth(path().string(), clock_);
  AuthResult bob = auth.authenticate(cram("bob", kCramChallenge, kCramBob));
  ASSERT_TRUE(bob.status.is_ok()) << bob.status.to_string();
  EXPECT_EQ(bob.user.home, "/home/bob");
  AuthResult frank = auth.authenticate(cram("frank", kCramChallenge, kCramFrank));
  ASSERT_TRUE(frank.status.is_ok()) << frank.status.to_string();
  EXPECT_TRUE(auth.authenticate(cram("frank", kCramChallenge, "06D0A325F054648646E072CD4FEB17C4"))
                  .status.is_ok());
}

TEST_F(AuthenticatorTest, CramMd5FailuresLookTheSame) {
  Authenticator auth(path().string(), clock_);
  struct Case {
    AuthRequest request;
    std::string log_reason;
  };
  std::vector<Case> cases;
  cases.push_back({cram("bob", kCramChallenge, kCramFrank), "mismatch"});
  cases.push_back({cram("bob", "<other@host>", kCramBob), "mismatch"});
  cases.push_back({cram("alice", kCramChallenge, kCramBob), "cannot serve CRAM-MD5"});
  cases.push_back({cram("hank", kCramChallenge, kCramBob), "cannot serve CRAM-MD5"});
  cases.push_back({cram("nobody", kCramChallenge, kCramBob), "unknown user"});
  cases.push_back({cram("erin", kCramChallenge, kCramBob), "no password set"});
  cases.push_back({cram("bob", kCramChallenge, "85a2"), "malformed"});
  cases.push_back(
      {cram("bob", kCramChallenge, "zz" + std::string(kCramBob.substr(2))), "malformed"});
  cases.push_back({cram("bob", "", kCramBob), "no CRAM-MD5 challenge"});
  for (Case& c : cases) {
    SCOPED_TRACE(c.request.user + " / " + c.log_reason);
    AuthResult r = auth.authenticate(c.request);
    EXPECT_EQ(r.status.code(), ErrorCode::kAuthFailed);
    EXPECT_NE(r.status.message().find(c.log_reason), std::string::npos) << r.status.message();
    EXPECT_TRUE(r.user.name.empty());
  }
}

TEST_F(AuthenticatorTest, ScramLookupReturnsStoredOrDerivedCredentials) {
  Authenticator auth(path().string(), clock_);
  AuthResult hank = auth.authenticate(scram("hank"));
  ASSERT_TRUE(hank.status.is_ok()) << hank.status.to_string();
  EXPECT_EQ(hank.user.name, "hank");
  EXPECT_EQ(hank.user.home, "/home/hank");
  ASSERT_TRUE(hank.scram.has_value());
  Result<sasl::ScramCredentials> expected = sasl::derive_scram_credentials(
      sasl::ScramHash::kSha256, Secret("pencil"), hank.scram->salt, 4096);
  ASSERT_TRUE(expected.is_ok());
  EXPECT_EQ(hank.scram->stored_key, expected->stored_key);

  AuthResult ivy = auth.authenticate(scram("ivy", sasl::ScramHash::kSha1));
  ASSERT_TRUE(ivy.status.is_ok()) << ivy.status.to_string();
  EXPECT_EQ(ivy.scram->hash, sasl::ScramHash::kSha1);

  AuthResult bob = auth.authenticate(scram("bob"));  // {PLAIN}: derived
  ASSERT_TRUE(bob.status.is_ok()) << bob.status.to_string();
  ASSERT_TRUE(bob.scram.has_value());
  AuthResult bob_again = auth.authenticate(scram("bob"));
  EXPECT_EQ(bob.scram->salt, bob_again.scram->salt);
}

TEST_F(AuthenticatorTest, ScramLookupMakesUpCredentialsForUsersWhoCannotDoScram) {
  Authenticator auth(path().string(), clock_);
  for (std::string_view user : {"nobody", "alice", "dave", "erin", "frank", "gina"}) {
    SCOPED_TRACE(user);
    AuthResult r = auth.authenticate(scram(user));
    EXPECT_EQ(r.status.code(), ErrorCode::kAuthFailed);
    EXPECT_TRUE(r.user.name.empty());
    ASSERT_TRUE(r.scram.has_value());
    EXPECT_EQ(r.scram->hash, sasl::ScramHash::kSha256);
    EXPECT_EQ(r.scram->iterations, 4096u);
    EXPECT_EQ(r.scram->salt.size(), 16u);
    EXPECT_EQ(r.scram->stored_key.size(), 32u);
    // Stable per name, so two attempts cannot tell a made-up user from a real one.
    AuthResult again = auth.authenticate(scram(user));
    ASSERT_TRUE(again.scram.has_value());
    EXPECT_EQ(again.scram->salt, r.scram->salt);
    EXPECT_EQ(again.scram->stored_key, r.scram->stored_key);
  }
  EXPECT_NE(auth.authenticate(scram("nobody")).scram->salt,
            auth.authenticate(scram("someone")).scram->salt);
  // A SHA-256 entry asked for SHA-1 credentials: made up, of SHA-1 size.
  AuthResult mismatch = auth.authenticate(scram("hank", sasl::ScramHash::kSha1));
  EXPECT_EQ(mismatch.status.code(), ErrorCode::kAuthFailed);
  ASSERT_TRUE(mismatch.scram.has_value());
  EXPECT_EQ(mismatch.scram->stored_key.size(), 20u);

  Authenticator missing((dir_.path() / "missing").string(), clock_);
  AuthResult unreadable = missing.authenticate(scram("hank"));
  EXPECT_EQ(unreadable.status.code(), ErrorCode::kTemporary);
  EXPECT_FALSE(unreadable.scram.has_value());
}

// The whole SCRAM exchange through the real mechanisms and the Authenticator, as the session
// will run it.
sasl::ServerStep run_scram(Authenticator& auth, std::string_view user, std::string_view password,
                           Status* lookup_status) {
  poplar::testing::FakeRandom random;
  sasl::ClientCredentials creds;
  creds.authcid = std::string(user);
  creds.password = Secret(password);
  auto client = sasl::make_scram_client(sasl::ScramHash::kSha256, false, creds, random, {});
  sasl::ServerContext context;
  context.random = &random;
  auto server = sasl::make_scram_server(sasl::ScramHash::kSha256, false, context);
  sasl::ServerStep step = server->start(*client->initial_response());
  EXPECT_EQ(step.kind, sasl::ServerStep::Kind::kLookupScram);
  AuthRequest request = scram(step.scram_lookup.user);
  AuthResult looked_up = auth.authenticate(request);
  *lookup_status = looked_up.status;
  if (!looked_up.scram) {
    return server->on_scram_credentials(looked_up.status);
  }
  step = server->on_scram_credentials(*looked_up.scram);
  EXPECT_EQ(step.kind, sasl::ServerStep::Kind::kChallenge);
  sasl::ClientStep reply = client->step(step.data);
  EXPECT_EQ(reply.kind, sasl::ClientStep::Kind::kRespond);
  return server->step(reply.response);
}

TEST_F(AuthenticatorTest, ScramExchangeEndToEnd) {
  Authenticator auth(path().string(), clock_);
  Status lookup;
  EXPECT_EQ(run_scram(auth, "hank", "pencil", &lookup).kind, sasl::ServerStep::Kind::kSuccess);
  EXPECT_TRUE(lookup.is_ok());
  EXPECT_EQ(run_scram(auth, "bob", "tanstaaf", &lookup).kind, sasl::ServerStep::Kind::kSuccess);
  sasl::ServerStep wrong = run_scram(auth, "hank", "pencils", &lookup);
  EXPECT_EQ(wrong.kind, sasl::ServerStep::Kind::kFailure);
  EXPECT_EQ(wrong.data, "e=invalid-proof");
  // Unknown user: the same failure at the same step.
  sasl::ServerStep unknown = run_scram(auth, "nobody", "pencil", &lookup);
  EXPECT_EQ(unknown.kind, sasl::ServerStep::Kind::kFailure);
  EXPECT_EQ(unknown.data, "e=invalid-proof");
  EXPECT_EQ(lookup.code(), ErrorCode::kAuthFailed);
}

}  // namespace
}  // namespace poplar::auth
