// Conformance backends; see backends.h.
//
// Must never: use a backend's private API.
//
// Thread-safety: one thread.
#include "backends.h"

#include <cstdlib>
#include <filesystem>

#include "store/maildir/index_file.h"

namespace poplar::conformance {

std::string MaildirBackend::new_location() {
  // Not created here: opening must create a missing Maildir for a new user.
  return (dir_.path() / ("Maildir" + std::to_string(++locations_))).string();
}

testing::MaildirBuilder& MaildirBackend::builder(const std::string& location) {
  for (auto& b : builders_) {
    if (b->path() == location) {
      return *b;
    }
  }
  builders_.push_back(std::make_unique<testing::MaildirBuilder>(location));
  return *builders_.back();
}

void MaildirBackend::deliver(const std::string& location, std::string_view bytes) {
  builder(location).add(
      testing::MaildirBuilder::Message{.bytes = std::string(bytes), .size_fields = size_fields()});
}

void MaildirBackend::remove_behind_the_back(const std::string& location, const std::string& uidl) {
  // Generated base names are valid UIDLs, so the UIDL names the file.
  for (const char* sub : {"new", "cur"}) {
    for (const auto& entry : std::filesystem::directory_iterator(location + "/" + sub)) {
      std::string name = entry.path().filename().string();
      if (name.substr(0, name.find(':')) == uidl) {
        std::filesystem::remove(entry.path());
        return;
      }
    }
  }
  std::abort();  // the test asked to remove a message that does not exist
}

void MaildirBackend::lose_caches(const std::string& location) {
  std::filesystem::remove(location + "/" + std::string(store::maildir::kIndexFileName));
}

}  // namespace poplar::conformance
