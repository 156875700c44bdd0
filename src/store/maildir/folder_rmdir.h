// DirectoryRemover: rmdir(2) for the folder tree, the one OS call that fs::FileSystem does not
// offer yet. It is a seam of its own, shaped like FileSystem's methods, so that folder deletion
// is tested with injected faults like everything else; when FileSystem gains a
// remove_directory(), this file goes away (folder_tree.h says where it is used).
//
// Must never: remove anything but an empty directory (rmdir(2) semantics: never recursive).
//
// Thread-safety: the POSIX remover has no state and is safe from any thread.
#pragma once

#include <string>

#include "base/status.h"

namespace poplar::store::maildir {

class DirectoryRemover {
 public:
  virtual ~DirectoryRemover() = default;
  // rmdir(2). Errors: kNotFound (no such directory), kPermission, kTemporary (ENOTEMPTY, EIO,
  // ENOTDIR and everything else), each message naming the path.
  virtual Status remove_directory(const std::string& path) = 0;
};

// The process-wide POSIX implementation; lives forever.
DirectoryRemover& posix_directory_remover();

}  // namespace poplar::store::maildir
