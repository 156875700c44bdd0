// FileSystem: the seam between the store backends and the operating system (LevelDB's Env).
// Every OS call a backend makes (list a directory, stat, open, read, write, fsync, rename, link,
// unlink, mkdir, lock, truncate) goes through this interface, so tests can wrap it
// (fs/file_system_wrapper.h) to count operations or to fail the Nth one with EIO, ENOSPC,
// EACCES or ENOENT, and check that no message is lost.
//
// Must never: throw, abort on an OS error, or hide an errno. Every failure is a Status built
// with Status::from_errno (ENOENT → kNotFound, EACCES → kPermission, EWOULDBLOCK → kInUse,
// everything else → kTemporary), whose message names the operation and the path.
//
// Thread-safety: FileSystem implementations are safe to call from any thread concurrently.
// The objects they return (SequentialFile, WritableFile, FileLock) are used by one thread at a
// time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace poplar::store::fs {

// What a directory entry or a stat() says a path is. kUnknown comes from file systems whose
// readdir() does not report a type (DT_UNKNOWN): the caller must stat() to find out.
enum class FileType : uint8_t {
  kUnknown,
  kRegular,
  kDirectory,
  kSymlink,  // only from list_directory(); stat() follows links
  kOther,    // FIFO, socket, device
};

struct FileInfo {
  FileType type = FileType::kUnknown;
  uint64_t size_bytes = 0;
  // The identity and change times of the inode (st_dev, st_ino, st_mtim, st_ctim), in
  // nanoseconds since the epoch. A Maildir compares them for its directories to learn whether
  // a listing it recorded is still the directory's content (docs/formats/maildir.md).
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
};

// Frees the block of a FileContents the way it was allocated: delete[] unless `release` is set
// (a FileSystem may map big blocks itself, see posix_file_system.cc).
struct FileBytesDeleter {
  void (*release)(char* bytes, size_t capacity) = nullptr;
  size_t capacity = 0;
  void operator()(char* bytes) const {
    if (release != nullptr) {
      release(bytes, capacity);
    } else {
      delete[] bytes;
    }
  }
};
using FileBytes = std::unique_ptr<char[], FileBytesDeleter>;

// A whole file read into one block. Only the first size() bytes are meaningful (the block may
// be larger); nothing in it is initialised beyond what was read. Moving it keeps the block in
// place, so views into it stay valid.
class FileContents {
 public:
  FileContents() = default;
  FileContents(FileBytes bytes, size_t size) : bytes_(std::move(bytes)), size_(size) {}
  // A copy of `text`, for tests and for callers that hold bytes already.
  static FileContents copy_of(std::string_view text) {
    FileBytes bytes(
        std::make_unique_for_overwrite<char[]>(text.empty() ? 1 : text.size()).release());
    std::copy(text.begin(), text.end(), bytes.get());
    return FileContents(std::move(bytes), text.size());
  }
  char* data() { return bytes_.get(); }
  const char* data() const { return bytes_.get(); }
  size_t size() const { return size_; }
  std::string_view view() const { return std::string_view(bytes_.get(), size_); }
  // The octets of a block mapped outside the heap (0 for a heap block), e.g. for a benchmark
  // that counts what an open maildrop holds.
  size_t mapped_octets() const {
    return bytes_.get_deleter().release != nullptr ? bytes_.get_deleter().capacity : 0;
  }

 private:
  FileBytes bytes_;
  size_t size_ = 0;
};

// The names in one directory, without "." and "..", in readdir() order. All names live in one
// string, so listing 100,000 entries costs a handful of allocations, not 100,000, and a store
// may keep the listing itself as the storage of its file names (see names() and offset()).
class DirectoryListing {
 public:
  void clear() {
    names_.clear();
    entries_.clear();
  }
  // Room for `entries` names of `name_octets` in all, so that listing a big directory does
  // not copy its names again each time the storage doubles.
  void reserve(size_t name_octets, size_t entries) {
    names_.reserve(name_octets);
    entries_.reserve(entries);
  }
  // Returns false (adding nothing) when the name is longer than 65535 octets or the listing
  // would exceed 4 GiB of names; real directories never get there.
  bool add(std::string_view name, FileType type) {
    if (name.size() > UINT16_MAX || names_.size() + name.size() > UINT32_MAX) {
      return false;
    }
    entries_.push_back(
        Entry{static_cast<uint32_t>(names_.size()), static_cast<uint16_t>(name.size()), type});
    names_.append(name);
    return true;
  }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // REQUIRES: i < size(). The view is valid until the next add() or clear().
  std::string_view name(size_t i) const {
    return std::string_view(names_).substr(entries_[i].offset, entries_[i].length);
  }
  FileType type(size_t i) const { return entries_[i].type; }
  // Where name(i) starts in names().
  uint32_t offset(size_t i) const { return entries_[i].offset; }
  // Every name, back to back.
  std::string_view names() const { return names_; }
  // Hands over the storage of names() (offsets stay valid in it) and empties the listing, so a
  // store can keep the names of its snapshot without the per-entry table.
  std::string take_names() {
    std::string names = std::move(names_);
    clear();
    return names;
  }

