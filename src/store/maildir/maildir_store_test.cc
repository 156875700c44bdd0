// Maildir-specific behaviour of MaildirStore. What every backend must do is in
// tests/conformance/; this file covers the Maildir details: stray files, moved files, the
// index file, name fields, and which file operations a login costs.
// Must never: depend on running as root or not (chmod tests are guarded). Single-threaded.
#include "store/maildir/maildir_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "base/log.h"
#include "store/crlf_size.h"
#include "store/fs/fault_injection_file_system.h"
#include "store/maildir/index_file.h"
#include "store/uidl_syntax.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

using Op = fs::FaultInjectionFileSystem::Op;
namespace stdfs = std::filesystem;

// The index file at `maildir`, read, checked and parsed.
Result<IndexContents> read_contents(fs::FileSystem& fs, const std::string& maildir) {
  Result<IndexFile> file = read_index_file(fs, maildir);
  if (!file.is_ok()) {
    return file.status();
  }
  return IndexContents::parse(std::move(file).value());
}

std::string read_message(Maildrop& drop, size_t index, size_t chunk = 4096) {
  Result<MessageReaderPtr> reader = drop.open_message(index);
  EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
  if (!reader.is_ok()) {
    return {};
  }
  std::string out;
  std::string buffer(chunk, '\0');
  for (;;) {
    Result<size_t> n = (*reader)->read(buffer);
    EXPECT_TRUE(n.is_ok());
    if (!n.is_ok() || *n == 0) {
      return out;
    }
    out.append(buffer.data(), *n);
  }
}

std::vector<std::string> uidls_of(const Maildrop& drop) {
  std::vector<std::string> out;
  for (const MessageInfo& m : drop.messages()) {
    out.emplace_back(m.uidl);
  }
  return out;
}

// A snapshot that outlives its Maildrop (MessageInfo::uidl is a view into the Maildrop).
struct OwnedInfo {
  uint64_t size_octets;
  std::string uidl;
  bool operator==(const OwnedInfo&) const = default;
};

std::vector<OwnedInfo> owned(const Maildrop& drop) {
  std::vector<OwnedInfo> out;
  for (const MessageInfo& m : drop.messages()) {
    out.push_back(OwnedInfo{m.size_octets, std::string(m.uidl)});
  }
  return out;
}

