#include "auth/password_scheme.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sasl/scram.h"
#include "testing/fake_random.h"

namespace poplar::auth {
namespace {

// Expected values were computed independently when the tests were written, not with this code:
//   *-CRYPT:        `openssl passwd -6 / -5 / -1 -salt <salt> secret`
//   BLF-CRYPT:      the crypt_blowfish reference vector ("U*U"), and Python's crypt module
//   CRYPT (DES):    Python's crypt module
//   ARGON2I/ID:     libsodium's crypto_pwhash (a separate argon2 implementation) via Python
//                   ctypes, with salt bytes 01..10 hex, encoded by hand in PHC form
//   SHA*/SSHA*:     Python hashlib + base64, salt bytes 01..10 hex
//   CRAM-MD5:       a stand-alone Python MD5 compression function; the "password" value also
//                   appears verbatim as `doveadm pw` output in public documentation
//   APOP, HMAC-MD5: RFC 1939 §7 and RFC 2195 §2
constexpr std::string_view kSha512Crypt =
    "$6$/6k.2IU/5UE08g.1$9H4XqyuCn/5uEdKvjh4UF2a.gs58KTDUPQBefXXpbJdoC9SQC9X4I2nfVYOY7dMB908eleQ"
    "Ym07fzOZJ3FeGr/";
constexpr std::string_view kSha256Crypt =
    "$5$/6k.2IU/5UE08g.1$/Yv6/kgAOOlsOKbTOuSNAa/8LGXxZOzxS60UfJ.qQn9";
constexpr std::string_view kMd5Crypt = "$1$/6k.2IU/$LxYvDAZDY.ONcTb.BI0pW0";
constexpr std::string_view kBlfCryptGenerated =
    "$2y$05$.OGB/.SE/ueHAeqKBO2NC.gMQ0.WZMmRM5xLrmNgnqGzfYwnr41A.";
constexpr std::string_view kArgon2id =
    "$argon2id$v=19$m=1024,t=2,p=1$AQIDBAUGBwgJCgsMDQ4PEA$o9NyJPK4Pe7RWurQLVZ7mPDNSTXS4lZ2dJD//"
    "jHDbR0";
constexpr std::string_view kArgon2i =
    "$argon2i$v=19$m=1024,t=3,p=1$AQIDBAUGBwgJCgsMDQ4PEA$dVknqYTbizUJdn3VDxpiS5+gKbSC0+"
    "PJiCSe3avcLAk";
constexpr std::string_view kSsha256 =
    "WM4Qb7YROBTYMx+NyxexcN5J5OhEYWWrETA4BTbw+c0BAgMEBQYHCAkKCwwNDg8Q";
constexpr std::string_view kSsha512 =
    "3HetSgc5rtYcxt+jOB5G29l9XEERrRkZ5dKPPiOS1b2tgoYUFzNKoxCe9loboTBnpesGjbycsiDs3f/"
    "HnU1XMwECAwQFBgcICQoLDA0ODxA=";
constexpr std::string_view kCramMd5Password =
    "9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740";
constexpr std::string_view kCramMd5Tanstaaf =
    "d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b";

// Cheap parameters so that the tests stay fast, also under sanitizers.
HashOptions cheap() {
  HashOptions o;
  o.argon2_memory_kib = 1024;
  o.argon2_iterations = 2;
  o.argon2_parallelism = 1;
  o.bcrypt_cost = 5;
  return o;
}

struct Vector {
  std::string stored;
  std::string password;
};

TEST(PasswordSchemeTest, VerifiesIndependentlyComputedVectors) {
  const std::vector<Vector> vectors = {
      {"{PLAIN}secret", "secret"},
      {"{CLEARTEXT}secret", "secret"},
      {"{SHA512-CRYPT}" + std::string(kSha512Crypt), "secret"},
      {"{SHA256-CRYPT}" + std::string(kSha256Crypt), "secret"},
      {"{MD5-CRYPT}" + std::string(kMd5Crypt), "secret"},
      {"{BLF-CRYPT}$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
      {"{BLF-CRYPT}" + std::string(kBlfCryptGenerated), "secret"},
      {"{CRYPT}abNANd1rDfiNc", "secret"},
      {"{ARGON2ID}" + std::string(kArgon2id), "secret"},
      {"{ARGON2I}" + std::string(kArgon2i), "secret"},
      {"{ARGON2ID}$argon2id$v=19$m=8,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
       "FfkJZkhmHfSV2WdQ7IDLMJ0yiB/lvkidHyOUCw9zXfU",
       "password"},
      {"{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "secret"},
      {"{SHA256}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b", "secret"},
      {"{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayr"
       "W/isg==",
       "secret"},
      {"{SSHA256}" + std::string(kSsha256), "secret"},
      {"{SSHA512}" + std::string(kSsha512), "secret"},
      {"{CRAM-MD5}" + std::string(kCramMd5Password), "password"},
      {"{HMAC-MD5}" + std::string(kCramMd5Password), "password"},
      {"{CRAM-MD5}" + std::string(kCramMd5Tanstaaf), "tanstaaftanstaaf"},
      {"{CRAM-MD5}8103bb3a2a4b96a9ca9cce4efecc8d22ebe7163dff7401afb5aa16d4edcf9f1f",
       std::string(70, 'x')},  // a key longer than the 64-byte block is hashed first
  };
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.stored);
    Status ok = verify_password(v.stored, Secret(v.password));
    EXPECT_TRUE(ok.is_ok()) << ok.to_string();
    Status wrong = verify_password(v.stored, Secret(v.password + "x"));
    EXPECT_EQ(wrong.code(), ErrorCode::kAuthFailed);
  }
}

TEST(PasswordSchemeTest, GeneratesExactlyTheIndependentVectorsForAGivenSalt) {
  struct Case {
    std::string scheme;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"SHA512-CRYPT", "{SHA512-CRYPT}" + std::string(kSha512Crypt)},
      {"SHA256-CRYPT", "{SHA256-CRYPT}" + std::string(kSha256Crypt)},
      {"MD5-CRYPT", "{MD5-CRYPT}" + std::string(kMd5Crypt)},
      {"BLF-CRYPT", "{BLF-CRYPT}" + std::string(kBlfCryptGenerated)},
      {"ARGON2ID", "{ARGON2ID}" + std::string(kArgon2id)},
      {"SSHA256", "{SSHA256}" + std::string(kSsha256)},
      {"SSHA512", "{SSHA512}" + std::string(kSsha512)},
      {"SHA256", "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols="},
      {"CRAM-MD5", "{CRAM-MD5}" + std::string(kCramMd5Tanstaaf)},
      {"PLAIN", "{PLAIN}secret"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.scheme);
    testing::FakeRandom random(1);  // salt bytes 01 02 03 ...
    std::string password = c.scheme == "CRAM-MD5" ? "tanstaaftanstaaf" : "secret";
    Result<std::string> hashed = hash_password(c.scheme, Secret(password), random, cheap());
    ASSERT_TRUE(hashed.is_ok()) << hashed.status().to_string();
    EXPECT_EQ(*hashed, c.expected);
  }
}

TEST(PasswordSchemeTest, EverySchemeRoundTrips) {
  SystemRandom& random = SystemRandom::instance();
  for (std::string_view scheme : supported_schemes()) {
    SCOPED_TRACE(scheme);
    // 8 characters at most: DES {CRYPT} refuses longer ones.
    Result<std::string> hashed = hash_password(scheme, Secret("correct!"), random, cheap());
    ASSERT_TRUE(hashed.is_ok()) << hashed.status().to_string();
    EXPECT_TRUE(hashed->starts_with("{" + std::string(scheme) + "}"));
    EXPECT_TRUE(verify_password(*hashed, Secret("correct!")).is_ok());
    EXPECT_EQ(verify_password(*hashed, Secret("Correct!")).code(), ErrorCode::kAuthFailed);
  }
}

TEST(PasswordSchemeTest, CheapSchemesAreTheDigestsAndPlain) {
  for (const char* s :
       {"PLAIN", "cleartext", "CRAM-MD5", "SHA256", "SHA512", "SSHA256", "SSHA512"}) {
    EXPECT_TRUE(is_cheap_to_verify(s)) << s;
  }
  for (const char* s : {"SHA512-CRYPT", "SHA256-CRYPT", "MD5-CRYPT", "CRYPT", "BLF-CRYPT",
                        "ARGON2I", "ARGON2ID", "SCRAM-SHA-1", "SCRAM-SHA-256"}) {
    EXPECT_FALSE(is_cheap_to_verify(s)) << s;
  }
}

TEST(PasswordSchemeTest, SaltsDifferBetweenHashes) {
  SystemRandom& random = SystemRandom::instance();
  for (std::string_view scheme : {"SHA512-CRYPT", "ARGON2ID", "SSHA512", "BLF-CRYPT"}) {
    Result<std::string> a = hash_password(scheme, Secret("pw"), random, cheap());
    Result<std::string> b = hash_password(scheme, Secret("pw"), random, cheap());
    ASSERT_TRUE(a.is_ok() && b.is_ok());
    EXPECT_NE(*a, *b) << scheme;
  }
}

TEST(PasswordSchemeTest, DefaultOptionsGiveDocumentedCosts) {
  SystemRandom& random = SystemRandom::instance();
  Result<std::string> argon = hash_password(kDefaultScheme, Secret("pw"), random);
  ASSERT_TRUE(argon.is_ok());
  EXPECT_TRUE(argon->starts_with("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$")) << *argon;
  Result<std::string> blf = hash_password("BLF-CRYPT", Secret("pw"), random);
  ASSERT_TRUE(blf.is_ok());
  EXPECT_TRUE(blf->starts_with("{BLF-CRYPT}$2y$10$")) << *blf;
  // SHA512-CRYPT with the implied 5000 rounds, written without "rounds=", as doveadm does.
  Result<std::string> sha = hash_password("SHA512-CRYPT", Secret("pw"), random);
  ASSERT_TRUE(sha.is_ok());
  EXPECT_TRUE(sha->starts_with("{SHA512-CRYPT}$6$"));
  EXPECT_EQ(sha->find("rounds="), std::string::npos);
  EXPECT_EQ(sha->size(), std::string("{SHA512-CRYPT}").size() + 3 + 16 + 1 + 86);
}

TEST(PasswordSchemeTest, ShaCryptRoundsAreWrittenWhenNotDefault) {
  testing::FakeRandom random(1);
  HashOptions o = cheap();
  o.sha_crypt_rounds = 10000;
  Result<std::string> hashed = hash_password("SHA512-CRYPT", Secret("secret"), random, o);
  ASSERT_TRUE(hashed.is_ok());
  EXPECT_TRUE(hashed->starts_with("{SHA512-CRYPT}$6$rounds=10000$/6k.2IU/5UE08g.1$"));
  EXPECT_TRUE(verify_password(*hashed, Secret("secret")).is_ok());
}

TEST(PasswordSchemeTest, SchemeNamesAreCaseInsensitive) {
  EXPECT_TRUE(
      verify_password("{sha512-crypt}" + std::string(kSha512Crypt), Secret("secret")).is_ok());
  EXPECT_TRUE(verify_password("{Plain}secret", Secret("secret")).is_ok());
  testing::FakeRandom random(1);
  Result<std::string> hashed = hash_password("ssha256", Secret("secret"), random);
  ASSERT_TRUE(hashed.is_ok());
  EXPECT_EQ(*hashed, "{SSHA256}" + std::string(kSsha256));
  EXPECT_TRUE(is_supported_scheme("argon2id"));
  EXPECT_FALSE(is_supported_scheme("ARGON2"));
}

TEST(PasswordSchemeTest, ValueWithoutPrefixIsCrypt) {
  EXPECT_EQ(split_scheme(kSha512Crypt).scheme, "CRYPT");
  EXPECT_EQ(split_scheme(kSha512Crypt).data, kSha512Crypt);
  EXPECT_TRUE(verify_password(kSha512Crypt, Secret("secret")).is_ok());
  EXPECT_TRUE(verify_password("abNANd1rDfiNc", Secret("secret")).is_ok());
  EXPECT_EQ(verify_password("abNANd1rDfiNc", Secret("secreT")).code(), ErrorCode::kAuthFailed);
  // {CRYPT} takes any crypt(3) format, like Dovecot.
  EXPECT_TRUE(verify_password("{CRYPT}" + std::string(kMd5Crypt), Secret("secret")).is_ok());
  // An unclosed brace is not a scheme prefix.
  EXPECT_EQ(split_scheme("{PLAIN").scheme, "CRYPT");
}

TEST(PasswordSchemeTest, UnknownSchemeIsUnavailable) {
  Status s = verify_password("{NOPE}abc", Secret("abc"));
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("NOPE"), std::string::npos);
  testing::FakeRandom random;
  EXPECT_EQ(hash_password("NOPE", Secret("x"), random).status().code(), ErrorCode::kUnavailable);
}