 private:
  struct Entry {  // 8 bytes: a listing of 100,000 names costs 800 KB besides the names
    uint32_t offset;
    uint16_t length;
    FileType type;
  };
  std::string names_;
  std::vector<Entry> entries_;
};

// A file opened for reading from its start to its end.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to out.size() bytes; returns how many, 0 at the end of the file.
  // Errors: kTemporary (EIO and the like).
  virtual Result<size_t> read(std::span<char> out) = 0;
};
using SequentialFilePtr = std::unique_ptr<SequentialFile>;

// A directory held open so that files in it are opened by name, without walking the whole path
// again: with a deep mail path, a RETR's open(2) spent more time in the path walk than in the
// open (openat(2) on a held descriptor looks up one name).
class Directory {
 public:
  virtual ~Directory() = default;
  // Opens the file `name` (one path component) in this directory for reading.
  // Errors: as FileSystem::open_for_read.
  virtual Result<SequentialFilePtr> open_for_read(std::string_view name) = 0;
};
using DirectoryPtr = std::unique_ptr<Directory>;

// A newly created file. Nothing is durable until sync() returned OK; close() reports errors
// that a plain destructor would swallow (a destructor of an unclosed file closes it silently).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of data (retrying short writes). Errors: kTemporary (ENOSPC, EIO, EDQUOT).
  virtual Status append(std::string_view data) = 0;
  // fsync(2). Errors: kTemporary.
  virtual Status sync() = 0;
  // close(2). Further calls are not allowed. Errors: kTemporary.
  virtual Status close() = 0;
};
using WritableFilePtr = std::unique_ptr<WritableFile>;

// An existing or new file opened for appending (an mbox): every append() goes to the current end
// of the file, whoever else wrote there. size() and truncate() let a writer remember where it
// started and cut back to there, so a failed or abandoned append leaves no half message.
// close() (or destruction) releases a lock taken with lock().
class AppendableFile : public WritableFile {
 public:
  // fstat(2): the current size. Errors: kTemporary.
  virtual Result<uint64_t> size() = 0;
  // ftruncate(2) to size_bytes (<= size()). Errors: kTemporary.
  virtual Status truncate(uint64_t size_bytes) = 0;
  // pread(2): reads up to out.size() bytes at offset; returns how many (0 at or past the end).
  // Errors: kTemporary.
  virtual Result<size_t> read_at(uint64_t offset, std::span<char> out) = 0;
  // Takes an exclusive, non-blocking write lock on the whole file with fcntl(2) (an
  // open-file-description lock, F_OFD_SETLK): it conflicts with the POSIX record locks
  // (F_SETLK) that mail readers and MDAs take on an mbox (mutt, procmail, Dovecot), and also with
  // every other AppendableFile of this process that locks the same file. Held until close() or
  // destruction. Errors: kInUse (someone holds a conflicting lock), kTemporary.
  virtual Status lock() = 0;
};
using AppendableFilePtr = std::unique_ptr<AppendableFile>;

