// The POSIX DirectoryRemover (folder_rmdir.h).
//
// Must never: follow up a failed rmdir with anything stronger (no recursive removal).
//
// Thread-safety: stateless.
#include "store/maildir/folder_rmdir.h"

#include <unistd.h>

#include <cerrno>

namespace poplar::store::maildir {
namespace {

class PosixDirectoryRemover final : public DirectoryRemover {
 public:
  Status remove_directory(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) {
      return Status::from_errno(errno, "rmdir " + path);
    }
    return Status::ok();
  }
};

}  // namespace

DirectoryRemover& posix_directory_remover() {
  static PosixDirectoryRemover remover;
  return remover;
}

}  // namespace poplar::store::maildir
