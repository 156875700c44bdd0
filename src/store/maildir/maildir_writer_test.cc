// Tests of Maildir delivery: the stored bytes (CRLF → LF, however the input is cut), the final
// name and its ,S=/,W= fields as the reader parses them, the Maildir created when missing,
// abandoned deliveries, distinct names, and fault injection at every file-system operation (a
// failure, and a crash: nothing after it happens) leaving new/ with either the previous
// messages or those plus the complete new one.
// Must never: touch files outside its temp dirs. Single-threaded.
#include "store/maildir/maildir_writer.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>

#include "store/crlf_size.h"
#include "store/fs/fault_injection_file_system.h"
#include "store/maildir/file_name.h"
#include "store/maildir/maildir_store.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

using Op = fs::FaultInjectionFileSystem::Op;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// name → content of every file in one subdirectory.
std::map<std::string, std::string> files_in(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  if (!std::filesystem::exists(dir)) {
    return out;
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out[entry.path().filename().string()] = read_file(entry.path());
  }
  return out;
}

// Delivers wire in pieces of `chunk` octets (0: whole). Returns commit()'s result.
Result<std::string> deliver(fs::FileSystem& fs, const std::string& root, std::string_view wire,
                            size_t chunk = 0, DeliveryOptions options = {}) {
  Result<MessageWriterPtr> writer = begin_maildir_delivery(fs, root, options);
  if (!writer.is_ok()) {
    return writer.status();
  }
  size_t step = chunk == 0 ? std::max<size_t>(wire.size(), 1) : chunk;
  for (size_t pos = 0; pos < wire.size(); pos += step) {
    if (Status written = (*writer)->write(wire.substr(pos, step)); !written.is_ok()) {
      return written;
    }
  }
  return (*writer)->commit();
}

class MaildirWriterTest : public ::testing::Test {
 protected:
  std::filesystem::path root() const { return dir_.path() / "Maildir"; }
  std::map<std::string, std::string> new_files() const { return files_in(root() / "new"); }
  std::map<std::string, std::string> tmp_files() const { return files_in(root() / "tmp"); }

  testing::TempDir dir_;
  fs::FileSystem& fs_ = fs::posix_file_system();
};

TEST_F(MaildirWriterTest, StoresTheMessageWithLfLineEndsUnderANameWithItsSizes) {
  const std::string wire = "Subject: hi\r\n\r\nline one\r\n.dot\r\nbare\rCR\r\n";
  Result<MessageWriterPtr> writer =
      begin_maildir_delivery(fs_, root().string(), {.hostname = "mx.example.org", .pid = 4242});
  ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
  ASSERT_TRUE((*writer)->write(wire).is_ok());
  Result<std::string> where = (*writer)->commit();
  ASSERT_TRUE(where.is_ok()) << where.status().to_string();

  const std::string stored = "Subject: hi\n\nline one\n.dot\nbare\rCR\n";
  auto files = new_files();
  ASSERT_EQ(files.size(), 1u);
  const std::string name = files.begin()->first;
  EXPECT_EQ(files.begin()->second, stored);
  EXPECT_EQ(*where, (root() / "new" / name).string());
  EXPECT_TRUE(tmp_files().empty());
  EXPECT_EQ((*writer)->received_octets(), wire.size());
  EXPECT_EQ((*writer)->stored_octets(), stored.size());

  std::smatch parts;
  ASSERT_TRUE(std::regex_match(
      name, parts, std::regex(R"((\d+)\.M(\d+)P4242Q(\d+)\.mx\.example\.org,S=(\d+),W=(\d+))")))
      << name;
  EXPECT_EQ(parts[4].str(), std::to_string(stored.size()));
  // What the reader takes as the LIST size without opening the file.
  EXPECT_EQ(base_name(name), name);
  EXPECT_EQ(wire_size_field(name), crlf_size_octets(stored));
  EXPECT_EQ(wire_size_field(name), wire.size());  // well-formed CRLF input: the octets received
  EXPECT_GT(delivery_time_us(name), 1'600'000'000'000000u);

  struct stat st {};
  ASSERT_EQ(::stat((root() / "new" / name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(MaildirWriterTest, SameFileWhateverTheChunks) {
  const std::string wire =
      "From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n\r\nbare\rcr\r\r\nend\r";
  const std::string stored = "From: a@example.org\nSubject: x\n\nbody\n\nbare\rcr\r\nend\r";
  std::mt19937 random(7);
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{13}, wire.size()}) {
    testing::TempDir dir;
    std::string maildir = (dir.path() / "M").string();
    ASSERT_TRUE(deliver(fs_, maildir, wire, chunk).is_ok()) << chunk;
    auto files = files_in(dir.path() / "M" / "new");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files.begin()->second, stored) << chunk;
    EXPECT_EQ(wire_size_field(files.begin()->first), crlf_size_octets(stored));
  }
  // Random cuts, including empty pieces.
  for (int round = 0; round < 20; ++round) {
    testing::TempDir dir;
    std::string maildir = (dir.path() / "M").string();
    Result<MessageWriterPtr> writer = begin_maildir_delivery(fs_, maildir);
    ASSERT_TRUE(writer.is_ok());
    size_t pos = 0;
    while (pos < wire.size()) {
      size_t n = std::min<size_t>(random() % 6, wire.size() - pos);
      ASSERT_TRUE((*writer)->write(std::string_view(wire).substr(pos, n)).is_ok());
      pos += n;
    }
    ASSERT_TRUE((*writer)->commit().is_ok());
    auto files = files_in(dir.path() / "M" / "new");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files.begin()->second, stored);
  }
}