// An exclusive lock held on a file; destroying the object releases it.
class FileLock {
 public:
  virtual ~FileLock() = default;
};
using FileLockPtr = std::unique_ptr<FileLock>;

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Replaces *out with the entries of the directory at path. Errors: kNotFound (no such
  // directory, or not a directory), kPermission, kTemporary.
  virtual Status list_directory(const std::string& path, DirectoryListing* out) = 0;

  // stat(2), following symbolic links. Errors: kNotFound, kPermission, kTemporary.
  virtual Result<FileInfo> stat(const std::string& path) = 0;

  // Opens an existing file for reading. Errors: kNotFound, kPermission, kTemporary.
  virtual Result<SequentialFilePtr> open_for_read(const std::string& path) = 0;

  // Opens the directory at path for opening files in it by name (see Directory). The default
  // remembers the path and opens "path/name" through this FileSystem's open_for_read, so a
  // wrapper that counts or fails opens sees every one; the POSIX file system holds a
  // descriptor instead. The FileSystem must outlive the Directory.
  // Errors (POSIX; the default never fails, its errors show when a file is opened): kNotFound,
  // kPermission, kTemporary.
  virtual Result<DirectoryPtr> open_directory(const std::string& path);

  // Reads a whole file at once: one buffer sized from fstat(2), filled by as few reads as the
  // kernel allows (normally one: a read that returns the fstat size into a buffer one byte
  // larger has met the end of the file, so no read is made to see it). For small files read
  // in one go (an index); messages are streamed with open_for_read(). Errors: kLimit (larger
  // than max_bytes), kNotFound, kPermission, kTemporary.
  virtual Result<FileContents> read_file(const std::string& path, uint64_t max_bytes) = 0;

  // Creates (or truncates) a file for writing with the given permission bits. Never follows a
  // symbolic link at `path` (that is an error, kTemporary).
  // Errors: kNotFound (no parent directory), kPermission, kTemporary.
  virtual Result<WritableFilePtr> create_file(const std::string& path, uint32_t mode) = 0;

  // Creates a file that must not exist yet (O_CREAT | O_EXCL; a symbolic link at path counts as
  // existing and is never followed), for writing, with the given permission bits. For names
  // that must be unique (a Maildir tmp/ file) and for dotlocks.
  // Errors: kInUse (something already exists at path), kNotFound (no parent directory),
  // kPermission, kTemporary.
  virtual Result<WritableFilePtr> create_new_file(const std::string& path, uint32_t mode) = 0;

  // Opens the file at path for appending (and for read_at), creating it with the given
  // permission bits if it is missing. Never follows a symbolic link at path (that is an error,
  // kTemporary). Errors: kNotFound (no parent directory), kPermission, kTemporary.
  virtual Result<AppendableFilePtr> open_for_append(const std::string& path, uint32_t mode) = 0;

  // link(2): gives the file at `from` the second name `to`, and never replaces an existing `to`
  // (unlike rename). Errors: kInUse (something already exists at `to`), kUnavailable (the file
  // system has no hard links: EPERM, ENOTSUP, ENOSYS, EXDEV, EMLINK), kNotFound, kPermission
  // (EACCES), kTemporary.
  virtual Status link_file(const std::string& from, const std::string& to) = 0;

  // rename(2): atomically replaces `to`. Errors: kNotFound, kPermission, kTemporary.
  virtual Status rename(const std::string& from, const std::string& to) = 0;

  // unlink(2). Errors: kNotFound (already gone), kPermission, kTemporary.
  virtual Status unlink(const std::string& path) = 0;

  // rmdir(2): removes an empty directory and never anything else (never recursive; a directory
  // that is not empty stays as it is). Errors: kNotFound (no such directory; ENOTDIR too),
  // kPermission, kTemporary (ENOTEMPTY, EBUSY, EIO and everything else).
  virtual Status remove_directory(const std::string& path) = 0;

  // mkdir(2). Returns true when it created the directory, false when something already existed
  // at path (EEXIST: the caller finds out what it is when it uses it).
  // Errors: kNotFound (no parent), kPermission, kTemporary.
  virtual Result<bool> make_directory(const std::string& path, uint32_t mode) = 0;

  // fsync(2) on a directory, so that names created, renamed or unlinked in it are durable.
  // Errors: kNotFound, kPermission, kTemporary.
  virtual Status sync_directory(const std::string& path) = 0;

  // Opens (creating it with mode 0600 if needed, never through a symbolic link) the file at
  // path and takes an exclusive, non-blocking flock(2) on it. Each call opens the file afresh,
  // so the lock conflicts with every other holder: other processes AND other callers in this
  // process.
  // Errors: kInUse (someone holds the lock), kNotFound (no parent directory), kPermission,
  // kTemporary.
  virtual Result<FileLockPtr> lock_file(const std::string& path) = 0;

  // The wall-clock time (CLOCK_REALTIME) in nanoseconds since the epoch: what the file system
  // stamps, up to its granularity, on a change made now. Tests fake it to make a directory
  // look recently changed or long settled.
  virtual int64_t now_ns() = 0;
};

// The process-wide POSIX implementation. It has no state, so it lives forever and may be
// shared by every store and every thread.
FileSystem& posix_file_system();

}  // namespace poplar::store::fs