void write_file(const stdfs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The message lines of an index file's text: without the header, the two directory stamps
// (whose listing times differ from login to login) and the end line.
std::string message_lines(std::string_view text) {
  for (int line = 0; line < 3; ++line) {
    text.remove_prefix(std::min(text.size(), text.find('\n') + 1));
  }
  size_t end = text.rfind("end ");
  return std::string(text.substr(0, end));
}

// Captures warnings so tests can check that a problem was reported, not hidden.
class LogCapture {
 public:
  LogCapture() {
    log::set_sink_for_test(
        [this](log::Level, std::string_view line) { lines_.emplace_back(line); });
  }
  ~LogCapture() { log::reset_sink(); }
  bool contains(std::string_view text) const {
    for (const std::string& line : lines_) {
      if (line.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<std::string> lines_;
};

class MaildirStoreTest : public ::testing::Test {
 protected:
  MaildirStoreTest() : builder_(dir_.path() / "Maildir"), faulty_(fs::posix_file_system()) {}

  std::string location() const { return builder_.path().string(); }
  stdfs::path file(const std::string& relative) const { return builder_.path() / relative; }

  Result<MaildropPtr> open() { return store_.open_maildrop(location()); }
  MaildropPtr open_ok() {
    Result<MaildropPtr> drop = open();
    EXPECT_TRUE(drop.is_ok()) << drop.status().to_string();
    return drop.is_ok() ? std::move(drop).value() : nullptr;
  }

  // Makes new/ and cur/ look long settled: their mtime an hour back, the store's clock an hour
  // ahead (see MaildirBuilder::backdate_directories). An index written after this records a
  // listing the next login trusts, until something changes a directory.
  void settle() {
    builder_.backdate_directories(3600);
    faulty_.set_now_offset_ns(kHourNs);
  }

  static constexpr int64_t kHourNs = int64_t{3600} * 1'000'000'000;

  testing::TempDir dir_;
  testing::MaildirBuilder builder_;
  fs::FaultInjectionFileSystem faulty_;
  MaildirStore store_{faulty_};
};

TEST_F(MaildirStoreTest, CreatesAMissingMaildirPrivateAndEmpty) {
  std::string fresh = (dir_.path() / "newuser").string();
  Result<MaildropPtr> drop = store_.open_maildrop(fresh);
  ASSERT_TRUE(drop.is_ok()) << drop.status().to_string();
  EXPECT_TRUE((*drop)->messages().empty());
  for (const char* sub : {"", "/cur", "/new", "/tmp"}) {
    struct stat st {};
    ASSERT_EQ(::stat((fresh + sub).c_str(), &st), 0) << sub;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << sub;
    EXPECT_EQ(st.st_mode & 0777, 0700u) << sub;
  }
}

// The operations of an open, as "op path" with the temp dir cut off the path.
std::vector<std::string> op_trace(const fs::FaultInjectionFileSystem& faulty,
                                  const stdfs::path& base) {
  std::vector<std::string> out;
  for (const auto& record : faulty.operations()) {
    std::string path = record.path;
    if (path.starts_with(base.string())) {
      path.erase(0, base.string().size());
    }
    out.push_back(std::string(fs::FaultInjectionFileSystem::op_name(record.op)) + " " + path);
  }
  return out;
}

TEST_F(MaildirStoreTest, AMissingMaildirIsCreatedOnlyAfterItsLockFileCouldNotBeOpened) {
  ASSERT_TRUE(store_.open_maildrop((dir_.path() / "newuser").string()).is_ok());
  EXPECT_EQ(op_trace(faulty_, dir_.path()),
            (std::vector<std::string>{
                "lock_file /newuser/poplar.lock",  // ENOENT: no Maildir yet
                "make_directory /newuser",
                "make_directory /newuser/tmp",
                "make_directory /newuser/new",
                "make_directory /newuser/cur",
                "sync_directory /newuser",
                "lock_file /newuser/poplar.lock",
            }));
}

TEST_F(MaildirStoreTest, AnExistingMaildirIsLockedWithoutAnyMkdir) {
  builder_.add("one\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 1u);
  std::vector<std::string> ops = op_trace(faulty_, dir_.path());
  ASSERT_FALSE(ops.empty());
  EXPECT_EQ(ops[0], "lock_file /Maildir/poplar.lock");
  EXPECT_EQ(faulty_.count(Op::kMakeDirectory), 0u);
  EXPECT_EQ(faulty_.count(Op::kLockFile), 1u);
}

// The lock file's directory was missing when the lock was tried (ENOENT), and another program
// created the Maildir before our mkdir: mkdir finds it, the second try locks it, and its mail
// is listed as usual (nothing is assumed empty, nothing created inside it).
TEST_F(MaildirStoreTest, AMaildirCreatedByAnotherProgramAfterTheFailedLockIsLockedAsFound) {
  builder_.add("one\n");
  builder_.add("two\n");
  bool first = true;
  faulty_.set_hook([&first](Op op, std::string_view) {
    if (op == Op::kLockFile && first) {
      first = false;
      return ENOENT;
    }
    return 0;
  });
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 2u);
  EXPECT_EQ(faulty_.count(Op::kLockFile), 2u);
  EXPECT_EQ(faulty_.count(Op::kMakeDirectory), 1u) << "the Maildir only; it existed";
  std::vector<std::string> ops = op_trace(faulty_, dir_.path());
  ASSERT_GE(ops.size(), 3u);
  EXPECT_EQ(ops[0], "lock_file /Maildir/poplar.lock");
  EXPECT_EQ(ops[1], "make_directory /Maildir");
  EXPECT_EQ(ops[2], "lock_file /Maildir/poplar.lock");
  EXPECT_EQ(open().status().code(), ErrorCode::kInUse) << "the lock is really held";
}

TEST_F(MaildirStoreTest, MissingParentDirectoryIsNotFound) {
  Result<MaildropPtr> drop = store_.open_maildrop((dir_.path() / "no/such/Maildir").string());
  EXPECT_EQ(drop.status().code(), ErrorCode::kNotFound);
}

TEST_F(MaildirStoreTest, RepairsAMaildirWithoutNewOrCur) {
  builder_.add("one\n");
  stdfs::remove_all(file("cur"));
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 1u);
  EXPECT_TRUE(stdfs::is_directory(file("cur")));
}

TEST_F(MaildirStoreTest, NewOrCurThatIsNotADirectoryIsAnError) {
  stdfs::remove_all(file("cur"));
  write_file(file("cur"), "not a directory");
  EXPECT_FALSE(open().is_ok());
}

TEST_F(MaildirStoreTest, EmptyLocationIsInvalidAndTrailingSlashIsAccepted) {
  EXPECT_EQ(store_.open_maildrop("").status().code(), ErrorCode::kInvalidInput);
  builder_.add("one\n");
  Result<MaildropPtr> drop = store_.open_maildrop(location() + "/");
  ASSERT_TRUE(drop.is_ok());
  EXPECT_EQ((*drop)->messages().size(), 1u);
}

TEST_F(MaildirStoreTest, IgnoresStrayEntries) {
  builder_.add("real one\n");
  builder_.add({.bytes = "real two\n", .in_cur = true, .flags = "S"});
  stdfs::create_directory(file("cur/1700000500.M1P1Q1.subdir"));
  write_file(file("cur/.hidden"), "dot file\n");
  write_file(file("new/.1700000600.M1P1Q1.tmp"), "dot file\n");
  write_file(file("tmp/1700000700.M1P1Q1.host"), "still being delivered\n");
  write_file(dir_.path() / "Maildir" / "1700000800.M1P1Q1.host", "in the root\n");
  ASSERT_EQ(mkfifo(file("new/1700000900.M1P1Q1.fifo").c_str(), 0600), 0);
  stdfs::create_symlink("/nonexistent/target", file("new/1700001000.M1P1Q1.dangling"));

  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 2u);
  EXPECT_EQ(read_message(*drop, 0), "real one\n");
  EXPECT_EQ(read_message(*drop, 1), "real two\n");
}

TEST_F(MaildirStoreTest, SymlinkToARegularFileIsAMessage) {
  write_file(dir_.path() / "elsewhere", "linked\n");
  stdfs::create_symlink(dir_.path() / "elsewhere", file("new/1700000001.M1P1Q1.link"));
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(read_message(*drop, 0), "linked\n");
}

TEST_F(MaildirStoreTest, UnreadableFileIsSkippedWithAWarning) {
  if (geteuid() == 0) {
    GTEST_SKIP() << "root reads mode-000 files; UnreadableFileByInjectedEaccesIsSkipped covers it";
  }
  builder_.add("readable\n");
  std::string locked = builder_.add("locked away\n");
  stdfs::permissions(file(locked), stdfs::perms::none);
  LogCapture log;
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(read_message(*drop, 0), "readable\n");
  EXPECT_TRUE(log.contains("maildir-message-skipped"));
}

TEST_F(MaildirStoreTest, UnreadableFileByInjectedEaccesIsSkipped) {
  builder_.add("readable\n");
  std::string locked = builder_.add("locked away\n");
  settle();  // so that only the skipped file can make the next login list new/ again
  faulty_.set_hook([&](Op op, std::string_view path) {
    return op == Op::kOpenForRead && path.ends_with(locked) ? EACCES : 0;
  });
  LogCapture log;
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(read_message(*drop, 0), "readable\n");
  EXPECT_TRUE(log.contains("maildir-message-skipped"));
  drop.reset();
  // Not cached as if it were fine: once readable, it is listed.
  faulty_.set_hook(nullptr);
  drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 2u);
}

TEST_F(MaildirStoreTest, UnreadableFileWithKnownSizeIsListedButOpenMessageFails) {
  std::string locked = builder_.add({.bytes = "locked\n", .size_fields = true});
  faulty_.set_hook([&](Op op, std::string_view path) {
    return op == Op::kOpenForRead && path.ends_with(locked) ? EACCES : 0;
  });
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(drop->open_message(0).status().code(), ErrorCode::kPermission);
}

// readdir() on some file systems reports no type; the store must stat, and a file that
// vanishes between readdir and stat is simply not part of the snapshot.
class UnknownTypeFileSystem : public fs::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  std::string vanish_before_stat;
  int stats = 0;  // of entries in new/ and cur/

  Status list_directory(const std::string& path, fs::DirectoryListing* out) override {
    fs::DirectoryListing real;
    Status status = FileSystemWrapper::list_directory(path, &real);
    out->clear();
    for (size_t i = 0; i < real.size(); ++i) {
      out->add(real.name(i), fs::FileType::kUnknown);
    }
    return status;
  }
  Result<fs::FileInfo> stat(const std::string& path) override {
    if (path.find("/new/") != std::string::npos || path.find("/cur/") != std::string::npos) {
      ++stats;
    }
    if (!vanish_before_stat.empty() && path.ends_with(vanish_before_stat)) {
      ::unlink(path.c_str());
    }
    return FileSystemWrapper::stat(path);
  }
};

