// FileSystemWrapper: a FileSystem that forwards every call to another one (LevelDB's
// EnvWrapper). Tests subclass it and override only what they need: count operations, fail the
// Nth one, or make a file vanish at the right moment.
//
// Must never: add behaviour of its own; it is a pure pass-through.
//
// Thread-safety: as thread-safe as the wrapped FileSystem.
#pragma once

#include <string>

#include "store/fs/file_system.h"

namespace poplar::store::fs {

class FileSystemWrapper : public FileSystem {
 public:
  // `target` must outlive the wrapper.
  explicit FileSystemWrapper(FileSystem& target) : target_(target) {}

  FileSystem& target() const { return target_; }

  Status list_directory(const std::string& path, DirectoryListing* out) override {
    return target_.list_directory(path, out);
  }
  Result<FileInfo> stat(const std::string& path) override { return target_.stat(path); }
  Result<SequentialFilePtr> open_for_read(const std::string& path) override {
    return target_.open_for_read(path);
  }
  // open_directory() is deliberately not forwarded: the default Directory opens files through
  // this wrapper's open_for_read(), so a subclass that overrides it sees those opens too.
  Result<FileContents> read_file(const std::string& path, uint64_t max_bytes) override {
    return target_.read_file(path, max_bytes);
  }
  Result<WritableFilePtr> create_file(const std::string& path, uint32_t mode) override {
    return target_.create_file(path, mode);
  }
  Result<WritableFilePtr> create_new_file(const std::string& path, uint32_t mode) override {
    return target_.create_new_file(path, mode);
  }
  Result<AppendableFilePtr> open_for_append(const std::string& path, uint32_t mode) override {
    return target_.open_for_append(path, mode);
  }
  Status link_file(const std::string& from, const std::string& to) override {
    return target_.link_file(from, to);
  }
  Status rename(const std::string& from, const std::string& to) override {
    return target_.rename(from, to);
  }
  Status unlink(const std::string& path) override { return target_.unlink(path); }
  Status remove_directory(const std::string& path) override {
    return target_.remove_directory(path);
  }
  Result<bool> make_directory(const std::string& path, uint32_t mode) override {
    return target_.make_directory(path, mode);
  }
  Status sync_directory(const std::string& path) override { return target_.sync_directory(path); }
  Result<FileLockPtr> lock_file(const std::string& path) override {
    return target_.lock_file(path);
  }
  int64_t now_ns() override { return target_.now_ns(); }

 private:
  FileSystem& target_;
};

}  // namespace poplar::store::fs