TEST(PasswordSchemeTest, EmptyPasswordNeverVerifies) {
  EXPECT_EQ(verify_password("{PLAIN}", Secret("")).code(), ErrorCode::kAuthFailed);
  testing::FakeRandom random;
  EXPECT_EQ(hash_password("SHA512-CRYPT", Secret(""), random).status().code(),
            ErrorCode::kInvalidInput);
}

TEST(PasswordSchemeTest, NulInsidePasswordDoesNotTruncateIt) {
  std::string with_nul("secret\0tail", 11);
  EXPECT_EQ(verify_password("{SHA512-CRYPT}" + std::string(kSha512Crypt), Secret(with_nul)).code(),
            ErrorCode::kAuthFailed);
  EXPECT_EQ(verify_password("{CRYPT}abNANd1rDfiNc", Secret(with_nul)).code(),
            ErrorCode::kAuthFailed);
  EXPECT_EQ(verify_password("{PLAIN}secret", Secret(with_nul)).code(), ErrorCode::kAuthFailed);
  testing::FakeRandom random;
  EXPECT_EQ(hash_password("PLAIN", Secret(with_nul), random).status().code(),
            ErrorCode::kInvalidInput);
}

TEST(PasswordSchemeTest, MalformedValuesAreCorrupt) {
  const std::vector<std::string> bad = {
      "{SHA512-CRYPT}" + std::string(kMd5Crypt),  // the data is of another scheme
      "{SHA512-CRYPT}",
      "{MD5-CRYPT}$6$abc$def",
      "{BLF-CRYPT}$6$abc$def",
      "{CRYPT}*",  // a locked shadow-style entry
      "{CRYPT}!",
      "{SSHA256}!!!!",
      "{SSHA256}" + std::string(kSsha256).substr(0, 40),  // digest without salt
      "{SHA256}abc",
      "{SHA512}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=",  // a SHA-256 digest
      "{CRAM-MD5}xyz",
      "{CRAM-MD5}" + std::string(kCramMd5Password).substr(2),
      "{ARGON2ID}" + std::string(kArgon2i),  // argon2i data under the argon2id scheme
      "{ARGON2ID}$argon2id$v=19$t=2,p=1$AQIDBAUGBwgJCgsMDQ4PEA$abc",
      "{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=1$!!!$abc",
  };
  for (const std::string& stored : bad) {
    SCOPED_TRACE(stored);
    EXPECT_EQ(verify_password(stored, Secret("secret")).code(), ErrorCode::kCorrupt);
  }
}

