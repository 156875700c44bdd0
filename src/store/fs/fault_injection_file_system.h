// FaultInjectionFileSystem: a test-only FileSystemWrapper that numbers every operation (also
// the reads, writes, syncs, closes, sizes, truncates and locks on the files it hands out), records
// them, and can fail operation N, every operation from N on (a dead disk, or a crash: nothing after
// N happens), or whatever a hook selects, with a chosen errno. It can also shift the clock
// (now_ns()). Built into poplar_testing_store, never into poplar_store or the server.
//
// Must never: be linked into production code; change data it forwards.
//
// Thread-safety: all methods are safe from any thread (one mutex). Files it returned must not
// outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/fs/file_system_wrapper.h"

namespace poplar::store::fs {

class FaultInjectionFileSystem : public FileSystemWrapper {
 public:
  enum class Op {
    kListDirectory,
    kStat,
    kOpenForRead,
    kReadFile,
    kCreateFile,
    kRename,
    kUnlink,
    kMakeDirectory,
    kSyncDirectory,
    kLockFile,
    kRead,    // SequentialFile::read
    kAppend,  // WritableFile::append
    kSync,    // WritableFile::sync
    kClose,   // WritableFile::close (also of an AppendableFile)
    kCreateNewFile,
    kOpenForAppend,
    kLinkFile,
    kFileSize,       // AppendableFile::size
    kTruncate,       // AppendableFile::truncate
    kReadAt,         // AppendableFile::read_at
    kLockFileRange,  // AppendableFile::lock
    kRemoveDirectory,
  };
  struct Record {
    uint64_t number;  // 1-based
    Op op;
    std::string path;
  };
  // Returns the errno to fail an operation with, or 0 to let it through.
  using Hook = std::function<int(Op op, std::string_view path)>;

  explicit FaultInjectionFileSystem(FileSystem& target) : FileSystemWrapper(target) {}

  // Fails operation number n (1-based, counted since the last reset()) with errno err.
  void fail_at(uint64_t n, int err);
  // Fails operation n and every later one with errno err.
  void fail_from(uint64_t n, int err);
  // Consulted for every operation that fail_at/fail_from let through.
  void set_hook(Hook hook);
  // Forgets faults, the hook, the counter and the record (not the clock offset).
  void reset();

  uint64_t operation_count() const;
  std::vector<Record> operations() const;
  // How many recorded operations of this kind have `path_part` in their path.
  size_t count(Op op, std::string_view path_part = "") const;
  static std::string_view op_name(Op op);

  Status list_directory(const std::string& path, DirectoryListing* out) override;
  Result<FileInfo> stat(const std::string& path) override;
  Result<SequentialFilePtr> open_for_read(const std::string& path) override;
  Result<FileContents> read_file(const std::string& path, uint64_t max_bytes) override;
  Result<WritableFilePtr> create_file(const std::string& path, uint32_t mode) override;
  Result<WritableFilePtr> create_new_file(const std::string& path, uint32_t mode) override;
  Result<AppendableFilePtr> open_for_append(const std::string& path, uint32_t mode) override;
  Status link_file(const std::string& from, const std::string& to) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status unlink(const std::string& path) override;
  Status remove_directory(const std::string& path) override;
  Result<bool> make_directory(const std::string& path, uint32_t mode) override;
  Status sync_directory(const std::string& path) override;
  Result<FileLockPtr> lock_file(const std::string& path) override;
  // Not an operation: it is neither recorded nor failed (see set_now_offset_ns).
  int64_t now_ns() override;
  // Adds this to every now_ns(), e.g. an hour so that every directory looks long settled, or
  // a negative amount so that they look just changed.
  void set_now_offset_ns(int64_t offset_ns);

  // Used by the file objects handed out: records the operation and returns the injected error
  // (a non-OK Status) or OK.
  Status begin(Op op, std::string_view path);

 private:
  mutable std::mutex mutex_;
  uint64_t counter_ = 0;
  uint64_t fail_at_ = 0;  // 0: none
  bool fail_after_ = false;
  int fail_errno_ = 0;
  int64_t now_offset_ns_ = 0;
  Hook hook_;
  std::vector<Record> record_;
};

}  // namespace poplar::store::fs