TEST_F(MaildirStoreTest, WithoutDirentTypesStatDecidesAndVanishedFilesAreSkipped) {
  builder_.add("one\n");
  std::string gone = builder_.add("two\n");
  builder_.add("three\n");
  stdfs::create_directory(file("cur/1700000002.M5P5Q5.dir"));
  UnknownTypeFileSystem unknown(fs::posix_file_system());
  unknown.vanish_before_stat = gone;
  MaildirStore store(unknown);
  Result<MaildropPtr> drop = store.open_maildrop(location());
  ASSERT_TRUE(drop.is_ok()) << drop.status().to_string();
  ASSERT_EQ((*drop)->messages().size(), 2u);
  EXPECT_EQ(read_message(**drop, 0), "one\n");
  EXPECT_EQ(read_message(**drop, 1), "three\n");
  EXPECT_EQ(unknown.stats, 4);
}

TEST_F(MaildirStoreTest, FileVanishingBeforeItsSizeIsReadIsSkipped) {
  builder_.add("one\n");
  std::string gone = builder_.add("two\n");
  faulty_.set_hook([&](Op op, std::string_view path) {
    return op == Op::kOpenForRead && path.ends_with(gone) ? ENOENT : 0;
  });
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 1u);
}

TEST_F(MaildirStoreTest, FileVanishingAfterTheSnapshotIsNotFound) {
  builder_.add("one\n");
  std::string gone = builder_.add("two\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 2u);
  stdfs::remove(file(gone));
  EXPECT_EQ(drop->open_message(1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(read_message(*drop, 0), "one\n");
  // Deleting it anyway is not an error: it is gone, as asked.
  const size_t both[] = {0, 1};
  EXPECT_TRUE(drop->commit_update(both).is_ok());
  EXPECT_TRUE(builder_.files().empty());
}

TEST_F(MaildirStoreTest, MessageMovedToCurWithFlagsIsStillReadableAndDeletable) {
  std::string first = builder_.add("first\n");
  std::string second = builder_.add("second\n");
  std::string third = builder_.add("third\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  std::vector<std::string> before = uidls_of(*drop);

  // An IMAP client reads them while the POP3 session runs.
  builder_.set_flags(first, "S");
  std::string moved = builder_.set_flags(second, "S");
  moved = builder_.set_flags(moved, "RS");

  EXPECT_EQ(read_message(*drop, 0), "first\n");
  EXPECT_EQ(read_message(*drop, 1), "second\n");
  const size_t doomed[] = {0, 1};
  ASSERT_TRUE(drop->commit_update(doomed).is_ok());
  EXPECT_EQ(builder_.files(), std::vector<std::string>{third});
  drop.reset();

  drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(uidls_of(*drop), std::vector<std::string>{before[2]});
}

TEST_F(MaildirStoreTest, UidlsSurviveFlagChangesAndTheMoveToCur) {
  std::string a = builder_.add("a\n");
  builder_.add({.bytes = "b\n", .in_cur = true, .flags = "S"});
  std::vector<std::string> before = uidls_of(*open_ok());
  builder_.set_flags(a, "RS");
  EXPECT_EQ(uidls_of(*open_ok()), before);
}

TEST_F(MaildirStoreTest, OrdersOldestFirstAcrossNewAndCur) {
  builder_.add({.bytes = "3\n", .base_name = "1700000300.M1P1Q3.host"});
  builder_.add({.bytes = "1\n", .in_cur = true, .flags = "S", .base_name = "1700000100.M1P1Q1.h"});
  builder_.add({.bytes = "2b\n", .base_name = "1700000200.M2P1Q2.host"});
  builder_.add({.bytes = "2a\n", .in_cur = true, .base_name = "1700000200.M1P1Q2.host"});
  builder_.add({.bytes = "9\n", .base_name = "900000000.M1P1Q9.host"});  // fewer digits: older
  builder_.add({.bytes = "0\n", .base_name = "no-time-prefix"});
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  std::vector<std::string> bodies;
  for (size_t i = 0; i < drop->messages().size(); ++i) {
    bodies.push_back(read_message(*drop, i));
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"0\n", "9\n", "1\n", "2a\n", "2b\n", "3\n"}));
}

TEST_F(MaildirStoreTest, TrustsTheWireSizeFieldWithoutReadingTheFile) {
  builder_.add({.bytes = "ignored\n", .base_name = "1700000001.M1P1Q1.host,S=8,W=12345"});
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(drop->messages()[0].size_octets, 12345u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead), 0u);  // neither the message nor an index
}

TEST_F(MaildirStoreTest, SecondOpenReadsNoMessageFile) {
  for (int i = 0; i < 20; ++i) {
    builder_.add("Subject: " + std::to_string(i) + "\n\nbody\n");
  }
  builder_.add({.bytes = "sized\n", .size_fields = true});
  std::vector<OwnedInfo> first;
  {
    MaildropPtr drop = open_ok();
    ASSERT_TRUE(drop);
    first = owned(*drop);
  }
  EXPECT_EQ(faulty_.count(Op::kOpenForRead, "/new/"), 20u);  // the one with W= was not read
  faulty_.reset();

  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(drop->messages()[i].size_octets, first[i].size_octets);
    EXPECT_EQ(drop->messages()[i].uidl, first[i].uidl);
  }
  EXPECT_EQ(faulty_.count(Op::kOpenForRead, "/new/"), 0u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead, "/cur/"), 0u);
  EXPECT_EQ(faulty_.count(Op::kStat, "/new/"), 0u);
  EXPECT_EQ(faulty_.count(Op::kStat, "/cur/"), 0u);
  EXPECT_EQ(faulty_.count(Op::kCreateFile), 0u) << "an unchanged index is not rewritten";
}

