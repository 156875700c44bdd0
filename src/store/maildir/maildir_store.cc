// MaildirStore::open_maildrop: normalizes the location and hands over to MaildirMaildrop.
//
// Must never: keep state between calls (the store is shared by every session).
//
// Thread-safety: safe from any thread.
#include "store/maildir/maildir_store.h"

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

}  // namespace poplar::store::maildir
