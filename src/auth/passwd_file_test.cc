#include "auth/passwd_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
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

using std::chrono::milliseconds;
using std::chrono::seconds;

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good());
}

// Writes a new file next to `path` and renames it over, as editors and `poplar user` do.
void replace_file(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path tmp = path.string() + ".tmp";
  write_file(tmp, content);
  std::filesystem::rename(tmp, path);
}

// Captures log lines for the duration of a test.
class LogCapture {
 public:
  LogCapture() {
    log::set_sink_for_test([this](log::Level, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { log::reset_sink(); }
  std::string all() {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const std::string& l : lines_) {
      out += l;
      out += '\n';
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST(PasswdLineTest, ParsesEveryField) {
  Result<PasswdEntry> e = parse_passwd_line(
      "alice:{PLAIN}pw:1000:1001:Alice A.:/home/alice:/bin/false:"
      "userdb_mail=maildir:~/Maildir nodelay allow_nets=10.0.0.0/8");
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ(e->user.name, "alice");
  EXPECT_EQ(e->password.view(), "{PLAIN}pw");
  EXPECT_EQ(e->user.uid, 1000u);
  EXPECT_EQ(e->user.gid, 1001u);
  EXPECT_EQ(e->gecos, "Alice A.");
  EXPECT_EQ(e->user.home, "/home/alice");
  EXPECT_EQ(e->shell, "/bin/false");
  // The mail location keeps its ':' although ':' separates fields.
  EXPECT_EQ(e->user.mail, "maildir:~/Maildir");
  EXPECT_EQ(e->extra_fields, (std::vector<std::string>{"nodelay", "allow_nets=10.0.0.0/8"}));
}

TEST(PasswdLineTest, TrailingFieldsMayBeMissing) {
  Result<PasswdEntry> e = parse_passwd_line("bob:{SHA512-CRYPT}$6$x$y");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->user.name, "bob");
  EXPECT_EQ(e->password.view(), "{SHA512-CRYPT}$6$x$y");
  EXPECT_EQ(e->user.uid, 0u);
  EXPECT_EQ(e->user.gid, 0u);
  EXPECT_EQ(e->user.home, "");
  EXPECT_EQ(e->user.mail, "");
  EXPECT_TRUE(e->extra_fields.empty());

  Result<PasswdEntry> f = parse_passwd_line("carol:{PLAIN}x:::::");
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->user.uid, 0u);

  // Dovecot's usual shape: user:{SCHEME}pw:uid:gid::home::extra
  Result<PasswdEntry> g = parse_passwd_line("dave:{PLAIN}x:5000:5000::/srv/mail/dave::");
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(g->user.home, "/srv/mail/dave");
}

TEST(PasswdLineTest, EmptyPasswordFieldIsKeptEmpty) {
  Result<PasswdEntry> e = parse_passwd_line("erin::1000:1000");
  ASSERT_TRUE(e.is_ok());
  EXPECT_TRUE(e->password.empty());
}

TEST(PasswdLineTest, TrailingCarriageReturnIsIgnored) {
  Result<PasswdEntry> e = parse_passwd_line("alice:{PLAIN}pw:1000:1000::/home/alice\r");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->user.home, "/home/alice");
  Result<PasswdEntry> f = parse_passwd_line("alice:{PLAIN}pw\r");
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->password.view(), "{PLAIN}pw");
}

TEST(PasswdLineTest, UserdbExtraFieldsOverrideTheColumns) {
  Result<PasswdEntry> e = parse_passwd_line(
      "alice:{PLAIN}pw:1000:1000::/home/alice::userdb_home=/srv/a userdb_uid=2000 "
      "userdb_gid=3000");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->user.home, "/srv/a");
  EXPECT_EQ(e->user.uid, 2000u);
  EXPECT_EQ(e->user.gid, 3000u);
  EXPECT_TRUE(e->extra_fields.empty());
}