TEST_F(MaildirStoreTest, LoginAfterNewMailReadsOnlyTheNewMessages) {
  for (int i = 0; i < 10; ++i) {
    builder_.add("old " + std::to_string(i) + "\n");
  }
  open_ok();
  std::string fresh = builder_.add("new mail\n");
  faulty_.reset();
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 11u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead, "/new/"), 1u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead, fresh), 1u);
}

TEST_F(MaildirStoreTest, CorruptIndexIsIgnoredWithAWarningAndRebuilt) {
  builder_.add("one\n");
  builder_.add("two\r\n");
  std::vector<OwnedInfo> first = owned(*open_ok());
  stdfs::path index = builder_.path() / kIndexFileName;
  std::string text = read_file(index);
  ASSERT_FALSE(text.empty());

  for (std::string bad : {text.substr(0, text.size() / 2), std::string("garbage"),
                          std::string("poplar-index 99\n"), std::string()}) {
    write_file(index, bad);
    LogCapture log;
    faulty_.reset();
    MaildropPtr drop = open_ok();
    ASSERT_TRUE(drop);
    ASSERT_EQ(drop->messages().size(), 2u);
    EXPECT_EQ(drop->messages()[0].size_octets, first[0].size_octets);
    EXPECT_EQ(drop->messages()[1].size_octets, first[1].size_octets);
    EXPECT_EQ(drop->messages()[0].uidl, first[0].uidl);
    EXPECT_TRUE(log.contains("maildir-index-ignored")) << bad;
    EXPECT_EQ(faulty_.count(Op::kOpenForRead, "/new/"), 2u);
    EXPECT_EQ(message_lines(read_file(index)), message_lines(text)) << "rebuilt alike";
  }
}

TEST_F(MaildirStoreTest, IndexWithAWrongSetOfNamesIsCorrected) {
  builder_.add("one\n");
  std::string two = builder_.add("two\n");
  open_ok();
  // Another program removes a message between sessions.
  stdfs::remove(file(two));
  open_ok();
  Result<IndexContents> index = read_contents(fs::posix_file_system(), location());
  ASSERT_TRUE(index.is_ok());
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->find(Subdir::kNew, two.substr(4)), nullptr);
}

TEST_F(MaildirStoreTest, CommitDropsRemovedNamesFromTheIndex) {
  std::string one = builder_.add("one\n");
  builder_.add("two\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  const size_t first[] = {0};
  ASSERT_TRUE(drop->commit_update(first).is_ok());
  Result<IndexContents> index = read_contents(fs::posix_file_system(), location());
  ASSERT_TRUE(index.is_ok());
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->find(Subdir::kNew, one.substr(4)), nullptr);
}

TEST_F(MaildirStoreTest, IndexWriteFailureDoesNotFailTheLogin) {
  builder_.add("one\n");
  faulty_.set_hook([](Op op, std::string_view path) {
    return op == Op::kCreateFile && path.find("poplar-index") != std::string_view::npos ? ENOSPC
                                                                                        : 0;
  });
  LogCapture log;
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 1u);
  EXPECT_TRUE(log.contains("maildir-index-not-written"));
}

