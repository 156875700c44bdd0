// Tests of the POSIX FileSystem (in a temp dir) and of the fault-injection wrapper, including
// the flock conflict across processes (fork). Must never: touch files outside its temp dir.
// Single-threaded apart from the forked child.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "store/fs/fault_injection_file_system.h"
#include "store/fs/file_system.h"
#include "testing/temp_dir.h"

namespace poplar::store::fs {
namespace {

void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_all(SequentialFile& file, size_t chunk) {
  std::string out;
  std::string buffer(chunk, '\0');
  for (;;) {
    Result<size_t> n = file.read(buffer);
    EXPECT_TRUE(n.is_ok());
    if (!n.is_ok() || *n == 0) {
      return out;
    }
    out.append(buffer.data(), *n);
  }
}

class PosixFileSystemTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

  testing::TempDir dir_;
  FileSystem& fs_ = posix_file_system();
};

TEST_F(PosixFileSystemTest, ListsEntriesWithTheirTypesWithoutDotAndDotDot) {
  write_file(path("file"), "x");
  write_file(path(".hidden"), "x");
  std::filesystem::create_directory(path("sub"));
  std::filesystem::create_symlink("file", path("link"));
  ASSERT_EQ(mkfifo(path("fifo").c_str(), 0600), 0);

  DirectoryListing listing;
  ASSERT_TRUE(fs_.list_directory(dir_.path().string(), &listing).is_ok());
  std::map<std::string, FileType> seen;
  for (size_t i = 0; i < listing.size(); ++i) {
    seen[std::string(listing.name(i))] = listing.type(i);
  }
  ASSERT_EQ(seen.size(), 5u);
  // Some file systems report DT_UNKNOWN; the contract allows it.
  auto is = [&](const std::string& name, FileType type) {
    return seen.at(name) == type || seen.at(name) == FileType::kUnknown;
  };
  EXPECT_TRUE(is("file", FileType::kRegular));
  EXPECT_TRUE(is(".hidden", FileType::kRegular));
  EXPECT_TRUE(is("sub", FileType::kDirectory));
  EXPECT_TRUE(is("link", FileType::kSymlink));
  EXPECT_TRUE(is("fifo", FileType::kOther));
}

TEST_F(PosixFileSystemTest, ListingAMissingDirectoryIsNotFound) {
  DirectoryListing listing;
  EXPECT_EQ(fs_.list_directory(path("nope"), &listing).code(), ErrorCode::kNotFound);
}

TEST_F(PosixFileSystemTest, StatFollowsLinksAndReportsSize) {
  write_file(path("file"), "hello");
  std::filesystem::create_symlink("file", path("link"));
  Result<FileInfo> info = fs_.stat(path("link"));
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->type, FileType::kRegular);
  EXPECT_EQ(info->size_bytes, 5u);
  EXPECT_EQ(fs_.stat(path("missing")).status().code(), ErrorCode::kNotFound);
}

TEST_F(PosixFileSystemTest, StatReportsIdentityAndTimesInNanoseconds) {
  std::filesystem::create_directory(path("dir"));
  struct stat st {};
  ASSERT_EQ(::stat(path("dir").c_str(), &st), 0);
  Result<FileInfo> info = fs_.stat(path("dir"));
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->type, FileType::kDirectory);
  EXPECT_EQ(info->device, static_cast<uint64_t>(st.st_dev));
  EXPECT_EQ(info->inode, static_cast<uint64_t>(st.st_ino));
  EXPECT_EQ(info->mtime_ns, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec);
  EXPECT_EQ(info->ctime_ns, int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec);
  // The clock the stamps are compared with is the same wall clock, give or take a tick.
  EXPECT_GE(fs_.now_ns() + 1'000'000'000, info->ctime_ns);
}

TEST_F(PosixFileSystemTest, ReadFileReadsWholeFilesSmallAndHuge) {
  // Below and above the size mapped on huge pages, and empty.
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{5000}, size_t{(2u << 20) - 1}, size_t{3u << 20}}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) {
      bytes[i] = static_cast<char>('a' + i % 23);
    }
    write_file(path("whole"), bytes);
    Result<FileContents> read = fs_.read_file(path("whole"), 16u << 20);
    ASSERT_TRUE(read.is_ok()) << size;
    EXPECT_EQ(read->size(), size);
    EXPECT_TRUE(read->view() == bytes) << size;
    // The block is writable (the index parser decodes names in place).
    if (size > 0) {
      read->data()[size - 1] = '!';
      EXPECT_EQ(read->view().back(), '!');
    }
  }
}

