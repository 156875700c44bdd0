// Fuzzes folder names (store/maildir/folder_name.h) from both sides. The input is taken as a
// wire name and as a directory entry of a Maildir root, both untrusted:
//  - an accepted wire name has a directory that starts with '.', has no '/' or NUL, fits
//    NAME_MAX, has as many levels as the name, and parses back to the same canonical name;
//  - an accepted directory name is exactly what its wire name encodes to (one spelling per
//    folder);
//  - modified UTF-7 that decodes re-encodes to the same text, and decoding never crashes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/maildir/folder_name.h"

namespace {

using poplar::Result;
using poplar::store::maildir::decode_modified_utf7;
using poplar::store::maildir::encode_modified_utf7;
using poplar::store::maildir::FolderName;
using poplar::store::maildir::kMaxFolderDirectoryOctets;
using poplar::store::maildir::kMaxFolderLevels;
using poplar::store::maildir::parse_folder_directory;
using poplar::store::maildir::parse_folder_name;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_folder_name: %s\n", what);
  std::abort();
}

void check_wire(std::string_view input) {
  Result<FolderName> name = parse_folder_name(input);
  if (!name.is_ok()) {
    if (name.status().code() != poplar::ErrorCode::kInvalidInput) {
      fail("a refusal that is not kInvalidInput");
    }
    return;
  }
  if (name->is_inbox()) {
    if (name->wire != "INBOX" || name->levels != 1) {
      fail("INBOX not canonical");
    }
    return;
  }
  const std::string& dir = name->directory;
  if (name->wire != input) {
    fail("a wire name changed");
  }
  if (dir.size() < 2 || dir.front() != '.' || dir.size() > kMaxFolderDirectoryOctets ||
      dir.find('/') != std::string::npos || dir.find('\0') != std::string::npos ||
      dir.find("..") != std::string::npos || dir.back() == '.') {
    fail("a directory name that could leave the root or is malformed");
  }
  size_t dots = 0;
  for (char c : dir) {
    dots += c == '.' ? 1 : 0;
  }
  if (dots != name->levels || name->levels > kMaxFolderLevels) {
    fail("levels do not match the directory");
  }
  Result<FolderName> back = parse_folder_directory(dir);
  if (!back.is_ok() || back->wire != name->wire || back->directory != dir) {
    fail("wire -> directory -> wire is not the identity");
  }
}

void check_directory(std::string_view input) {
  Result<FolderName> name = parse_folder_directory(input);
  if (!name.is_ok()) {
    return;
  }
  Result<FolderName> again = parse_folder_name(name->wire);
  if (!again.is_ok() || again->directory != input) {
    fail("directory -> wire -> directory is not the identity");
  }
}

void check_utf7(std::string_view input) {
  Result<std::string> decoded = decode_modified_utf7(input);
  if (decoded.is_ok() && encode_modified_utf7(*decoded) != input) {
    fail("modified UTF-7 with two spellings");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_wire(input);
  check_directory(input);
  check_utf7(input);
  return 0;
}