TEST_F(MaildirWriterTest, EmptyAndUnterminatedMessagesGetTheReadersSizes) {
  ASSERT_TRUE(deliver(fs_, root().string(), "").is_ok());
  ASSERT_TRUE(deliver(fs_, root().string(), "no newline").is_ok());
  std::set<std::pair<std::string, std::optional<uint64_t>>> seen;
  for (const auto& [name, content] : new_files()) {
    seen.insert({content, wire_size_field(name)});
  }
  // The CRLF rule of crlf_size.h: empty is 0; a missing final line end adds 2.
  EXPECT_EQ(seen, (std::set<std::pair<std::string, std::optional<uint64_t>>>{{"", 0},
                                                                             {"no newline", 12}}));
}

TEST_F(MaildirWriterTest, PoplarsServerTakesTheSizesFromTheNameWithoutReadingBodies) {
  const std::string wire = "Subject: a\r\n\r\nbody\r\nno end";
  ASSERT_TRUE(deliver(fs_, root().string(), wire, 3).is_ok());
  ASSERT_TRUE(deliver(fs_, root().string(), "x\r\n").is_ok());
  fs::FaultInjectionFileSystem counting(fs_);
  MaildirStore store(counting);
  Result<MaildropPtr> drop = store.open_maildrop(root().string());
  ASSERT_TRUE(drop.is_ok()) << drop.status().to_string();
  ASSERT_EQ((*drop)->messages().size(), 2u);
  std::multiset<uint64_t> sizes;
  for (const MessageInfo& info : (*drop)->messages()) {
    sizes.insert(info.size_octets);
  }
  EXPECT_EQ(sizes, (std::multiset<uint64_t>{wire.size() + 2, 3}));
  EXPECT_EQ(counting.count(Op::kOpenForRead, "/new/"), 0u);
}

TEST_F(MaildirWriterTest, CreatesAMissingMaildirButNotItsParent) {
  ASSERT_TRUE(deliver(fs_, root().string(), "a\r\n").is_ok());
  for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
    struct stat st {};
    ASSERT_EQ(::stat((root().string() + sub).c_str(), &st), 0) << sub;
    EXPECT_EQ(st.st_mode & 0777, 0700u) << sub;
  }
  Result<MessageWriterPtr> orphan =
      begin_maildir_delivery(fs_, (dir_.path() / "no" / "Maildir").string());
  EXPECT_EQ(orphan.status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "no"));
}

TEST_F(MaildirWriterTest, WithInfoLettersTheMessageGoesToCurWithThem) {
  Result<std::string> where =
      deliver(fs_, root().string(), "Subject: s\r\n\r\nsent\r\n", 5,
              {.hostname = "mx.example.org", .pid = 7, .info_letters = "RSa"});
  ASSERT_TRUE(where.is_ok()) << where.status().to_string();
  EXPECT_TRUE(new_files().empty());
  std::map<std::string, std::string> cur = files_in(root() / "cur");
  ASSERT_EQ(cur.size(), 1u);
  EXPECT_TRUE(cur.begin()->first.ends_with(",S=17,W=20:2,RSa")) << cur.begin()->first;
  EXPECT_EQ(*where, (root() / "cur" / cur.begin()->first).string());
  EXPECT_EQ(cur.begin()->second, "Subject: s\n\nsent\n");
  EXPECT_TRUE(tmp_files().empty());
  for (std::string_view bad : {"S/", ":", "1", "S,"}) {
    EXPECT_EQ(begin_maildir_delivery(fs_, root().string(), {.info_letters = std::string(bad)})
                  .status()
                  .code(),
              ErrorCode::kInvalidInput)
        << bad;
  }
  EXPECT_TRUE(tmp_files().empty());
}