TEST_F(MaildirStoreTest, DuplicateBaseNamesAreBothKeptWithDistinctUidls) {
  std::string base = "1700000001.M1P1Q1.host";
  builder_.add({.bytes = "copy in new\n", .base_name = base});
  builder_.add({.bytes = "copy in cur, longer\n", .in_cur = true, .flags = "S", .base_name = base});
  for (int round = 0; round < 2; ++round) {  // the second round uses the index
    MaildropPtr drop = open_ok();
    ASSERT_TRUE(drop);
    ASSERT_EQ(drop->messages().size(), 2u);
    EXPECT_EQ(read_message(*drop, 0), "copy in new\n");
    EXPECT_EQ(read_message(*drop, 1), "copy in cur, longer\n");
    EXPECT_EQ(drop->messages()[0].size_octets, crlf_size_octets("copy in new\n"));
    EXPECT_EQ(drop->messages()[1].size_octets, crlf_size_octets("copy in cur, longer\n"));
    EXPECT_EQ(drop->messages()[0].uidl, base);
    EXPECT_NE(drop->messages()[1].uidl, base);
    EXPECT_TRUE(is_valid_uidl(drop->messages()[1].uidl));
  }
  MaildropPtr drop = open_ok();
  const size_t second[] = {1};
  ASSERT_TRUE(drop->commit_update(second).is_ok());
  EXPECT_EQ(builder_.files(), std::vector<std::string>{"new/" + base});
}

TEST_F(MaildirStoreTest, LongOrOddBaseNamesGetHashedUidls) {
  std::string long_base = "1700000001." + std::string(80, 'x');
  builder_.add({.bytes = "long\n", .base_name = long_base});
  builder_.add({.bytes = "space\n", .base_name = "1700000002.with space"});
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 2u);
  for (const MessageInfo& m : drop->messages()) {
    EXPECT_TRUE(is_valid_uidl(m.uidl)) << m.uidl;
    EXPECT_EQ(m.uidl.front(), ':');
  }
  EXPECT_NE(drop->messages()[0].uidl, drop->messages()[1].uidl);
}

TEST_F(MaildirStoreTest, ReaderStreamsLargeMessagesInBlocks) {
  std::string big;
  for (int i = 0; big.size() < 300 * 1024; ++i) {
    big += "line " + std::to_string(i) + " of a large message\n";
  }
  builder_.add(big);
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages()[0].size_octets, crlf_size_octets(big));
  faulty_.reset();
  EXPECT_EQ(read_message(*drop, 0, 1000), big);
  // 300 KiB in 64 KiB blocks: 5 reads with data and one at the end, not 300.
  EXPECT_LE(faulty_.count(Op::kRead), 6u);
  EXPECT_EQ(read_message(*drop, 0, 200 * 1024), big);
  EXPECT_EQ(read_message(*drop, 0, 1), big);
}

TEST_F(MaildirStoreTest, SecondOpenInTheSameProcessIsInUse) {
  MaildropPtr first = open_ok();
  ASSERT_TRUE(first);
  EXPECT_EQ(open().status().code(), ErrorCode::kInUse);
  MaildirStore other_store(fs::posix_file_system());
  EXPECT_EQ(other_store.open_maildrop(location()).status().code(), ErrorCode::kInUse);
  first.reset();
  EXPECT_TRUE(open().is_ok());
}

TEST_F(MaildirStoreTest, FailedOpenReleasesTheLock) {
  builder_.add("one\n");
  faulty_.set_hook([](Op op, std::string_view path) {
    return op == Op::kListDirectory && path.ends_with("/cur") ? EIO : 0;
  });
  EXPECT_EQ(open().status().code(), ErrorCode::kTemporary);
  faulty_.set_hook(nullptr);
  EXPECT_TRUE(open().is_ok());
}

TEST_F(MaildirStoreTest, PartialUnlinkFailureRemovesTheOthersAndCountsTheFailures) {
  std::string a = builder_.add("a\n");
  std::string b = builder_.add("b\n");
  std::string c = builder_.add("c\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  faulty_.set_hook([&](Op op, std::string_view path) {
    return op == Op::kUnlink && path.ends_with(b) ? EACCES : 0;
  });
  const size_t all[] = {0, 1, 2};
  Status status = drop->commit_update(all);
  EXPECT_EQ(status.code(), ErrorCode::kTemporary);
  EXPECT_NE(status.message().find("1 of 3"), std::string::npos) << status.message();
  EXPECT_EQ(builder_.files(), std::vector<std::string>{b});
  // Retrying once the cause is gone finishes the job.
  faulty_.set_hook(nullptr);
  EXPECT_TRUE(drop->commit_update(all).is_ok());
  EXPECT_TRUE(builder_.files().empty());
}

