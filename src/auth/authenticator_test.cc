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
#include "testing/fake_clock.h"
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
        << "gina:{SHA512-CRYPT}not-a-crypt-string\n";
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

}  // namespace
}  // namespace poplar::auth
