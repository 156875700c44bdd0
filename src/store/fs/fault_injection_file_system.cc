// Test-only fault injection over a FileSystem; see fault_injection_file_system.h.
//
// Must never: be linked into production code.
//
// Thread-safety: one mutex guards the counter, the faults and the record.
#include "store/fs/fault_injection_file_system.h"

#include <memory>
#include <utility>

namespace poplar::store::fs {
namespace {

// Counts the operation (and fails it when a fault is set for it); otherwise does it.
template <typename Call>
auto guarded(FaultInjectionFileSystem& owner, FaultInjectionFileSystem::Op op,
             const std::string& path, Call call) -> decltype(call()) {
  if (Status injected = owner.begin(op, path); !injected.is_ok()) {
    return injected;
  }
  return call();
}

class CountingSequentialFile final : public SequentialFile {
 public:
  CountingSequentialFile(FaultInjectionFileSystem& owner, SequentialFilePtr file, std::string path)
      : owner_(owner), file_(std::move(file)), path_(std::move(path)) {}

  Result<size_t> read(std::span<char> out) override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kRead, path_,
                   [&] { return file_->read(out); });
  }

 private:
  FaultInjectionFileSystem& owner_;
  SequentialFilePtr file_;
  std::string path_;
};

class CountingWritableFile final : public WritableFile {
 public:
  CountingWritableFile(FaultInjectionFileSystem& owner, WritableFilePtr file, std::string path)
      : owner_(owner), file_(std::move(file)), path_(std::move(path)) {}

  Status append(std::string_view data) override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kAppend, path_,
                   [&] { return file_->append(data); });
  }
  Status sync() override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kSync, path_,
                   [&] { return file_->sync(); });
  }
  Status close() override {
    Status injected = owner_.begin(FaultInjectionFileSystem::Op::kClose, path_);
    // The descriptor is released either way, as close(2) does even when it reports an error.
    Status real = file_->close();
    return injected.is_ok() ? real : injected;
  }

 private:
  FaultInjectionFileSystem& owner_;
  WritableFilePtr file_;
  std::string path_;
};

class CountingAppendableFile final : public AppendableFile {
 public:
  CountingAppendableFile(FaultInjectionFileSystem& owner, AppendableFilePtr file, std::string path)
      : owner_(owner), file_(std::move(file)), path_(std::move(path)) {}

  Status append(std::string_view data) override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kAppend, path_,
                   [&] { return file_->append(data); });
  }
  Status sync() override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kSync, path_,
                   [&] { return file_->sync(); });
  }
  Status close() override {
    Status injected = owner_.begin(FaultInjectionFileSystem::Op::kClose, path_);
    Status real = file_->close();
    return injected.is_ok() ? real : injected;
  }
  Result<uint64_t> size() override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kFileSize, path_,
                   [&] { return file_->size(); });
  }
  Status truncate(uint64_t size_bytes) override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kTruncate, path_,
                   [&] { return file_->truncate(size_bytes); });
  }
  Result<size_t> read_at(uint64_t offset, std::span<char> out) override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kReadAt, path_,
                   [&] { return file_->read_at(offset, out); });
  }
  Status lock() override {
    return guarded(owner_, FaultInjectionFileSystem::Op::kLockFileRange, path_,
                   [&] { return file_->lock(); });
  }

 private:
  FaultInjectionFileSystem& owner_;
  AppendableFilePtr file_;
  std::string path_;
};

}  // namespace

void FaultInjectionFileSystem::fail_at(uint64_t n, int err) {
  std::lock_guard<std::mutex> guard(mutex_);
  fail_at_ = n;
  fail_after_ = false;
  fail_errno_ = err;
}

void FaultInjectionFileSystem::fail_from(uint64_t n, int err) {
  std::lock_guard<std::mutex> guard(mutex_);
  fail_at_ = n;
  fail_after_ = true;
  fail_errno_ = err;
}

void FaultInjectionFileSystem::set_hook(Hook hook) {
  std::lock_guard<std::mutex> guard(mutex_);
  hook_ = std::move(hook);
}

void FaultInjectionFileSystem::reset() {
  std::lock_guard<std::mutex> guard(mutex_);
  counter_ = 0;
  fail_at_ = 0;
  fail_after_ = false;
  fail_errno_ = 0;
  hook_ = nullptr;
  record_.clear();
}

void FaultInjectionFileSystem::set_now_offset_ns(int64_t offset_ns) {
  std::lock_guard<std::mutex> guard(mutex_);
  now_offset_ns_ = offset_ns;
}

int64_t FaultInjectionFileSystem::now_ns() {
  int64_t offset = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    offset = now_offset_ns_;
  }
  return FileSystemWrapper::now_ns() + offset;
}

uint64_t FaultInjectionFileSystem::operation_count() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return counter_;
}

std::vector<FaultInjectionFileSystem::Record> FaultInjectionFileSystem::operations() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return record_;
}