// The read(2)-family calls this process has made so far (syscr in /proc/self/io), or -1 when
// the kernel does not account them. The read that fetches the count is not in it.
long long read_calls() {
  int fd = ::open("/proc/self/io", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  char text[1024];
  ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) {
    return -1;
  }
  text[n] = '\0';
  const char* field = std::strstr(text, "syscr: ");
  return field == nullptr ? -1 : std::atoll(field + 7);
}

TEST_F(PosixFileSystemTest, ReadFileOfAnUnchangingFileIsOneReadCall) {
  // What a measure costs by itself: the read that fetched the first count.
  const long long first = read_calls();
  const long long overhead = read_calls() - first;
  if (first < 0 || overhead < 0) {
    GTEST_SKIP() << "no /proc/self/io syscr here";
  }
  for (size_t size : {size_t{0}, size_t{1}, size_t{11335}, size_t{3u << 20}}) {
    write_file(path("index"), std::string(size, 'i'));
    const long long before = read_calls();
    Result<FileContents> read = fs_.read_file(path("index"), 16u << 20);
    const long long calls = read_calls() - before - overhead;
    ASSERT_TRUE(read.is_ok()) << size;
    EXPECT_EQ(read->size(), size);
    // One read fills the fstat size into a buffer one byte larger: the short count is the
    // end of the file, so no second read asks for it.
    EXPECT_EQ(calls, 1) << size;
  }
}

TEST_F(PosixFileSystemTest, ReadFileRefusesFilesAboveTheLimitAndMissingOnes) {
  write_file(path("big"), std::string(1000, 'x'));
  EXPECT_EQ(fs_.read_file(path("big"), 999).status().code(), ErrorCode::kLimit);
  EXPECT_TRUE(fs_.read_file(path("big"), 1000).is_ok());
  EXPECT_EQ(fs_.read_file(path("none"), 1000).status().code(), ErrorCode::kNotFound);
}

TEST_F(PosixFileSystemTest, ListingsKeepEveryNameWhateverWasReserved) {
  std::filesystem::create_directory(path("many"));
  std::set<std::string> names;
  for (int i = 0; i < 3000; ++i) {
    std::string name = std::to_string(1700000000 + i) + ".M" + std::to_string(i) + "P1Q1.host";
    names.insert(name);
    write_file(path("many/" + name), "x");
  }
  DirectoryListing listing;
  ASSERT_TRUE(fs_.list_directory(path("many"), &listing).is_ok());
  std::set<std::string> seen;
  for (size_t i = 0; i < listing.size(); ++i) {
    seen.insert(std::string(listing.name(i)));
  }
  EXPECT_EQ(seen, names);
  std::string taken = listing.take_names();
  EXPECT_TRUE(listing.empty());
  EXPECT_EQ(taken.size(), [&] {
    size_t octets = 0;
    for (const std::string& n : names) {
      octets += n.size();
    }
    return octets;
  }());
}

TEST_F(PosixFileSystemTest, WritesSyncsRenamesReadsAndUnlinks) {
  Result<WritableFilePtr> out = fs_.create_file(path("tmp"), 0600);
  ASSERT_TRUE(out.is_ok());
  ASSERT_TRUE((*out)->append("hello ").is_ok());
  ASSERT_TRUE((*out)->append("world").is_ok());
  ASSERT_TRUE((*out)->sync().is_ok());
  ASSERT_TRUE((*out)->close().is_ok());
  ASSERT_TRUE(fs_.rename(path("tmp"), path("final")).is_ok());
  ASSERT_TRUE(fs_.sync_directory(dir_.path().string()).is_ok());

  Result<SequentialFilePtr> in = fs_.open_for_read(path("final"));
  ASSERT_TRUE(in.is_ok());
  EXPECT_EQ(read_all(**in, 3), "hello world");

  EXPECT_TRUE(fs_.unlink(path("final")).is_ok());
  EXPECT_EQ(fs_.unlink(path("final")).code(), ErrorCode::kNotFound);
  EXPECT_EQ(fs_.open_for_read(path("final")).status().code(), ErrorCode::kNotFound);
}

