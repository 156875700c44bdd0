// POP4 folder names on the client side; see client_session_folders.h.
//
// Thread-safety: pure functions.
#include "pop3/client_session_folders.h"

#include <optional>
#include <vector>

#include "base/ascii.h"
#include "base/strict_number.h"
#include "pop3/client_session.h"
#include "pop3/client_session_impl.h"
#include "pop3/pop4_arguments.h"

namespace poplar::pop3 {
namespace {

bool is_control(char c) {
  const auto octet = static_cast<unsigned char>(c);
  return octet < 0x20 || octet == 0x7f;
}

Status bad_line(std::string_view line, std::string_view why) {
  return Status::invalid_input("bad LFLD line (" + std::string(why) +
                               "): " + sanitize_server_text(line));
}

}  // namespace

bool is_inbox(std::string_view name) { return ascii_iequals(name, "INBOX"); }

Status check_folder_name(std::string_view name) {
  if (name.empty()) {
    return Status::invalid_input("a folder name must not be empty");
  }
  if (name.size() > kMaxFolderNameOctets) {
    return Status::invalid_input("a folder name may have at most " +
                                 std::to_string(kMaxFolderNameOctets) + " octets");
  }
  for (char c : name) {
    if (is_control(c)) {
      return Status::invalid_input("a folder name must not hold control characters");
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      // POP4.md: names are ASCII unless the client has issued UTF8, which poplar fetch does not.
      return Status::invalid_input("a folder name must be ASCII");
    }
  }
  size_t start = 0;
  for (;;) {
    const size_t slash = name.find('/', start);
    const std::string_view level = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (level.empty()) {
      return Status::invalid_input(
          "a folder name must not have an empty level (\"/\" at its "
          "start or end, or \"//\")");
    }
    if (level == "." || level == "..") {
      return Status::invalid_input("a folder name must not have a level \".\" or \"..\"");
    }
    if (slash == std::string_view::npos) {
      return Status::ok();
    }
    start = slash + 1;
  }
}

std::string folder_argument(std::string_view name) { return quote_folder_name(name); }

Result<FolderListing> parse_folder_listing(std::string_view line) {
  FolderListing folder;
  size_t i = 0;
  if (!line.empty() && line.front() == '"') {
    // A quoted string: \" and \\ are the only escapes, and it must end before the counts.
    bool closed = false;
    for (i = 1; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '"') {
        closed = true;
        ++i;
        break;
      }
      if (c == '\\') {
        if (i + 1 == line.size() || (line[i + 1] != '"' && line[i + 1] != '\\')) {
          return bad_line(line, "only \\\" and \\\\ may follow a backslash in a quoted name");
        }
        ++i;
        folder.name += line[i];
        continue;
      }
      if (is_control(c)) {
        return bad_line(line, "a control character in the folder name");
      }
      folder.name += c;
    }
    if (!closed) {
      return bad_line(line, "the quoted folder name does not end");
    }
    if (i < line.size() && line[i] != ' ') {
      return bad_line(line, "no space after the quoted folder name");
    }
  } else {
    while (i < line.size() && line[i] != ' ') {
      // Octets >= 0x80 included: after UTF8 (RFC 6856) a server sends names unquoted in UTF-8.
      if (!is_folder_atom_octet(static_cast<unsigned char>(line[i]), /*utf8=*/true)) {
        return bad_line(line, "a folder name that is neither an atom nor quoted");
      }
      folder.name += line[i];
      ++i;
    }
  }
  if (folder.name.empty()) {
    return bad_line(line, "an empty folder name");
  }
  std::vector<std::string_view> counts = split_words(line.substr(i));
  if (counts.size() != 2) {
    return bad_line(line, "expected: folder messages octets");
  }
  std::optional<uint64_t> messages = parse_u64(counts[0]);
  std::optional<uint64_t> octets = parse_u64(counts[1]);
  if (!messages || !octets) {
    return bad_line(line, "the counts are not numbers");
  }
  folder.messages = *messages;
  folder.octets = *octets;
  return folder;
}

}  // namespace poplar::pop3