TEST_F(MaildirWriterTest, AbandonedDeliveryLeavesNothing) {
  ASSERT_TRUE(deliver(fs_, root().string(), "kept\r\n").is_ok());
  {
    Result<MessageWriterPtr> writer = begin_maildir_delivery(fs_, root().string());
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->write(std::string(200'000, 'x')).is_ok());
    EXPECT_EQ(tmp_files().size(), 1u);
  }
  EXPECT_TRUE(tmp_files().empty());
  ASSERT_EQ(new_files().size(), 1u);
  EXPECT_EQ(new_files().begin()->second, "kept\n");
}

TEST_F(MaildirWriterTest, DeliveriesInARowGetDistinctNamesAndCommitTwiceIsRefused) {
  std::set<std::string> paths;
  for (int i = 0; i < 20; ++i) {
    Result<MessageWriterPtr> writer = begin_maildir_delivery(fs_, root().string(), {.pid = 1});
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->write("same\r\n").is_ok());
    Result<std::string> where = (*writer)->commit();
    ASSERT_TRUE(where.is_ok());
    paths.insert(*where);
    EXPECT_FALSE((*writer)->commit().is_ok());
    EXPECT_FALSE((*writer)->write("more").is_ok());
  }
  EXPECT_EQ(paths.size(), 20u);
  EXPECT_EQ(new_files().size(), 20u);
}

TEST_F(MaildirWriterTest, CleaningRemovesOnlyTmpFilesOlderThan36Hours) {
  ASSERT_TRUE(deliver(fs_, root().string(), "kept\r\n").is_ok());
  const std::filesystem::path tmp = root() / "tmp";
  for (const char* name : {"old", "fresh", ".old-dotfile"}) {
    std::ofstream(tmp / name) << "partial";
  }
  std::filesystem::create_directory(tmp / "old-dir");
  struct timespec times[2];
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= 37 * 3600;
  times[1] = times[0];
  for (const char* name : {"old", ".old-dotfile", "old-dir"}) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (tmp / name).c_str(), times, 0), 0);
  }
  times[0].tv_sec += 2 * 3600;  // 35 hours old: kept
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, (tmp / "fresh").c_str(), times, 0), 0);

  Result<size_t> removed = clean_stale_tmp_files(fs_, root().string());
  ASSERT_TRUE(removed.is_ok()) << removed.status().to_string();
  EXPECT_EQ(*removed, 1u);
  EXPECT_FALSE(std::filesystem::exists(tmp / "old"));
  EXPECT_TRUE(std::filesystem::exists(tmp / "fresh"));
  EXPECT_TRUE(std::filesystem::exists(tmp / ".old-dotfile"));
  EXPECT_TRUE(std::filesystem::exists(tmp / "old-dir"));
  EXPECT_EQ(new_files().size(), 1u);
  EXPECT_EQ(clean_stale_tmp_files(fs_, (dir_.path() / "none").string()).status().code(),
            ErrorCode::kNotFound);
}

TEST(MaildirHostEncodingTest, EncodesSlashColonCommaAndUnprintables) {
  EXPECT_EQ(encode_host_for_maildir("mx.example.org"), "mx.example.org");
  EXPECT_EQ(encode_host_for_maildir("a/b:c,d"), "a\\057b\\072c\\054d");
  EXPECT_EQ(encode_host_for_maildir("sp ace\\"), "sp\\040ace\\134");
  EXPECT_EQ(encode_host_for_maildir(std::string("\xff", 1)), "\\377");
  EXPECT_EQ(encode_host_for_maildir(""), "localhost");
}

TEST_F(MaildirWriterTest, HostWithCommaCannotFakeASizeField) {
  ASSERT_TRUE(deliver(fs_, root().string(), "abc\r\n", 0, {.hostname = "h,W=1"}).is_ok());
  auto files = new_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(wire_size_field(files.begin()->first), 5u);
}

// A file system without hard links (some FUSE and network file systems).
class NoHardLinks final : public fs::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Status link_file(const std::string& from, const std::string& to) override {
    return Status::error(ErrorCode::kUnavailable, "link " + from + " " + to + ": unsupported");
  }
};

TEST_F(MaildirWriterTest, RenamesWhereTheFileSystemHasNoHardLinks) {
  NoHardLinks fs(fs_);
  ASSERT_TRUE(deliver(fs, root().string(), "one\r\n").is_ok());
  EXPECT_EQ(new_files().size(), 1u);
  EXPECT_TRUE(tmp_files().empty());
}

// The first name tried in tmp/ is taken: the next counter value is used.
class FirstTmpNameTaken final : public fs::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<fs::WritableFilePtr> create_new_file(const std::string& path, uint32_t mode) override {
    if (refusals_++ == 0) {
      return Status::in_use("create " + path + ": already exists");
    }
    return FileSystemWrapper::create_new_file(path, mode);
  }

 private:
  int refusals_ = 0;
};

