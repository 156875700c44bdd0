// The POSIX FileSystem: thin wrappers over open/read/pread/write/fsync/ftruncate/rename/link/
// unlink/mkdir/flock/fcntl and readdir. With process_identity.cc (gethostname, getpid), the only
// files of the store that make system calls.
//
// Must never: throw, leak a descriptor on an error path, or leave a descriptor inheritable
// across exec (every open uses O_CLOEXEC).
//
// Thread-safety: PosixFileSystem has no state; its methods are safe from any thread. The file
// objects it returns are used by one thread at a time.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include "store/fs/file_system.h"

namespace poplar::store::fs {
namespace {

// A directory claiming more than this is not believed when reserving room for its names.
constexpr off_t kMaxListingReserveBytes = off_t{64} << 20;

// Retries a system call interrupted by a signal; returns its final result.
template <typename F>
auto retry_on_eintr(F&& call) {
  for (;;) {
    auto result = call();
    if (result >= 0 || errno != EINTR) {
      return result;
    }
  }
}

// Blocks of at least this size are mapped on huge pages (see allocate_file_bytes).
constexpr size_t kHugePageBytes = size_t{2} << 20;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels refuse it and fault on demand
#endif

void unmap_file_bytes(char* bytes, size_t capacity) { ::munmap(bytes, capacity); }

// The block for a whole file. A big one (the index of a 100,000-message maildrop is ~6 MB) is
// mapped on transparent huge pages and populated in one call: a handful of page faults instead
// of one per 4 KiB, which on virtual machines cost more than reading the file. (malloc would
// map it too, above its mmap threshold, but in 4 KiB pages faulted one by one.) Falls back to
// the heap whenever the kernel says no.
FileBytes allocate_file_bytes(size_t capacity) {
  if (capacity < kHugePageBytes) {
    return FileBytes(std::make_unique_for_overwrite<char[]>(capacity).release());
  }
  size_t length = (capacity + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  // One spare huge page, so that the block can start on a huge-page boundary.
  void* raw = ::mmap(nullptr, length + kHugePageBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    return FileBytes(std::make_unique_for_overwrite<char[]>(capacity).release());
  }
  auto base = reinterpret_cast<uintptr_t>(raw);
  uintptr_t start = (base + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  if (start > base) {
    ::munmap(raw, start - base);
  }
  if (uintptr_t end = base + length + kHugePageBytes; end > start + length) {
    ::munmap(reinterpret_cast<void*>(start + length), end - (start + length));
  }
  auto* block = reinterpret_cast<char*>(start);
  (void)::madvise(block, length, MADV_HUGEPAGE);
  (void)::madvise(block, length, MADV_POPULATE_WRITE);
  return FileBytes(block, FileBytesDeleter{&unmap_file_bytes, length});
}

// Owns one descriptor; closes it once.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() { reset(); }
  int get() const { return fd_; }
  // Gives up ownership without closing.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the descriptor and reports the close(2) error, if any. EINTR from close is not
  // retried: on Linux the descriptor is already released and retrying could close another.
  int reset() {
    int rc = 0;
    if (fd_ >= 0) {
      rc = ::close(fd_);
      fd_ = -1;
    }
    return rc;
  }

 private:
  int fd_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  Result<size_t> read(std::span<char> out) override {
    ssize_t n = retry_on_eintr([&] { return ::read(fd_.get(), out.data(), out.size()); });
    if (n < 0) {
      return Status::from_errno(errno, "read " + path_);
    }
    return static_cast<size_t>(n);
  }

 private:
  Descriptor fd_;
  std::string path_;
};

// A directory held as an O_PATH descriptor: no read permission is needed and nothing is read;
// it only anchors openat(2).
class PosixDirectory final : public Directory {
 public:
  PosixDirectory(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  Result<SequentialFilePtr> open_for_read(std::string_view name) override {
    std::string path;
    path.reserve(path_.size() + 1 + name.size());
    path += path_;
    path += '/';
    path += name;
    const char* relative = path.c_str() + path_.size() + 1;  // the name, NUL-terminated
    int fd = retry_on_eintr([&] { return ::openat(fd_.get(), relative, O_RDONLY | O_CLOEXEC); });
    if (fd < 0) {
      return Status::from_errno(errno, "open " + path);
    }
    return SequentialFilePtr(std::make_unique<PosixSequentialFile>(fd, std::move(path)));
  }

 private:
  Descriptor fd_;
  std::string path_;
};

// write(2) until all of data is written (retrying short writes and EINTR).
Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = retry_on_eintr([&] { return ::write(fd, data.data(), data.size()); });
    if (n < 0) {
      return Status::from_errno(errno, "write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Status sync_descriptor(int fd, const std::string& path) {
  if (retry_on_eintr([&] { return ::fsync(fd); }) != 0) {
    return Status::from_errno(errno, "fsync " + path);
  }
  return Status::ok();
}

Status close_descriptor(Descriptor& fd, const std::string& path) {
  if (fd.reset() != 0) {
    return Status::from_errno(errno, "close " + path);
  }
  return Status::ok();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  Status append(std::string_view data) override { return write_all(fd_.get(), data, path_); }
  Status sync() override { return sync_descriptor(fd_.get(), path_); }
  Status close() override { return close_descriptor(fd_, path_); }

 private:
  Descriptor fd_;
  std::string path_;
};

// Opened with O_APPEND: the kernel puts every write at the current end of the file.
class PosixAppendableFile final : public AppendableFile {
 public:
  PosixAppendableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  Status append(std::string_view data) override { return write_all(fd_.get(), data, path_); }
  Status sync() override { return sync_descriptor(fd_.get(), path_); }
  Status close() override { return close_descriptor(fd_, path_); }

  Result<uint64_t> size() override {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) {
      return Status::from_errno(errno, "fstat " + path_);
    }
    return static_cast<uint64_t>(st.st_size);
  }

  Status truncate(uint64_t size_bytes) override {
    if (size_bytes > static_cast<uint64_t>(INT64_MAX)) {
      return Status::invalid_input("truncate " + path_ + ": size out of range");
    }
    if (retry_on_eintr([&] { return ::ftruncate(fd_.get(), static_cast<off_t>(size_bytes)); }) !=
        0) {
      return Status::from_errno(errno, "truncate " + path_);
    }
    return Status::ok();
  }

  Result<size_t> read_at(uint64_t offset, std::span<char> out) override {
    if (offset > static_cast<uint64_t>(INT64_MAX)) {
      return size_t{0};
    }
    ssize_t n = retry_on_eintr(
        [&] { return ::pread(fd_.get(), out.data(), out.size(), static_cast<off_t>(offset)); });
    if (n < 0) {
      return Status::from_errno(errno, "read " + path_);
    }
    return static_cast<size_t>(n);
  }

  Status lock() override {
    struct flock range {};
    range.l_type = F_WRLCK;
    range.l_whence = SEEK_SET;
    range.l_start = 0;
    range.l_len = 0;  // the whole file, however far it grows
    range.l_pid = 0;  // required for OFD locks
    if (retry_on_eintr([&] { return ::fcntl(fd_.get(), F_OFD_SETLK, &range); }) != 0) {
      int err = errno;
      // POSIX allows either errno for a conflicting lock.
      if (err == EACCES || err == EAGAIN) {
        return Status::in_use("lock " + path_ + ": locked by another process");
      }
      return Status::from_errno(err, "lock " + path_);
    }
    return Status::ok();
  }

 private:
  Descriptor fd_;
  std::string path_;
};

// flock(2) locks belong to the open file description, so closing the descriptor releases it.
class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}

 private:
  Descriptor fd_;
};

FileType type_from_dirent(unsigned char d_type) {
  switch (d_type) {
    case DT_REG:
      return FileType::kRegular;
    case DT_DIR:
      return FileType::kDirectory;
    case DT_LNK:
      return FileType::kSymlink;
    case DT_UNKNOWN:
      return FileType::kUnknown;
    default:
      return FileType::kOther;
  }
}

FileType type_from_mode(mode_t mode) {
  if (S_ISREG(mode)) {
    return FileType::kRegular;
  }
  if (S_ISDIR(mode)) {
    return FileType::kDirectory;
  }
  return FileType::kOther;
}

int64_t to_ns(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

FileInfo file_info(const struct stat& st) {
  FileInfo info;
  info.type = type_from_mode(st.st_mode);
  info.size_bytes = static_cast<uint64_t>(st.st_size);
  info.device = static_cast<uint64_t>(st.st_dev);
  info.inode = static_cast<uint64_t>(st.st_ino);
  info.mtime_ns = to_ns(st.st_mtim);
  info.ctime_ns = to_ns(st.st_ctim);
  return info;
}

class PosixFileSystem final : public FileSystem {
 public:
  Status list_directory(const std::string& path, DirectoryListing* out) override {
    out->clear();
    int fd =
        retry_on_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) {
      return Status::from_errno(errno, "opendir " + path);
    }
    // Reserve room from the directory's own size, so that a big listing is not copied again
    // each time its storage doubles. On ext4 an entry takes its name plus 8-12 octets of
    // header, and blocks are not full: 100,000 typical Maildir names (45 octets) make a
    // directory of ~61 octets per name, so 5/8 of the size fits them with little to spare.
    // A directory that once held more keeps its size; the store trims what a listing did not
    // use (MaildirMaildrop::load_from_listing).
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      auto bytes = static_cast<size_t>(std::min<off_t>(st.st_size, kMaxListingReserveBytes));
      out->reserve(bytes / 8 * 5, bytes / 48);
    }
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      int err = errno;
      ::close(fd);
      return Status::from_errno(err, "opendir " + path);
    }
    Status status;
    for (;;) {
      errno = 0;
      const struct dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) {
          status = Status::from_errno(errno, "readdir " + path);
        }
        break;
      }
      std::string_view name(entry->d_name);
      if (name == "." || name == "..") {
        continue;
      }
      if (!out->add(name, type_from_dirent(entry->d_type))) {
        status = Status::error(ErrorCode::kLimit, "directory too large: " + path);
        break;
      }
    }
    ::closedir(dir);
    if (!status.is_ok()) {
      out->clear();
    }
    return status;
  }

  Result<FileInfo> stat(const std::string& path) override {
    struct stat st {};
    if (retry_on_eintr([&] { return ::stat(path.c_str(), &st); }) != 0) {
      return Status::from_errno(errno, "stat " + path);
    }
    return file_info(st);
  }

  Result<SequentialFilePtr> open_for_read(const std::string& path) override {
    // No posix_fadvise(SEQUENTIAL): the kernel detects sequential reads by itself, and the
    // hint cost one more system call per message when a first login reads 100,000 of them.
    int fd = retry_on_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (fd < 0) {
      return Status::from_errno(errno, "open " + path);
    }
    return SequentialFilePtr(std::make_unique<PosixSequentialFile>(fd, path));
  }

  Result<DirectoryPtr> open_directory(const std::string& path) override {
    int fd = retry_on_eintr([&] { return ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) {
      return Status::from_errno(errno, "open directory " + path);
    }
    return DirectoryPtr(std::make_unique<PosixDirectory>(fd, path));
  }

  Result<FileContents> read_file(const std::string& path, uint64_t max_bytes) override {
    int raw = retry_on_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    if (raw < 0) {
      return Status::from_errno(errno, "open " + path);
    }
    Descriptor fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return Status::from_errno(errno, "fstat " + path);
    }
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
      return Status::error(ErrorCode::kLimit, "file too large: " + path);
    }
    // One spare byte: a read that fills the buffer means the file grew since fstat.
    const auto expected = static_cast<size_t>(st.st_size);
    size_t capacity = expected + 1;
    FileBytes bytes = allocate_file_bytes(capacity);
    size_t used = 0;
    for (;;) {
      if (used == capacity) {
        if (capacity > max_bytes) {
          return Status::error(ErrorCode::kLimit, "file too large: " + path);
        }
        size_t bigger = capacity * 2;
        FileBytes grown = allocate_file_bytes(bigger);
        std::memcpy(grown.get(), bytes.get(), used);
        bytes = std::move(grown);
        capacity = bigger;
      }
      const size_t asked = capacity - used;
      ssize_t n = retry_on_eintr([&] { return ::read(fd.get(), bytes.get() + used, asked); });
      if (n < 0) {
        return Status::from_errno(errno, "read " + path);
      }
      if (n == 0) {
        break;
      }
      used += static_cast<size_t>(n);
      // A read of a regular file returns less than asked only at its end: one that came back
      // short with at least the fstat size read has seen the end, and a further read would
      // only return 0 (one system call per index read, not two). A short read before that
      // size (the file shrank, or a file system that returns partial reads) reads on to 0.
      if (static_cast<size_t>(n) < asked && used >= expected) {
        break;
      }
    }
    return FileContents(std::move(bytes), used);
  }

  Result<WritableFilePtr> create_file(const std::string& path, uint32_t mode) override {
    int fd = retry_on_eintr([&] {
      // O_NOFOLLOW: a symlink planted at the path must not redirect the write elsewhere.
      return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                    static_cast<mode_t>(mode));
    });
    if (fd < 0) {
      return Status::from_errno(errno, "create " + path);
    }
    return WritableFilePtr(std::make_unique<PosixWritableFile>(fd, path));
  }

  Result<WritableFilePtr> create_new_file(const std::string& path, uint32_t mode) override {
    int fd = retry_on_eintr([&] {
      // O_EXCL also refuses a symbolic link at path, dangling or not.
      return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    static_cast<mode_t>(mode));
    });
    if (fd < 0) {
      if (errno == EEXIST) {
        return Status::in_use("create " + path + ": already exists");
      }
      return Status::from_errno(errno, "create " + path);
    }
    return WritableFilePtr(std::make_unique<PosixWritableFile>(fd, path));
  }

  Result<AppendableFilePtr> open_for_append(const std::string& path, uint32_t mode) override {
    int fd = retry_on_eintr([&] {
      // O_RDWR for read_at(); O_NOFOLLOW: a symlink planted at the path must not redirect the
      // write elsewhere.
      return ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                    static_cast<mode_t>(mode));
    });
    if (fd < 0) {
      return Status::from_errno(errno, "open for append " + path);
    }
    return AppendableFilePtr(std::make_unique<PosixAppendableFile>(fd, path));
  }

  Status link_file(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) {
      int err = errno;
      std::string what = "link " + from + " to " + to;
      switch (err) {
        case EEXIST:
          return Status::in_use(what + ": already exists");
        case EPERM:  // Linux: the file system does not support hard links
        case ENOTSUP:
        case ENOSYS:
        case EXDEV:
        case EMLINK:
          return Status::error(ErrorCode::kUnavailable,
                               what + ": " + std::strerror(err) + " (no hard links here)");
        default:
          return Status::from_errno(err, what);
      }
    }
    return Status::ok();
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Status::from_errno(errno, "rename " + from + " to " + to);
    }
    return Status::ok();
  }

  Status unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) {
      return Status::from_errno(errno, "unlink " + path);
    }
    return Status::ok();
  }

  Status remove_directory(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) {
      return Status::from_errno(errno, "rmdir " + path);
    }
    return Status::ok();
  }

  Result<bool> make_directory(const std::string& path, uint32_t mode) override {
    if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0) {
      if (errno == EEXIST) {
        return false;
      }
      return Status::from_errno(errno, "mkdir " + path);
    }
    return true;
  }

  Status sync_directory(const std::string& path) override {
    int fd =
        retry_on_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) {
      return Status::from_errno(errno, "open directory " + path);
    }
    Descriptor dir(fd);
    if (retry_on_eintr([&] { return ::fsync(dir.get()); }) != 0) {
      return Status::from_errno(errno, "fsync directory " + path);
    }
    return Status::ok();
  }

  Result<FileLockPtr> lock_file(const std::string& path) override {
    int fd = retry_on_eintr(
        [&] { return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600); });
    if (fd < 0) {
      return Status::from_errno(errno, "open lock " + path);
    }
    Descriptor owned(fd);
    if (retry_on_eintr([&] { return ::flock(owned.get(), LOCK_EX | LOCK_NB); }) != 0) {
      // EWOULDBLOCK maps to kInUse: another session holds this maildrop.
      return Status::from_errno(errno, "lock " + path);
    }
    return FileLockPtr(std::make_unique<PosixFileLock>(owned.release()));
  }

  int64_t now_ns() override {
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }
};

}  // namespace

FileSystem& posix_file_system() {
  static PosixFileSystem instance;
  return instance;
}

}  // namespace poplar::store::fs
