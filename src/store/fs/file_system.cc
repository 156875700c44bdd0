// The default FileSystem::open_directory; see file_system.h.
#include "store/fs/file_system.h"

namespace poplar::store::fs {
namespace {

// Opens "path/name" through the owning FileSystem, so wrappers see every open.
class PathDirectory final : public Directory {
 public:
  PathDirectory(FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}

  Result<SequentialFilePtr> open_for_read(std::string_view name) override {
    std::string path;
    path.reserve(path_.size() + 1 + name.size());
    path += path_;
    path += '/';
    path += name;
    return fs_.open_for_read(path);
  }

 private:
  FileSystem& fs_;
  std::string path_;
};

}  // namespace

Result<DirectoryPtr> FileSystem::open_directory(const std::string& path) {
  // No check here: a missing directory shows when a file in it is opened, and wrappers that
  // count operations see no extra one.
  return DirectoryPtr(std::make_unique<PathDirectory>(*this, path));
}

}  // namespace poplar::store::fs