TEST_F(MaildirStoreTest, CommitMakesRemovalsDurableAndRetriesAFailedDirectorySync) {
  builder_.add("a\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  faulty_.set_hook([](Op op, std::string_view) { return op == Op::kSyncDirectory ? EIO : 0; });
  const size_t first[] = {0};
  EXPECT_EQ(drop->commit_update(first).code(), ErrorCode::kTemporary);
  faulty_.set_hook(nullptr);
  faulty_.reset();
  EXPECT_TRUE(drop->commit_update(first).is_ok());
  EXPECT_EQ(faulty_.count(Op::kSyncDirectory, "/new"), 1u);
}

TEST_F(MaildirStoreTest, OutOfRangeIndexesAreRejectedWithoutRemovingAnything) {
  builder_.add("a\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  const size_t bad[] = {0, 7};
  EXPECT_EQ(drop->commit_update(bad).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(builder_.files().size(), 1u);
  EXPECT_EQ(drop->open_message(1).status().code(), ErrorCode::kInvalidInput);
}

TEST_F(MaildirStoreTest, OpenMessageAfterCommitIsNotFound) {
  builder_.add("a\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  const size_t first[] = {0};
  ASSERT_TRUE(drop->commit_update(first).is_ok());
  EXPECT_EQ(drop->open_message(0).status().code(), ErrorCode::kNotFound);
}

// ---- The recorded listing: when a login may skip readdir, and when it must not.

TEST_F(MaildirStoreTest, UnchangedDirectoriesAreNotListedAgain) {
  std::vector<std::string> bodies;
  for (int i = 0; i < 20; ++i) {
    bodies.push_back("Subject: " + std::to_string(i) + "\n\nbody\n");
    bool in_cur = i % 3 == 0;
    builder_.add({.bytes = bodies.back(), .in_cur = in_cur, .flags = in_cur ? "S" : ""});
  }
  bodies.push_back("sized\n");
  builder_.add({.bytes = bodies.back(), .size_fields = true});
  settle();
  std::vector<OwnedInfo> listed;
  {
    MaildropPtr drop = open_ok();
    ASSERT_TRUE(drop);
    listed = owned(*drop);
  }
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u);
  EXPECT_EQ(faulty_.count(Op::kCreateFile, kIndexFileName), 1u);
  faulty_.reset();

  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(owned(*drop), listed);
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 0u) << "the index is the snapshot";
  EXPECT_EQ(faulty_.count(Op::kStat), 2u) << "new/ and cur/, nothing else";
  EXPECT_EQ(faulty_.count(Op::kReadFile, kIndexFileName), 1u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead), 0u);
  EXPECT_EQ(faulty_.count(Op::kCreateFile), 0u);
  std::multiset<std::string> read;
  for (size_t i = 0; i < drop->messages().size(); ++i) {
    std::string bytes = read_message(*drop, i);
    EXPECT_EQ(drop->messages()[i].size_octets, crlf_size_octets(bytes));
    read.insert(bytes);
  }
  EXPECT_EQ(read, std::multiset<std::string>(bodies.begin(), bodies.end()));
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 0u) << "every recorded name was right";
}

TEST_F(MaildirStoreTest, DeliveryAfterTheIndexWasWrittenIsSeen) {
  for (int i = 0; i < 3; ++i) {
    builder_.add("old " + std::to_string(i) + "\n");
  }
  settle();
  open_ok();  // writes an index that the next login would trust
  std::string fresh = builder_.add("arrived later\n");
  faulty_.reset();
  {
    MaildropPtr drop = open_ok();
    ASSERT_TRUE(drop);
    ASSERT_EQ(drop->messages().size(), 4u);
    EXPECT_EQ(read_message(*drop, 3), "arrived later\n");
  }
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead, "/new/"), 2u) << "its size read, then its body";
  EXPECT_EQ(faulty_.count(Op::kOpenForRead, fresh), 2u);
  // The listing was written down with the new stamps: the next login trusts it again.
  faulty_.reset();
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 4u);
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 0u);
}

TEST_F(MaildirStoreTest, MoveFromNewToCurByAnotherClientIsSeenWithoutReadingTheMessage) {
  std::string a = builder_.add("first\n");
  std::string b = builder_.add("second\n");
  settle();
  std::vector<OwnedInfo> before = owned(*open_ok());
  builder_.set_flags(a, "S");  // an IMAP client reads it
  faulty_.reset();
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(owned(*drop), before);
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead), 0u) << "its size came from the index by base name";
  EXPECT_EQ(read_message(*drop, 0), "first\n");
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u) << "the snapshot knew its new name";
  const size_t first[] = {0};
  ASSERT_TRUE(drop->commit_update(first).is_ok());
  EXPECT_EQ(builder_.files(), std::vector<std::string>{b});
}

// Reports new/ and cur/ with frozen times, as file systems with a coarse clock do for every
// change made within one tick: a change right after a listing can leave the stamps as they were.
class FrozenDirectoryTimes : public fs::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  int64_t frozen_ns = 0;
  int64_t clock_ns = 0;

  Result<fs::FileInfo> stat(const std::string& path) override {
    Result<fs::FileInfo> info = FileSystemWrapper::stat(path);
    if (info.is_ok() && (path.ends_with("/new") || path.ends_with("/cur"))) {
      info->mtime_ns = frozen_ns;
      info->ctime_ns = frozen_ns;
    }
    return info;
  }
  int64_t now_ns() override { return clock_ns; }
};

TEST_F(MaildirStoreTest, AChangeInTheSameClockTickAsTheListingIsNotMissed) {
  builder_.add("one\n");
  builder_.add("two\n");
  FrozenDirectoryTimes frozen(fs::posix_file_system());
  frozen.frozen_ns = int64_t{1800000000} * 1'000'000'000;
  frozen.clock_ns = frozen.frozen_ns + 1'000'000;  // listed 1 ms after the last change
  fs::FaultInjectionFileSystem counting(frozen);
  MaildirStore store(counting);
  auto open_here = [&] {
    Result<MaildropPtr> drop = store.open_maildrop(location());
    EXPECT_TRUE(drop.is_ok()) << drop.status().to_string();
    return drop.is_ok() ? std::move(drop).value() : nullptr;
  };
  EXPECT_EQ(open_here()->messages().size(), 2u);

  // Delivered in the same tick: every stamp of new/ stays as recorded.
  builder_.add("same tick\n");
  counting.reset();
  EXPECT_EQ(open_here()->messages().size(), 3u) << "a listing that was not settled is redone";
  EXPECT_EQ(counting.count(Op::kListDirectory), 2u);

  // Once the clock is kSettledNs past the last change, a listing is trusted from then on.
  frozen.clock_ns = frozen.frozen_ns + kSettledNs;
  counting.reset();
  EXPECT_EQ(open_here()->messages().size(), 3u);
  EXPECT_EQ(counting.count(Op::kListDirectory), 2u);
  EXPECT_EQ(counting.count(Op::kCreateFile, kIndexFileName), 1u) << "now worth recording";
  counting.reset();
  EXPECT_EQ(open_here()->messages().size(), 3u);
  EXPECT_EQ(counting.count(Op::kListDirectory), 0u);
}