TEST(PasswdLineTest, BrokenLinesAreCorruptWithoutQuotingThem) {
  const std::vector<std::string> bad = {
      "justaname",
      ":{PLAIN}Secret-In-Line",
      "alice:{PLAIN}Secret-In-Line:abc",
      "alice:{PLAIN}Secret-In-Line:1000:-1",
      "alice:{PLAIN}Secret-In-Line:0x10:1000",
      "alice:{PLAIN}Secret-In-Line:1000:1000::::userdb_uid=x",
      "alice:{PLAIN}Secret-In-Line:99999999999",
      std::string("alice:{PLAIN}Secret-In-Line\0x", 29),
  };
  for (const std::string& line : bad) {
    SCOPED_TRACE(line);
    Result<PasswdEntry> e = parse_passwd_line(line);
    ASSERT_FALSE(e.is_ok());
    EXPECT_EQ(e.status().code(), ErrorCode::kCorrupt);
    EXPECT_EQ(e.status().message().find("Secret-In-Line"), std::string::npos);
  }
}

TEST(PasswdTextTest, SkipsCommentsBlankLinesAndBrokenLinesNamingTheLine) {
  ParsedPasswdFile parsed = parse_passwd_text(
      "# users\n"
      "\n"
      "alice:{PLAIN}a:1000:1000\n"
      "   \n"
      "broken:{PLAIN}b:notanumber\n"
      "bob:{PLAIN}b\n"
      "carol:{PLAIN}c",  // no final line end
      "/etc/poplar/users");
  ASSERT_EQ(parsed.entries.size(), 3u);
  EXPECT_EQ(parsed.entries[0].user.name, "alice");
  EXPECT_EQ(parsed.entries[0].line_number, 3u);
  EXPECT_EQ(parsed.entries[1].user.name, "bob");
  EXPECT_EQ(parsed.entries[1].line_number, 6u);
  EXPECT_EQ(parsed.entries[2].user.name, "carol");
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0], "/etc/poplar/users:5: uid is not a number");
}

TEST(PasswdTextTest, CommentAndBlankDetection) {
  EXPECT_TRUE(is_passwd_comment_or_blank("# x"));
  EXPECT_TRUE(is_passwd_comment_or_blank(""));
  EXPECT_TRUE(is_passwd_comment_or_blank(" \t\r"));
  EXPECT_FALSE(is_passwd_comment_or_blank("a:b"));
}

class PasswdFileTest : public ::testing::Test {
 protected:
  std::filesystem::path path() const { return dir_.path() / "users"; }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  LogCapture logs_;
};