TEST(PasswordSchemeTest, Argon2MemoryCostAboveLimitIsRefusedBeforeHashing) {
  Status s = verify_password(
      "{ARGON2ID}$argon2id$v=19$m=4194304,t=1,p=1$AQIDBAUGBwgJCgsMDQ4PEA$"
      "o9NyJPK4Pe7RWurQLVZ7mPDNSTXS4lZ2dJD//jHDbR0",
      Secret("secret"));
  EXPECT_EQ(s.code(), ErrorCode::kCorrupt);
  EXPECT_NE(s.message().find("limit"), std::string::npos);
}

TEST(PasswordSchemeTest, PlainRefusesCharactersThePasswdFileCannotHold) {
  testing::FakeRandom random;
  for (std::string_view pw : {"a:b", "a\nb", "a\rb"}) {
    EXPECT_EQ(hash_password("PLAIN", Secret(pw), random).status().code(), ErrorCode::kInvalidInput);
  }
  // Hashed schemes have no such limit.
  Result<std::string> hashed = hash_password("SSHA256", Secret("a:b"), random);
  ASSERT_TRUE(hashed.is_ok());
  EXPECT_TRUE(verify_password(*hashed, Secret("a:b")).is_ok());
}

TEST(PasswordSchemeTest, DesCryptRefusesPasswordsItWouldTruncate) {
  testing::FakeRandom random;
  EXPECT_TRUE(hash_password("CRYPT", Secret("12345678"), random).is_ok());
  EXPECT_EQ(hash_password("CRYPT", Secret("123456789"), random).status().code(),
            ErrorCode::kInvalidInput);
}