TEST_F(MaildirStoreTest, DirectoriesChangedJustBeforeTheListingAreListedAgain) {
  for (int i = 0; i < 3; ++i) {
    builder_.add("m" + std::to_string(i) + "\n");
  }
  // The clock says the directories changed less than kSettledNs before each listing.
  faulty_.set_now_offset_ns(kSettledNs / 2);
  open_ok();
  faulty_.reset();
  open_ok();
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead), 0u) << "sizes from the index";
  EXPECT_EQ(faulty_.count(Op::kCreateFile), 0u) << "same content, still not settled: not rewritten";

  faulty_.set_now_offset_ns(kHourNs);
  faulty_.reset();
  open_ok();
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u);
  EXPECT_EQ(faulty_.count(Op::kCreateFile, kIndexFileName), 1u) << "settled: recorded";
  faulty_.reset();
  open_ok();
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 0u);
}

TEST_F(MaildirStoreTest, AnIndexOfAnOlderVersionIsRebuiltQuietly) {
  std::string one = builder_.add("one\n");
  std::string two = builder_.add("two\n");
  settle();
  std::vector<OwnedInfo> before = owned(*open_ok());
  // What the previous release wrote: base names and sizes, format version 1.
  std::string body = "poplar-index 1\n5 " + one.substr(4) + "\n5 " + two.substr(4) + "\n";
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx",
                static_cast<unsigned long long>(index_checksum(body)));
  stdfs::path index = builder_.path() / kIndexFileName;
  write_file(index, body + "end 2 " + checksum + "\n");
  LogCapture log;
  faulty_.reset();
  EXPECT_EQ(owned(*open_ok()), before);
  EXPECT_FALSE(log.contains("maildir-index")) << "an upgrade is not a problem";
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u);
  EXPECT_EQ(faulty_.count(Op::kOpenForRead, "/new/"), 2u) << "version 1 is not read";
  EXPECT_TRUE(read_file(index).starts_with("poplar-index 3\n"));
  faulty_.reset();
  EXPECT_EQ(owned(*open_ok()), before);
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 0u);
}

TEST_F(MaildirStoreTest, StaleTrustedIndexFindsMovedFilesAndForgetsVanishedOnes) {
  std::string moved = builder_.add("moved\n");
  std::string vanished = builder_.add("vanished\n");
  std::string kept = builder_.add("kept\n");
  settle();
  open_ok();
  // Another program moves one message and deletes another, and the directories' stamps look
  // unchanged, as they can within one tick of a coarse clock. (Forged here: the index is
  // rewritten with the directories' new stamps and the old names.)
  builder_.set_flags(moved, "S");
  stdfs::remove(file(vanished));
  Result<IndexContents> old_index = read_contents(fs::posix_file_system(), location());
  ASSERT_TRUE(old_index.is_ok());
  DirectoryStamp stamps[2];
  for (Subdir dir : kSubdirs) {
    Result<fs::FileInfo> info = faulty_.stat(location() + "/" + std::string(subdir_name(dir)));
    ASSERT_TRUE(info.is_ok());
    stamps[index_of(dir)] = stamp_of(*info, faulty_.now_ns());
  }
  IndexBuilder forged(stamps[0], stamps[1]);
  for (const IndexContents::Entry& e : old_index->entries()) {
    forged.add(e.dir, old_index->name(e), e.size_octets);
  }
  ASSERT_TRUE(write_index_file(fs::posix_file_system(), location(), forged.finish()).is_ok());

  faulty_.reset();
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 3u) << "the index was trusted";
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 0u);
  EXPECT_EQ(read_message(*drop, 0), "moved\n") << "found again under its new name";
  EXPECT_EQ(drop->open_message(1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(read_message(*drop, 2), "kept\n");
  const size_t both[] = {0, 1};
  ASSERT_TRUE(drop->commit_update(both).is_ok());
  EXPECT_EQ(builder_.files(), std::vector<std::string>{kept});
  drop.reset();
  faulty_.reset();
  drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u) << "a commit makes the next login list";
}

TEST_F(MaildirStoreTest, UidlsAndSizesAreTheSameWithAndWithoutTheIndex) {
  builder_.add("plain\n");
  builder_.add({.bytes = "sized\n", .size_fields = true});
  builder_.add({.bytes = "long\n", .base_name = "1700000100." + std::string(80, 'x')});
  builder_.add({.bytes = "space\n", .base_name = "1700000101.with space"});
  builder_.add({.bytes = "percent\n", .base_name = "1700000102.50%off"});
  builder_.add({.bytes = "copy one\n", .base_name = "1700000103.M1P1Q1.dup"});
  builder_.add(
      {.bytes = "copy two\n", .in_cur = true, .flags = "S", .base_name = "1700000103.M1P1Q1.dup"});
  builder_.add({.bytes = "flagged\n", .in_cur = true, .flags = "RS"});
  settle();
  std::vector<OwnedInfo> listed = owned(*open_ok());  // no index yet
  faulty_.reset();
  std::vector<OwnedInfo> trusted = owned(*open_ok());
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 0u);
  stdfs::remove(builder_.path() / kIndexFileName);
  std::vector<OwnedInfo> rebuilt = owned(*open_ok());
  EXPECT_EQ(trusted, listed);
  EXPECT_EQ(rebuilt, listed);
  std::set<std::string> unique;
  for (const OwnedInfo& m : listed) {
    EXPECT_TRUE(is_valid_uidl(m.uidl)) << m.uidl;
    unique.insert(m.uidl);
  }
  EXPECT_EQ(unique.size(), 8u);
}