TEST_F(MaildirWriterTest, RetriesATakenTmpName) {
  FirstTmpNameTaken fs(fs_);
  ASSERT_TRUE(deliver(fs, root().string(), "one\r\n").is_ok());
  EXPECT_EQ(new_files().size(), 1u);
}

// The complete new message, or nothing new: never a partial one, never a lost old one.
void expect_previous_or_complete(const std::map<std::string, std::string>& before,
                                 const std::map<std::string, std::string>& after,
                                 const std::string& stored, const std::string& what) {
  std::map<std::string, std::string> added;
  for (const auto& [name, content] : after) {
    auto it = before.find(name);
    if (it == before.end()) {
      added[name] = content;
    } else {
      EXPECT_EQ(it->second, content) << what << ": an old message changed";
    }
  }
  EXPECT_EQ(before.size() + added.size(), after.size()) << what << ": an old message is gone";
  ASSERT_LE(added.size(), 1u) << what;
  if (!added.empty()) {
    EXPECT_EQ(added.begin()->second, stored) << what << ": partial message in new/";
    EXPECT_EQ(wire_size_field(added.begin()->first), crlf_size_octets(stored)) << what;
  }
}

TEST_F(MaildirWriterTest, GroupCommitLeavesTheDirectorySyncToTheCaller) {
  fs::FaultInjectionFileSystem counting(fs_);
  const std::string maildir = root().string();
  ASSERT_TRUE(make_maildir(counting, maildir).is_ok());
  counting.reset();
  DeliveryOptions options;
  options.create_directories = false;
  options.sync_new_directory = false;
  for (int i = 0; i < 3; ++i) {
    auto writer = begin_maildir_delivery(counting, maildir, options);
    ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
    ASSERT_TRUE((*writer)->write("Subject: x\r\n\r\nbody\r\n").is_ok());
    ASSERT_TRUE((*writer)->commit().is_ok());
  }
  EXPECT_EQ(counting.count(Op::kMakeDirectory), 0u);
  EXPECT_EQ(counting.count(Op::kSync), 3u);  // each file before its link
  EXPECT_EQ(counting.count(Op::kSyncDirectory), 0u);
  ASSERT_TRUE(sync_new_directory(counting, maildir).is_ok());
  EXPECT_EQ(counting.count(Op::kSyncDirectory, "/new"), 1u);
  EXPECT_EQ(new_files().size(), 3u);
}

TEST_F(MaildirWriterTest, AFailureAtAnyOperationLeavesThePreviousMessagesOrTheCompleteNewOne) {
  // Big enough for several appends.
  std::string wire;
  for (int i = 0; i < 9000; ++i) {
    wire += "line " + std::to_string(i) + " of the message\r\n";
  }
  std::string stored = wire;
  stored.erase(std::remove(stored.begin(), stored.end(), '\r'), stored.end());

  fs::FaultInjectionFileSystem faulty(fs_);
  const std::string maildir = root().string();
  ASSERT_TRUE(deliver(faulty, maildir, "old\r\n").is_ok());
  faulty.reset();
  ASSERT_TRUE(deliver(faulty, maildir, wire, 10'000).is_ok());
  const uint64_t operations = faulty.operation_count();
  EXPECT_GE(faulty.count(Op::kAppend), 3u);
  EXPECT_EQ(faulty.count(Op::kSync), 1u);
  EXPECT_EQ(faulty.count(Op::kLinkFile), 1u);
  EXPECT_EQ(faulty.count(Op::kSyncDirectory, "/new"), 1u);

  for (bool crash : {false, true}) {
    for (int err : {ENOSPC, EIO}) {
      for (uint64_t n = 1; n <= operations; ++n) {
        const std::string what = std::string(crash ? "crash" : "fail") + " at op " +
                                 std::to_string(n) + " errno " + std::to_string(err);
        auto before = new_files();
        faulty.reset();
        if (crash) {
          faulty.fail_from(n, err);
        } else {
          faulty.fail_at(n, err);
        }
        Result<std::string> result = deliver(faulty, maildir, wire, 10'000);
        faulty.reset();
        auto after = new_files();
        expect_previous_or_complete(before, after, stored, what);
        if (result.is_ok()) {
          EXPECT_EQ(after.size(), before.size() + 1) << what << ": OK but not delivered";
        } else if (!crash) {
          // A failure that was seen is cleaned up: no leftover in tmp/ and nothing new.
          EXPECT_EQ(after.size(), before.size()) << what;
          EXPECT_TRUE(tmp_files().empty()) << what;
        }
        // Start the next round from the same state.
        for (const auto& [name, content] : tmp_files()) {
          std::filesystem::remove(root() / "tmp" / name);
        }
      }
    }
  }
}

}  // namespace
}  // namespace poplar::store::maildir