TEST_F(PasswdFileTest, LooksUpUsersExactlyAndCaseSensitively) {
  write_file(path(), "alice:{PLAIN}a:1000:1000::/home/alice\nbob:{PLAIN}b\n");
  PasswdFile file(path().string(), clock_);
  Result<PasswdEntry> alice = file.lookup("alice");
  ASSERT_TRUE(alice.is_ok()) << alice.status().to_string();
  EXPECT_EQ(alice->user.home, "/home/alice");
  EXPECT_EQ(alice->password.view(), "{PLAIN}a");
  EXPECT_EQ(file.lookup("Alice").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(file.lookup("alic").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(file.lookup("").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(file.user_count(), 2u);
}

TEST_F(PasswdFileTest, MissingFileIsTemporaryAndRecoversWhenCreated) {
  PasswdFile file(path().string(), clock_);
  Result<PasswdEntry> r = file.lookup("alice");
  EXPECT_EQ(r.status().code(), ErrorCode::kTemporary);
  EXPECT_NE(r.status().message().find(path().string()), std::string::npos);
  write_file(path(), "alice:{PLAIN}a\n");
  // Not checked again within the same second...
  EXPECT_EQ(file.lookup("alice").status().code(), ErrorCode::kTemporary);
  // ...but after it.
  clock_.advance(seconds(1));
  EXPECT_TRUE(file.lookup("alice").is_ok());
}

TEST_F(PasswdFileTest, UnreadableFileIsTemporary) {
  if (geteuid() == 0) {
    GTEST_SKIP() << "root reads files regardless of their mode";
  }
  write_file(path(), "alice:{PLAIN}a\n");
  ASSERT_EQ(chmod(path().c_str(), 0), 0);
  PasswdFile file(path().string(), clock_);
  EXPECT_EQ(file.lookup("alice").status().code(), ErrorCode::kTemporary);
}

TEST_F(PasswdFileTest, PathThroughAFileIsTemporary) {
  // ENOTDIR: unreadable even for root, unlike a chmod 0 file.
  write_file(path(), "alice:{PLAIN}a\n");
  PasswdFile file((path() / "users").string(), clock_);
  Result<PasswdEntry> r = file.lookup("alice");
  EXPECT_EQ(r.status().code(), ErrorCode::kTemporary);
  EXPECT_NE(r.status().message().find("Not a directory"), std::string::npos)
      << r.status().message();
}

TEST_F(PasswdFileTest, DirectoryInsteadOfFileIsTemporary) {
  std::filesystem::create_directory(path());
  PasswdFile file(path().string(), clock_);
  EXPECT_EQ(file.lookup("alice").status().code(), ErrorCode::kTemporary);
}

TEST_F(PasswdFileTest, ReloadsAfterAnEditAtMostOncePerSecond) {
  write_file(path(), "alice:{PLAIN}a\n");
  PasswdFile file(path().string(), clock_);
  ASSERT_TRUE(file.lookup("alice").is_ok());

  write_file(path(), "alice:{PLAIN}a\nbob:{PLAIN}bb\n");  // in place: size and mtime change
  clock_.advance(milliseconds(999));
  EXPECT_EQ(file.lookup("bob").status().code(), ErrorCode::kNotFound);
  clock_.advance(milliseconds(1));
  Result<PasswdEntry> bob = file.lookup("bob");
  ASSERT_TRUE(bob.is_ok());
  EXPECT_EQ(bob->password.view(), "{PLAIN}bb");
}

TEST_F(PasswdFileTest, ReloadsAfterAtomicReplacement) {
  write_file(path(), "alice:{PLAIN}a\n");
  PasswdFile file(path().string(), clock_);
  ASSERT_TRUE(file.lookup("alice").is_ok());
  replace_file(path(), "alice:{PLAIN}z\n");  // same size, new inode
  clock_.advance(seconds(2));
  Result<PasswdEntry> alice = file.lookup("alice");
  ASSERT_TRUE(alice.is_ok());
  EXPECT_EQ(alice->password.view(), "{PLAIN}z");
}

TEST_F(PasswdFileTest, ForcedReloadIgnoresTheInterval) {
  write_file(path(), "alice:{PLAIN}a\n");
  PasswdFile file(path().string(), clock_);
  ASSERT_TRUE(file.lookup("alice").is_ok());
  replace_file(path(), "bob:{PLAIN}b\n");
  EXPECT_TRUE(file.reload().is_ok());
  EXPECT_TRUE(file.lookup("bob").is_ok());
  EXPECT_EQ(file.lookup("alice").status().code(), ErrorCode::kNotFound);
}

TEST_F(PasswdFileTest, DeletedFileBecomesTemporary) {
  write_file(path(), "alice:{PLAIN}a\n");
  PasswdFile file(path().string(), clock_);
  ASSERT_TRUE(file.lookup("alice").is_ok());
  std::filesystem::remove(path());
  clock_.advance(seconds(1));
  EXPECT_EQ(file.lookup("alice").status().code(), ErrorCode::kTemporary);
  EXPECT_EQ(file.user_count(), 0u);
}

TEST_F(PasswdFileTest, BrokenLineIsSkippedWithAWarningAndOthersStillWork) {
  write_file(path(), "alice:{PLAIN}Secret-Word:x\nbob:{PLAIN}b\n");
  PasswdFile file(path().string(), clock_);
  EXPECT_TRUE(file.lookup("bob").is_ok());
  EXPECT_EQ(file.lookup("alice").status().code(), ErrorCode::kNotFound);
  std::string logged = logs_.all();
  EXPECT_NE(logged.find("passwd-file-line-skipped"), std::string::npos) << logged;
  EXPECT_NE(logged.find(":1: uid is not a number"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("Secret-Word"), std::string::npos) << logged;
}

TEST_F(PasswdFileTest, FirstOfDuplicateUsersWins) {
  write_file(path(), "alice:{PLAIN}first\nalice:{PLAIN}second\n");
  PasswdFile file(path().string(), clock_);
  Result<PasswdEntry> alice = file.lookup("alice");
  ASSERT_TRUE(alice.is_ok());
  EXPECT_EQ(alice->password.view(), "{PLAIN}first");
  EXPECT_NE(logs_.all().find("passwd-file-duplicate-user"), std::string::npos);
}

TEST_F(PasswdFileTest, TimingDummyHasTheMostCommonCost) {
  write_file(path(),
             "a:{PLAIN}x\n"
             "b:{SHA512-CRYPT}$6$saltb$hashb\n"
             "c:{BLF-CRYPT}$2y$10$abcdefghijklmnopqrstuv0123456789012345678901234567890\n"
             "d:{SHA512-CRYPT}$6$saltd$hashd\n"
             "e:{UNKNOWN}x\n"
             "f:{UNKNOWN}y\n"
             "g:{UNKNOWN}z\n"
             "h:\n");
  PasswdFile file(path().string(), clock_);
  EXPECT_EQ(file.timing_dummy().view(), "{SHA512-CRYPT}$6$saltb$hashb");
}

TEST_F(PasswdFileTest, TimingDummyFallsBackToAFixedSha512CryptHash) {
  write_file(path(), "# nobody yet\n");
  PasswdFile file(path().string(), clock_);
  EXPECT_TRUE(file.timing_dummy().view().starts_with("{SHA512-CRYPT}$6$"));
}

TEST_F(PasswdFileTest, AllCheapOnlyWhenEveryEntryAndTheDummyAre) {
  write_file(path(), "a:{PLAIN}x\nb:{CRAM-MD5}0011\nc:{SSHA512}abcd\n");
  PasswdFile cheap(path().string(), clock_);
  EXPECT_TRUE(cheap.all_cheap_to_verify());
  write_file(path(), "a:{PLAIN}x\nb:{PLAIN}y\nc:{SHA512-CRYPT}$6$salt$hash\n");
  PasswdFile mixed(path().string(), clock_);
  EXPECT_FALSE(mixed.all_cheap_to_verify());  // c would stall an event loop
  write_file(path(), "# nobody yet\n");
  PasswdFile empty(path().string(), clock_);
  EXPECT_FALSE(empty.all_cheap_to_verify());  // unknown users cost the SHA512-CRYPT dummy
}

// A clock that threads may read while another advances it.
class AtomicClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(nanos_.load()));
  }
  int64_t unix_seconds() const override { return 1700000000; }
  void advance(std::chrono::nanoseconds d) { nanos_ += d.count(); }

 private:
  std::atomic<int64_t> nanos_{0};
};

TEST(PasswdFileConcurrencyTest, LookupsDuringReloadsAlwaysSeeACompleteFile) {
  testing::TempDir dir;
  LogCapture logs;  // keeps the reload lines off stderr
  std::filesystem::path path = dir.path() / "users";
  write_file(path, "alice:{PLAIN}a\nbob:{PLAIN}b\n");
  AtomicClock clock;
  PasswdFile file(path.string(), clock);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        // Every version of the file has alice and bob.
        if (!file.lookup("alice").is_ok() || !file.lookup("bob").is_ok()) {
          ++failures;
        }
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    replace_file(path, "alice:{PLAIN}a" + std::to_string(i) + "\nbob:{PLAIN}b\nu" +
                           std::to_string(i) + ":{PLAIN}x\n");
    clock.advance(seconds(1));
    // A reader may be mid-reload; reload() waits for it and then reads the newest file.
    ASSERT_TRUE(file.reload().is_ok());
    ASSERT_TRUE(file.lookup("u" + std::to_string(i)).is_ok());
  }
  stop = true;
  for (std::thread& t : readers) {
    t.join();
  }
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace poplar::auth