TEST_F(MaildirStoreTest, AfterACommitTheNextLoginListsOnceThenTrustsTheIndexAgain) {
  for (int i = 0; i < 3; ++i) {
    builder_.add("m" + std::to_string(i) + "\n");
  }
  settle();
  open_ok();
  {
    MaildropPtr drop = open_ok();
    ASSERT_TRUE(drop);
    const size_t first[] = {0};
    ASSERT_TRUE(drop->commit_update(first).is_ok());
  }
  faulty_.reset();
  EXPECT_EQ(open_ok()->messages().size(), 2u);
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u);
  faulty_.reset();
  EXPECT_EQ(open_ok()->messages().size(), 2u);
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 0u);
}

TEST_F(MaildirStoreTest, ADanglingLinkIsLookedAtAgainAtEveryLogin) {
  builder_.add("one\n");
  stdfs::create_symlink(dir_.path() / "later", file("new/1700000005.M1P1Q1.link"));
  settle();
  EXPECT_EQ(open_ok()->messages().size(), 1u);
  faulty_.reset();
  EXPECT_EQ(open_ok()->messages().size(), 1u);
  EXPECT_EQ(faulty_.count(Op::kListDirectory), 2u) << "its target may appear without new/ changing";
  write_file(dir_.path() / "later", "now here\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 2u);
  EXPECT_EQ(read_message(*drop, 1), "now here\n");
}

TEST_F(MaildirStoreTest, ATamperedIndexCannotReachFilesOutsideTheMaildir) {
  builder_.add("one\n");
  write_file(dir_.path() / "secret", "not mail\n");
  settle();
  open_ok();
  Result<IndexContents> index = read_contents(fs::posix_file_system(), location());
  ASSERT_TRUE(index.is_ok());
  IndexBuilder forged(index->stamp(Subdir::kNew), index->stamp(Subdir::kCur));
  for (const IndexContents::Entry& e : index->entries()) {  // good lines, then a bad one
    forged.add(e.dir, index->name(e), e.size_octets);
  }
  forged.add(Subdir::kNew, "1900000000.x/../../../secret", 9);
  ASSERT_TRUE(write_index_file(fs::posix_file_system(), location(), forged.finish()).is_ok());
  LogCapture log;
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(read_message(*drop, 0), "one\n");
  EXPECT_TRUE(log.contains("maildir-index-ignored"));
}

TEST_F(MaildirStoreTest, IndexWrittenAfterAFileWasFoundAgainStaysInOrder) {
  // Two files with one base name; the one in new/ moves to cur/ with flags that sort after the
  // other's, so the snapshot's order of the two no longer matches their current names.
  std::string base = "1600000001.M1P1Q1.host";  // older than the generated names
  std::string in_new = builder_.add({.bytes = "copy in new\n", .base_name = base});
  builder_.add({.bytes = "copy in cur\n", .in_cur = true, .flags = "S", .base_name = base});
  builder_.add("other\n");
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  builder_.set_flags(in_new, "T");
  EXPECT_EQ(read_message(*drop, 0), "copy in new\n");
  const size_t other[] = {2};
  ASSERT_TRUE(drop->commit_update(other).is_ok());  // rewrites the index
  drop.reset();
  LogCapture log;
  drop = open_ok();
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->messages().size(), 2u);
  EXPECT_FALSE(log.contains("maildir-index-ignored"));
}

// A first login with many messages reads them on two threads; what it finds must not depend
// on that: sizes, order, skipped files, a failure that fails the login.
TEST_F(MaildirStoreTest, AFirstLoginWithManyMessagesReadsThemAllAndHandlesFailures) {
  constexpr int kMessages = 2500;  // above the threshold for a second thread
  std::vector<std::string> names;
  for (int i = 0; i < kMessages; ++i) {
    std::string body = "Subject: " + std::to_string(i) + "\n\n" + std::string(i % 97, 'x') + "\n";
    bool in_cur = i % 5 == 0;
    names.push_back(builder_.add({.bytes = body, .in_cur = in_cur, .flags = in_cur ? "S" : ""}));
  }
  const std::string unreadable = names[1234];
  const std::string broken = names[2001];

  // One file refused (EACCES): skipped with a warning, everything else listed.
  faulty_.set_hook([&](Op op, std::string_view path) {
    return op == Op::kOpenForRead && path.ends_with(unreadable) ? EACCES : 0;
  });
  {
    LogCapture log;
    MaildropPtr drop = open_ok();
    ASSERT_TRUE(drop);
    ASSERT_EQ(drop->messages().size(), static_cast<size_t>(kMessages - 1));
    EXPECT_TRUE(log.contains("maildir-message-skipped"));
    for (size_t i = 0; i < drop->messages().size(); i += 97) {
      EXPECT_EQ(drop->messages()[i].size_octets, crlf_size_octets(read_message(*drop, i))) << i;
    }
  }
  // Without an index: an I/O error on one file of 2,500 fails the login and leaves nothing
  // locked; the next login reads every file again.
  stdfs::remove(builder_.path() / kIndexFileName);
  faulty_.set_hook([&](Op op, std::string_view path) {
    return op == Op::kOpenForRead && path.ends_with(broken) ? EIO : 0;
  });
  EXPECT_EQ(open().status().code(), ErrorCode::kTemporary);
  faulty_.set_hook(nullptr);
  faulty_.reset();
  MaildropPtr drop = open_ok();
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(faulty_.count(Op::kOpenForRead), static_cast<size_t>(kMessages));
  std::vector<std::string> uidls = uidls_of(*drop);
  for (int i = 0; i < kMessages; ++i) {
    std::string base = names[static_cast<size_t>(i)].substr(4);
    EXPECT_EQ(uidls[static_cast<size_t>(i)], base.substr(0, base.find(':'))) << i;
  }
}

}  // namespace
}  // namespace poplar::store::maildir