size_t FaultInjectionFileSystem::count(Op op, std::string_view path_part) const {
  std::lock_guard<std::mutex> guard(mutex_);
  size_t n = 0;
  for (const Record& r : record_) {
    if (r.op == op && r.path.find(path_part) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

std::string_view FaultInjectionFileSystem::op_name(Op op) {
  switch (op) {
    case Op::kListDirectory:
      return "list_directory";
    case Op::kStat:
      return "stat";
    case Op::kOpenForRead:
      return "open_for_read";
    case Op::kReadFile:
      return "read_file";
    case Op::kCreateFile:
      return "create_file";
    case Op::kRename:
      return "rename";
    case Op::kUnlink:
      return "unlink";
    case Op::kMakeDirectory:
      return "make_directory";
    case Op::kSyncDirectory:
      return "sync_directory";
    case Op::kLockFile:
      return "lock_file";
    case Op::kRead:
      return "read";
    case Op::kAppend:
      return "append";
    case Op::kSync:
      return "sync";
    case Op::kClose:
      return "close";
    case Op::kCreateNewFile:
      return "create_new_file";
    case Op::kOpenForAppend:
      return "open_for_append";
    case Op::kLinkFile:
      return "link_file";
    case Op::kFileSize:
      return "file_size";
    case Op::kTruncate:
      return "truncate";
    case Op::kReadAt:
      return "read_at";
    case Op::kLockFileRange:
      return "lock_file_range";
    case Op::kRemoveDirectory:
      return "remove_directory";
  }
  return "unknown";
}

Status FaultInjectionFileSystem::begin(Op op, std::string_view path) {
  Hook hook;
  int err = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    ++counter_;
    record_.push_back(Record{counter_, op, std::string(path)});
    if (fail_at_ != 0 && (counter_ == fail_at_ || (fail_after_ && counter_ > fail_at_))) {
      err = fail_errno_;
    }
    hook = hook_;
  }
  if (err == 0 && hook) {
    err = hook(op, path);
  }
  if (err != 0) {
    std::string what = "injected ";
    what += op_name(op);
    what += ' ';
    what += path;
    return Status::from_errno(err, what);
  }
  return Status::ok();
}

Status FaultInjectionFileSystem::list_directory(const std::string& path, DirectoryListing* out) {
  Status injected = begin(Op::kListDirectory, path);
  if (!injected.is_ok()) {
    out->clear();
    return injected;
  }
  return FileSystemWrapper::list_directory(path, out);
}

Result<FileInfo> FaultInjectionFileSystem::stat(const std::string& path) {
  return guarded(*this, Op::kStat, path, [&] { return FileSystemWrapper::stat(path); });
}

Result<SequentialFilePtr> FaultInjectionFileSystem::open_for_read(const std::string& path) {
  Status injected = begin(Op::kOpenForRead, path);
  if (!injected.is_ok()) {
    return injected;
  }
  Result<SequentialFilePtr> file = FileSystemWrapper::open_for_read(path);
  if (!file.is_ok()) {
    return file.status();
  }
  return SequentialFilePtr(
      std::make_unique<CountingSequentialFile>(*this, std::move(file).value(), path));
}

Result<FileContents> FaultInjectionFileSystem::read_file(const std::string& path,
                                                         uint64_t max_bytes) {
  return guarded(*this, Op::kReadFile, path,
                 [&] { return FileSystemWrapper::read_file(path, max_bytes); });
}

Result<WritableFilePtr> FaultInjectionFileSystem::create_file(const std::string& path,
                                                              uint32_t mode) {
  Status injected = begin(Op::kCreateFile, path);
  if (!injected.is_ok()) {
    return injected;
  }
  Result<WritableFilePtr> file = FileSystemWrapper::create_file(path, mode);
  if (!file.is_ok()) {
    return file.status();
  }
  return WritableFilePtr(
      std::make_unique<CountingWritableFile>(*this, std::move(file).value(), path));
}

Result<WritableFilePtr> FaultInjectionFileSystem::create_new_file(const std::string& path,
                                                                  uint32_t mode) {
  Status injected = begin(Op::kCreateNewFile, path);
  if (!injected.is_ok()) {
    return injected;
  }
  Result<WritableFilePtr> file = FileSystemWrapper::create_new_file(path, mode);
  if (!file.is_ok()) {
    return file.status();
  }
  return WritableFilePtr(
      std::make_unique<CountingWritableFile>(*this, std::move(file).value(), path));
}

Result<AppendableFilePtr> FaultInjectionFileSystem::open_for_append(const std::string& path,
                                                                    uint32_t mode) {
  Status injected = begin(Op::kOpenForAppend, path);
  if (!injected.is_ok()) {
    return injected;
  }
  Result<AppendableFilePtr> file = FileSystemWrapper::open_for_append(path, mode);
  if (!file.is_ok()) {
    return file.status();
  }
  return AppendableFilePtr(
      std::make_unique<CountingAppendableFile>(*this, std::move(file).value(), path));
}

Status FaultInjectionFileSystem::link_file(const std::string& from, const std::string& to) {
  return guarded(*this, Op::kLinkFile, from,
                 [&] { return FileSystemWrapper::link_file(from, to); });
}

Status FaultInjectionFileSystem::rename(const std::string& from, const std::string& to) {
  return guarded(*this, Op::kRename, from, [&] { return FileSystemWrapper::rename(from, to); });
}

Status FaultInjectionFileSystem::unlink(const std::string& path) {
  return guarded(*this, Op::kUnlink, path, [&] { return FileSystemWrapper::unlink(path); });
}

Status FaultInjectionFileSystem::remove_directory(const std::string& path) {
  return guarded(*this, Op::kRemoveDirectory, path,
                 [&] { return FileSystemWrapper::remove_directory(path); });
}

Result<bool> FaultInjectionFileSystem::make_directory(const std::string& path, uint32_t mode) {
  return guarded(*this, Op::kMakeDirectory, path,
                 [&] { return FileSystemWrapper::make_directory(path, mode); });
}

Status FaultInjectionFileSystem::sync_directory(const std::string& path) {
  return guarded(*this, Op::kSyncDirectory, path,
                 [&] { return FileSystemWrapper::sync_directory(path); });
}

Result<FileLockPtr> FaultInjectionFileSystem::lock_file(const std::string& path) {
  return guarded(*this, Op::kLockFile, path, [&] { return FileSystemWrapper::lock_file(path); });
}

}  // namespace poplar::store::fs
