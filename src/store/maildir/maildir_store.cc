// MaildirStore::open_maildrop: normalizes the location and hands over to MaildirMaildrop.
//
// Must never: keep state between calls (the store is shared by every session).
//
// Thread-safety: safe from any thread.
#include "store/maildir/maildir_store.h"

#include "store/maildir/index_file.h"
#include "store/maildir/maildir_maildrop.h"

namespace poplar::store::maildir {

Result<MaildropPtr> MaildirStore::open_maildrop(const std::string& location) {
  std::string root = location;
  while (root.size() > 1 && root.back() == '/') {
    root.pop_back();
  }
  if (root.empty()) {
    return Status::invalid_input("empty Maildir location");
  }
  return MaildirMaildrop::open(fs_, std::move(root));
}

bool MaildirStore::open_is_cheap(const std::string& location) {
  Result<fs::FileInfo> index = fs_.stat(location + "/" + std::string(kIndexFileName));
  if (!index.is_ok() || index->type != fs::FileType::kRegular ||
      index->size_bytes >= kCheapIndexOctets) {
    return false;
  }
  // Deliveries since the index was written may mean reading many new bodies: not cheap.
  Result<fs::FileInfo> fresh = fs_.stat(location + "/new");
  return fresh.is_ok() && fresh->mtime_ns <= index->mtime_ns;
}

}  // namespace poplar::store::maildir
