// Maildir++ directory names of folders (folder_name.h); the wire rules themselves are
// store/folder_name_rules.cc.
//
// Must never: read past its input, or accept a directory name it cannot give back unchanged.
//
// Thread-safety: pure functions.
#include "store/maildir/folder_name.h"

#include <utility>

namespace poplar::store::maildir {

Result<FolderName> parse_folder_name(std::string_view wire_name) {
  Result<CheckedFolderName> checked = check_folder_name(wire_name);
  if (!checked.is_ok()) {
    return checked.status();
  }
  FolderName name{std::move(checked->wire), std::string(), checked->levels};
  if (checked->inbox) {
    return name;
  }
  // check_folder_name() counted this very form against kMaxFolderDirectoryOctets.
  std::string_view rest = name.wire;
  for (;;) {
    const size_t slash = rest.find(kWireSeparator);
    name.directory.push_back(kDiskSeparator);
    name.directory.append(encode_modified_utf7(rest.substr(0, slash)));
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  return name;
}

Result<FolderName> parse_folder_directory(std::string_view directory_name) {
  if (directory_name.size() < 2 || directory_name.front() != kDiskSeparator) {
    return Status::invalid_input("not a Maildir++ folder directory (\".Name\")");
  }
  if (directory_name.size() > kMaxFolderDirectoryOctets) {
    return Status::invalid_input("folder directory name too long");
  }
  std::string wire;
  for (size_t start = 1;;) {
    const size_t dot = directory_name.find(kDiskSeparator, start);
    const std::string_view level = directory_name.substr(start, dot - start);
    if (level.empty()) {
      return Status::invalid_input("folder directory name has an empty level");
    }
    Result<std::string> decoded = decode_modified_utf7(level);
    if (!decoded.is_ok()) {
      return decoded.status();
    }
    if (!wire.empty()) {
      wire.push_back(kWireSeparator);
    }
    wire.append(*decoded);
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  Result<FolderName> name = parse_folder_name(wire);
  if (!name.is_ok()) {
    return name.status();
  }
  // Only the one spelling parse_folder_name() produces names a folder (".INBOX" does not:
  // it decodes to the root; neither does non-canonical modified UTF-7).
  if (name->directory != directory_name) {
    return Status::invalid_input("folder directory name is not in canonical form");
  }
  return name;
}

}  // namespace poplar::store::maildir