TEST(PasswordSchemeTest, BadCostParametersAreInvalidInput) {
  testing::FakeRandom random;
  HashOptions o = cheap();
  o.bcrypt_cost = 99;
  EXPECT_EQ(hash_password("BLF-CRYPT", Secret("x"), random, o).status().code(),
            ErrorCode::kInvalidInput);
  o = cheap();
  o.argon2_iterations = 0;
  EXPECT_EQ(hash_password("ARGON2ID", Secret("x"), random, o).status().code(),
            ErrorCode::kInvalidInput);
}

TEST(PasswordSchemeTest, PlaintextSecretOnlyForPlainSchemes) {
  std::optional<Secret> plain = plaintext_secret("{PLAIN}tanstaaf");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->view(), "tanstaaf");
  std::optional<Secret> clear = plaintext_secret("{cleartext}tanstaaf");
  ASSERT_TRUE(clear.has_value());
  EXPECT_EQ(clear->view(), "tanstaaf");
  EXPECT_FALSE(plaintext_secret("{SHA512-CRYPT}" + std::string(kSha512Crypt)).has_value());
  EXPECT_FALSE(plaintext_secret("tanstaaf").has_value());  // bare value = CRYPT
  EXPECT_FALSE(plaintext_secret("{CRAM-MD5}" + std::string(kCramMd5Password)).has_value());
}