TEST_F(PosixFileSystemTest, CreateFileAndLockNeverFollowASymlink) {
  write_file(path("target"), "precious");
  std::filesystem::create_symlink(path("target"), path("planted"));
  EXPECT_FALSE(fs_.create_file(path("planted"), 0600).is_ok());
  EXPECT_FALSE(fs_.lock_file(path("planted")).is_ok());
  std::ifstream in(path("target"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "precious");
}

TEST_F(PosixFileSystemTest, MakeDirectoryReportsWhetherItCreated) {
  Result<bool> first = fs_.make_directory(path("d"), 0700);
  ASSERT_TRUE(first.is_ok());
  EXPECT_TRUE(*first);
  struct stat st {};
  ASSERT_EQ(::stat(path("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  Result<bool> again = fs_.make_directory(path("d"), 0700);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(fs_.make_directory(path("no/parent"), 0700).status().code(), ErrorCode::kNotFound);
}

TEST_F(PosixFileSystemTest, RemoveDirectoryRemovesOnlyEmptyDirectories) {
  ASSERT_TRUE(fs_.make_directory(path("full"), 0700).is_ok());
  ASSERT_TRUE(fs_.make_directory(path("empty"), 0700).is_ok());
  ASSERT_TRUE(fs_.create_file(path("full/f"), 0600).is_ok());
  EXPECT_EQ(fs_.remove_directory(path("full")).code(), ErrorCode::kTemporary);  // ENOTEMPTY
  EXPECT_TRUE(fs_.stat(path("full/f")).is_ok());
  EXPECT_EQ(fs_.remove_directory(path("full/f")).code(), ErrorCode::kNotFound);  // ENOTDIR
  EXPECT_TRUE(fs_.remove_directory(path("empty")).is_ok());
  EXPECT_EQ(fs_.stat(path("empty")).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(fs_.remove_directory(path("empty")).code(), ErrorCode::kNotFound);
}

TEST_F(PosixFileSystemTest, LockConflictsWithinOneProcessAndIsReleasedOnDestruction) {
  Result<FileLockPtr> first = fs_.lock_file(path("lock"));
  ASSERT_TRUE(first.is_ok());
  Result<FileLockPtr> second = fs_.lock_file(path("lock"));
  EXPECT_EQ(second.status().code(), ErrorCode::kInUse);
  first->reset();  // destroys the lock object
  EXPECT_TRUE(fs_.lock_file(path("lock")).is_ok());
}

TEST_F(PosixFileSystemTest, LockConflictsAcrossProcesses) {
  Result<FileLockPtr> held = fs_.lock_file(path("lock"));
  ASSERT_TRUE(held.is_ok());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<FileLockPtr> attempt = posix_file_system().lock_file(path("lock"));
    _exit(attempt.status().code() == ErrorCode::kInUse ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "the child process got the lock";
}

TEST_F(PosixFileSystemTest, CreateNewFileRefusesAnExistingNameOrASymlink) {
  Result<WritableFilePtr> first = fs_.create_new_file(path("unique"), 0600);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  ASSERT_TRUE((*first)->append("mine").is_ok());
  ASSERT_TRUE((*first)->close().is_ok());
  struct stat st {};
  ASSERT_EQ(::stat(path("unique").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Result<WritableFilePtr> again = fs_.create_new_file(path("unique"), 0600);
  EXPECT_EQ(again.status().code(), ErrorCode::kInUse);
  std::filesystem::create_symlink(path("elsewhere"), path("dangling"));
  EXPECT_EQ(fs_.create_new_file(path("dangling"), 0600).status().code(), ErrorCode::kInUse);
  EXPECT_FALSE(std::filesystem::exists(path("elsewhere")));
  EXPECT_EQ(fs_.create_new_file(path("no/parent"), 0600).status().code(), ErrorCode::kNotFound);
  std::ifstream in(path("unique"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "mine");
}

TEST_F(PosixFileSystemTest, LinkFileGivesASecondNameAndNeverReplaces) {
  write_file(path("a"), "first");
  write_file(path("b"), "second");
  EXPECT_EQ(fs_.link_file(path("a"), path("b")).code(), ErrorCode::kInUse);
  ASSERT_TRUE(fs_.link_file(path("a"), path("c")).is_ok());
  std::ifstream b(path("b"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(b), {}), "second");
  std::ifstream c(path("c"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(c), {}), "first");
  EXPECT_EQ(fs_.link_file(path("missing"), path("d")).code(), ErrorCode::kNotFound);
}

TEST_F(PosixFileSystemTest, AppendableFileAppendsAtTheEndAndTruncatesBack) {
  write_file(path("mbox"), "old\n");
  Result<AppendableFilePtr> file = fs_.open_for_append(path("mbox"), 0600);
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  Result<uint64_t> start = (*file)->size();
  ASSERT_TRUE(start.is_ok());
  EXPECT_EQ(*start, 4u);
  ASSERT_TRUE((*file)->append("new one\n").is_ok());
  EXPECT_EQ(*(*file)->size(), 12u);

  char last[2];
  Result<size_t> n = (*file)->read_at(10, last);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(std::string_view(last, 2), "e\n");
  EXPECT_EQ(*(*file)->read_at(12, last), 0u);

  ASSERT_TRUE((*file)->truncate(*start).is_ok());
  EXPECT_EQ(*(*file)->size(), 4u);
  // O_APPEND: the next write goes to the new end, not to where the last one stopped.
  ASSERT_TRUE((*file)->append("again\n").is_ok());
  ASSERT_TRUE((*file)->sync().is_ok());
  ASSERT_TRUE((*file)->close().is_ok());
  std::ifstream in(path("mbox"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "old\nagain\n");
}

TEST_F(PosixFileSystemTest, OpenForAppendCreatesWithTheModeAndNeverFollowsASymlink) {
  Result<AppendableFilePtr> file = fs_.open_for_append(path("fresh"), 0600);
  ASSERT_TRUE(file.is_ok());
  EXPECT_EQ(*(*file)->size(), 0u);
  struct stat st {};
  ASSERT_EQ(::stat(path("fresh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  write_file(path("target"), "precious");
  std::filesystem::create_symlink(path("target"), path("planted"));
  EXPECT_FALSE(fs_.open_for_append(path("planted"), 0600).is_ok());
  EXPECT_EQ(fs_.open_for_append(path("no/parent"), 0600).status().code(), ErrorCode::kNotFound);
}

TEST_F(PosixFileSystemTest, AppendableFileLockConflictsWithinTheProcessUntilClosed) {
  Result<AppendableFilePtr> first = fs_.open_for_append(path("mbox"), 0600);
  Result<AppendableFilePtr> second = fs_.open_for_append(path("mbox"), 0600);
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  ASSERT_TRUE((*first)->lock().is_ok());
  EXPECT_EQ((*second)->lock().code(), ErrorCode::kInUse);
  ASSERT_TRUE((*first)->close().is_ok());
  EXPECT_TRUE((*second)->lock().is_ok());
}

TEST_F(PosixFileSystemTest, AppendableFileLockConflictsWithAPosixRecordLockOfAnotherProcess) {
  Result<AppendableFilePtr> held = fs_.open_for_append(path("mbox"), 0600);
  ASSERT_TRUE(held.is_ok());
  ASSERT_TRUE((*held)->lock().is_ok());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // What mutt or procmail do: a classic fcntl(F_SETLK) write lock.
    int fd = ::open(path("mbox").c_str(), O_RDWR);
    struct flock range {};
    range.l_type = F_WRLCK;
    range.l_whence = SEEK_SET;
    bool refused = fd >= 0 && ::fcntl(fd, F_SETLK, &range) != 0;
    _exit(refused ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "the child process got the lock";
}

TEST_F(PosixFileSystemTest, OpensFilesByNameInAHeldDirectory) {
  std::filesystem::create_directory(path("cur"));
  write_file(path("cur/1.host:2,S"), "message one\n");
  Result<DirectoryPtr> cur = fs_.open_directory(path("cur"));
  ASSERT_TRUE(cur.is_ok()) << cur.status().to_string();
  Result<SequentialFilePtr> file = (*cur)->open_for_read("1.host:2,S");
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  EXPECT_EQ(read_all(**file, 4), "message one\n");

  // A missing file is kNotFound, and the message names the whole path.
  Result<SequentialFilePtr> missing = (*cur)->open_for_read("2.host:2,");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path("cur/2.host:2,")), std::string::npos);

  // The descriptor follows the directory, not its path: renamed away, it still finds the
  // files it held (the store then looks by path for anything that moved).
  std::filesystem::rename(path("cur"), path("old"));
  std::filesystem::create_directory(path("cur"));
  EXPECT_TRUE((*cur)->open_for_read("1.host:2,S").is_ok());
}

TEST_F(PosixFileSystemTest, OpeningAMissingOrNonDirectoryFails) {
  EXPECT_EQ(fs_.open_directory(path("nope")).status().code(), ErrorCode::kNotFound);
  write_file(path("file"), "x");
  EXPECT_FALSE(fs_.open_directory(path("file")).is_ok());
}

TEST(FaultInjectionFileSystemTest, OpensThroughADirectoryAreSeenAndFailed) {
  // The wrapper does not hand out the POSIX directory: its opens go through the wrapper.
  testing::TempDir dir;
  write_file(dir.path() / "m", "x");
  FaultInjectionFileSystem faulty(posix_file_system());
  Result<DirectoryPtr> held = faulty.open_directory(dir.path().string());
  ASSERT_TRUE(held.is_ok());
  EXPECT_EQ(faulty.operation_count(), 0u);
  EXPECT_TRUE((*held)->open_for_read("m").is_ok());
  EXPECT_EQ(faulty.count(FaultInjectionFileSystem::Op::kOpenForRead), 1u);
  faulty.fail_at(2, EACCES);
  EXPECT_EQ((*held)->open_for_read("m").status().code(), ErrorCode::kPermission);
}

TEST(FaultInjectionFileSystemTest, FailsExactlyTheChosenOperation) {
  testing::TempDir dir;
  FaultInjectionFileSystem faulty(posix_file_system());
  std::string file = (dir.path() / "f").string();
  faulty.fail_at(3, ENOSPC);
  Result<WritableFilePtr> out = faulty.create_file(file, 0600);  // op 1
  ASSERT_TRUE(out.is_ok());
  EXPECT_TRUE((*out)->append("a").is_ok());  // op 2
  Status failed = (*out)->append("b");       // op 3
  EXPECT_EQ(failed.code(), ErrorCode::kTemporary);
  EXPECT_NE(failed.message().find("No space"), std::string::npos);
  EXPECT_TRUE((*out)->close().is_ok());  // op 4
  EXPECT_EQ(faulty.operation_count(), 4u);
  EXPECT_EQ(faulty.count(FaultInjectionFileSystem::Op::kAppend), 2u);
}

TEST(FaultInjectionFileSystemTest, CountsAndFailsTheAppendSeam) {
  testing::TempDir dir;
  FaultInjectionFileSystem faulty(posix_file_system());
  using Op = FaultInjectionFileSystem::Op;
  std::string mbox = (dir.path() / "mbox").string();
  Result<AppendableFilePtr> file = faulty.open_for_append(mbox, 0600);  // op 1
  ASSERT_TRUE(file.is_ok());
  ASSERT_TRUE((*file)->lock().is_ok());         // op 2
  ASSERT_TRUE((*file)->append("abc").is_ok());  // op 3
  faulty.fail_at(5, EIO);
  EXPECT_TRUE((*file)->size().is_ok());                           // op 4
  EXPECT_EQ((*file)->truncate(1).code(), ErrorCode::kTemporary);  // op 5, not done
  EXPECT_EQ(*(*file)->size(), 3u);                                // op 6
  char buffer[4];
  EXPECT_EQ(*(*file)->read_at(0, buffer), 3u);  // op 7
  EXPECT_TRUE((*file)->close().is_ok());        // op 8
  std::string a = (dir.path() / "a").string();
  std::string b = (dir.path() / "b").string();
  Result<WritableFilePtr> fresh = faulty.create_new_file(a, 0600);  // op 9
  ASSERT_TRUE(fresh.is_ok());
  EXPECT_TRUE((*fresh)->close().is_ok());       // op 10
  EXPECT_TRUE(faulty.link_file(a, b).is_ok());  // op 11
  EXPECT_EQ(faulty.operation_count(), 11u);
  for (Op op : {Op::kOpenForAppend, Op::kLockFileRange, Op::kTruncate, Op::kReadAt,
                Op::kCreateNewFile, Op::kLinkFile}) {
    EXPECT_EQ(faulty.count(op), 1u) << FaultInjectionFileSystem::op_name(op);
  }
  EXPECT_EQ(faulty.count(Op::kFileSize), 2u);
  faulty.fail_at(12, ENOSPC);
  EXPECT_EQ(faulty.create_new_file((dir.path() / "c").string(), 0600).status().code(),
            ErrorCode::kTemporary);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "c"));
}

TEST(FaultInjectionFileSystemTest, FailFromFailsEveryLaterOperation) {
  testing::TempDir dir;
  FaultInjectionFileSystem faulty(posix_file_system());
  faulty.fail_from(2, EIO);
  EXPECT_TRUE(faulty.make_directory((dir.path() / "a").string(), 0700).is_ok());
  EXPECT_FALSE(faulty.make_directory((dir.path() / "b").string(), 0700).is_ok());
  EXPECT_FALSE(faulty.sync_directory(dir.path().string()).is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "b"));
}

}  // namespace
}  // namespace poplar::store::fs