TEST(PasswordSchemeTest, ApopDigestMatchesRfc1939Example) {
  EXPECT_EQ(apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb");
}

TEST(PasswordSchemeTest, CramMd5DigestMatchesRfc2195FromPlainAndFromStoredStates) {
  constexpr std::string_view kChallenge = "<1896.697170952@postoffice.reston.mci.net>";
  Result<std::string> from_plain = cram_md5_digest("{PLAIN}tanstaaftanstaaf", kChallenge);
  ASSERT_TRUE(from_plain.is_ok());
  EXPECT_EQ(*from_plain, "b913a602c7eda7a495b4e6e7334d3890");
  Result<std::string> from_states =
      cram_md5_digest("{CRAM-MD5}" + std::string(kCramMd5Tanstaaf), kChallenge);
  ASSERT_TRUE(from_states.is_ok());
  EXPECT_EQ(*from_states, "b913a602c7eda7a495b4e6e7334d3890");
  EXPECT_EQ(
      cram_md5_digest("{SHA512-CRYPT}" + std::string(kSha512Crypt), kChallenge).status().code(),
      ErrorCode::kUnavailable);
  EXPECT_EQ(cram_md5_digest("{CRAM-MD5}zz", kChallenge).status().code(), ErrorCode::kCorrupt);
}

TEST(PasswordSchemeTest, CostClassGroupsByParametersNotSalt) {
  EXPECT_EQ(hash_cost_class("{SHA512-CRYPT}" + std::string(kSha512Crypt)), "SHA512-CRYPT:$6");
  EXPECT_EQ(hash_cost_class("{SHA512-CRYPT}$6$rounds=10000$salt$hash"),
            "SHA512-CRYPT:$6$rounds=10000");
  EXPECT_EQ(hash_cost_class(kSha512Crypt), "CRYPT:$6");
  EXPECT_EQ(hash_cost_class("{BLF-CRYPT}" + std::string(kBlfCryptGenerated)), "BLF-CRYPT:$2y$05");
  EXPECT_EQ(hash_cost_class("{ARGON2ID}" + std::string(kArgon2id)),
            "ARGON2ID:$argon2id$v=19$m=1024,t=2,p=1");
  EXPECT_EQ(hash_cost_class("{PLAIN}secret"), "PLAIN");
  EXPECT_EQ(hash_cost_class("{SSHA256}" + std::string(kSsha256)), "SSHA256");
  // Two hashes with different salts share a class.
  EXPECT_EQ(hash_cost_class("{SHA512-CRYPT}$6$aaaa$bbbb"), hash_cost_class("{SHA512-CRYPT}$6$c$d"));
}

TEST(PasswordSchemeTest, SupportedSchemesListsTheDocumentedSet) {
  std::vector<std::string_view> expected = {
      "ARGON2I",      "ARGON2ID",  "BLF-CRYPT",    "CLEARTEXT",   "CRAM-MD5",      "CRYPT",
      "HMAC-MD5",     "MD5-CRYPT", "PLAIN",        "SCRAM-SHA-1", "SCRAM-SHA-256", "SHA256",
      "SHA256-CRYPT", "SHA512",    "SHA512-CRYPT", "SSHA256",     "SSHA512"};
  EXPECT_EQ(supported_schemes(), expected);
  EXPECT_TRUE(is_plaintext_scheme("cleartext"));
  EXPECT_FALSE(is_plaintext_scheme("CRAM-MD5"));
}

TEST(PasswordSchemeTest, MessagesNeverContainThePasswordOrTheStoredValue) {
  constexpr std::string_view kPassword = "Unique-Pa55word-7731";
  const std::vector<std::string> stored = {
      "{PLAIN}Stored-Pa55word-1234",
      "{SHA512-CRYPT}" + std::string(kSha512Crypt),
      "{SHA512-CRYPT}garbage-Stored-Pa55word-1234",
      "{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=1$Stored-Pa55word-1234$x",
      "{SSHA256}Stored-Pa55word-1234",
      "{CRAM-MD5}Stored-Pa55word-1234",
      "{SCRAM-SHA-256}4096,Stored-Pa55word-1234,x,y",
  };
  for (const std::string& s : stored) {
    Status status = verify_password(s, Secret(kPassword));
    ASSERT_FALSE(status.is_ok());
    EXPECT_EQ(status.message().find(kPassword), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find("Stored-Pa55word"), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find("9H4Xqyu"), std::string::npos) << status.message();
  }
}

// RFC 7677 §3 / RFC 5802 §5 parameters (password "pencil"), keys computed independently with
// Python's hashlib (pbkdf2_hmac, hmac), in Dovecot's layout.
constexpr std::string_view kScramSha256Pencil =
    "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
constexpr std::string_view kScramSha1Pencil =
    "{SCRAM-SHA-1}4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=";

TEST(PasswordSchemeTest, ScramVerifiesIndependentVectors) {
  EXPECT_TRUE(verify_password(kScramSha256Pencil, Secret("pencil")).is_ok());
  EXPECT_TRUE(verify_password(kScramSha1Pencil, Secret("pencil")).is_ok());
  EXPECT_EQ(verify_password(kScramSha256Pencil, Secret("pencils")).code(), ErrorCode::kAuthFailed);
  EXPECT_EQ(verify_password(kScramSha1Pencil, Secret("Pencil")).code(), ErrorCode::kAuthFailed);
}

TEST(PasswordSchemeTest, ScramTamperedServerKeyDoesNotVerify) {
  std::string tampered(kScramSha1Pencil);
  tampered.replace(tampered.size() - 6, 1, "A");
  EXPECT_FALSE(verify_password(tampered, Secret("pencil")).is_ok());
}

TEST(PasswordSchemeTest, ScramGeneratesDovecotLayout) {
  SystemRandom& random = SystemRandom::instance();
  Result<std::string> hashed = hash_password("scram-sha-256", Secret("pw"), random);
  ASSERT_TRUE(hashed.is_ok()) << hashed.status().to_string();
  ASSERT_TRUE(hashed->starts_with("{SCRAM-SHA-256}4096,"));
  std::string_view data =
      std::string_view(*hashed).substr(std::string_view("{SCRAM-SHA-256}").size());
  size_t commas = 0;
  for (char c : data) {
    commas += c == ',' ? 1 : 0;
  }
  EXPECT_EQ(commas, 3u);
  Result<sasl::ScramCredentials> creds = scram_credentials(*hashed, sasl::ScramHash::kSha256, "u");
  ASSERT_TRUE(creds.is_ok());
  EXPECT_EQ(creds->salt.size(), 16u);  // default salt length
  EXPECT_EQ(creds->iterations, 4096u);
  HashOptions o;
  o.scram_iterations = 5000;
  Result<std::string> more = hash_password("SCRAM-SHA-1", Secret("pw"), random, o);
  ASSERT_TRUE(more.is_ok());
  EXPECT_TRUE(more->starts_with("{SCRAM-SHA-1}5000,"));
  EXPECT_TRUE(verify_password(*more, Secret("pw")).is_ok());
  o.scram_iterations = 100;
  EXPECT_EQ(hash_password("SCRAM-SHA-1", Secret("pw"), random, o).status().code(),
            ErrorCode::kInvalidInput);
}

TEST(PasswordSchemeTest, ScramMalformedValuesAreCorrupt) {
  for (std::string_view bad : {
           "{SCRAM-SHA-256}",
           "{SCRAM-SHA-256}4096",
           "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
           "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
           "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,AAAA,AAAA",  // short keys
           "{SCRAM-SHA-256}100,W22ZaJ0SNY7soEsUEjb6gQ==,"
           "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
           ",wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",  // below 4096 iterations
           "{SCRAM-SHA-256}x,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
           "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
           "{SCRAM-SHA-256}4096,,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
           "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
           "{SCRAM-SHA-1}4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+"
           "qs2/fTE=,x",
       }) {
    EXPECT_EQ(verify_password(bad, Secret("pencil")).code(), ErrorCode::kCorrupt) << bad;
  }
}

TEST(PasswordSchemeTest, ScramCredentialsFromStoredEntries) {
  Result<sasl::ScramCredentials> c =
      scram_credentials(kScramSha256Pencil, sasl::ScramHash::kSha256, "user");
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->hash, sasl::ScramHash::kSha256);
  EXPECT_EQ(c->iterations, 4096u);
  Result<sasl::ScramCredentials> derived =
      sasl::derive_scram_credentials(sasl::ScramHash::kSha256, Secret("pencil"), c->salt, 4096);
  ASSERT_TRUE(derived.is_ok());
  EXPECT_EQ(c->stored_key, derived->stored_key);
  EXPECT_EQ(c->server_key, derived->server_key);
  // A SHA-1 entry cannot serve SHA-256 and the other way round.
  EXPECT_EQ(scram_credentials(kScramSha256Pencil, sasl::ScramHash::kSha1, "user").status().code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(scram_credentials(kScramSha1Pencil, sasl::ScramHash::kSha256, "user").status().code(),
            ErrorCode::kUnavailable);
}

TEST(PasswordSchemeTest, ScramCredentialsDerivedFromPlaintextAreStable) {
  Result<sasl::ScramCredentials> a =
      scram_credentials("{PLAIN}pencil", sasl::ScramHash::kSha256, "user");
  Result<sasl::ScramCredentials> b =
      scram_credentials("{CLEARTEXT}pencil", sasl::ScramHash::kSha256, "user");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->salt, b->salt);
  EXPECT_EQ(a->stored_key, b->stored_key);
  EXPECT_EQ(a->iterations, 4096u);
  EXPECT_EQ(a->salt.size(), 16u);
  // The salt depends on the user, not on the password (it is shown before any proof).
  Result<sasl::ScramCredentials> other_password =
      scram_credentials("{PLAIN}other", sasl::ScramHash::kSha256, "user");
  Result<sasl::ScramCredentials> other_user =
      scram_credentials("{PLAIN}pencil", sasl::ScramHash::kSha256, "someone");
  ASSERT_TRUE(other_password.is_ok() && other_user.is_ok());
  EXPECT_EQ(other_password->salt, a->salt);
  EXPECT_NE(other_password->stored_key, a->stored_key);
  EXPECT_NE(other_user->salt, a->salt);
  Result<sasl::ScramCredentials> sha1 =
      scram_credentials("{PLAIN}pencil", sasl::ScramHash::kSha1, "user");
  ASSERT_TRUE(sha1.is_ok());
  EXPECT_EQ(sha1->stored_key.size(), 20u);
}

TEST(PasswordSchemeTest, OtherSchemesCannotServeScram) {
  for (std::string_view stored :
       {"{SHA512-CRYPT}$6$a$b", "{CRAM-MD5}00", "{SSHA256}abc", "{PLAIN}", "{NOSUCH}x", "$6$a$b"}) {
    EXPECT_EQ(scram_credentials(stored, sasl::ScramHash::kSha256, "u").status().code(),
              ErrorCode::kUnavailable)
        << stored;
  }
}

}  // namespace
}  // namespace poplar::auth
