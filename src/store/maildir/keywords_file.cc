// Reading and writing the Maildir keywords file; see keywords_file.h.
//
// Must never: renumber or drop a mapping that was read; follow a symbolic link when writing.
//
// Thread-safety: see keywords_file.h.
#include "store/maildir/keywords_file.h"

#include "base/ascii.h"
#include "base/strict_number.h"
#include "store/message_flags.h"

namespace poplar::store::maildir {

KeywordTable KeywordTable::parse(std::string_view text) {
  KeywordTable table;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      continue;
    }
    std::optional<uint64_t> number = parse_u64(line.substr(0, space));
    if (!number || *number >= kMaxKeywords || table.reserved_[*number]) {
      continue;  // not a line at all, or a letter seen before
    }
    table.reserved_[*number] = true;
    std::string_view name = line.substr(space + 1);
    if (!is_keyword_atom(name) || table.letter_of(name)) {
      table.kept_[*number] = std::string(line);  // its letter reads as unknown but stays taken
      continue;
    }
    table.names_[*number] = std::string(name);
  }
  return table;
}

std::string_view KeywordTable::keyword(char letter) const {
  if (letter < 'a' || letter > 'z') {
    return {};
  }
  return names_[static_cast<size_t>(letter - 'a')];
}

std::optional<char> KeywordTable::letter_of(std::string_view keyword) const {
  for (size_t i = 0; i < kMaxKeywords; ++i) {
    if (!names_[i].empty() && ascii_iequals(names_[i], keyword)) {
      return static_cast<char>('a' + i);
    }
  }
  return std::nullopt;
}

Result<char> KeywordTable::add(std::string_view keyword) {
  if (std::optional<char> letter = letter_of(keyword)) {
    return *letter;
  }
  for (size_t i = 0; i < kMaxKeywords; ++i) {
    if (!reserved_[i]) {
      reserved_[i] = true;
      names_[i] = std::string(keyword);
      changed_ = true;
      return static_cast<char>('a' + i);
    }
  }
  return Status::error(ErrorCode::kLimit,
                       "a Maildir holds at most " + std::to_string(kMaxKeywords) +
                           " keywords; no letter is left for " + std::string(keyword));
}

void KeywordTable::reserve(char letter) {
  if (letter >= 'a' && letter <= 'z') {
    reserved_[static_cast<size_t>(letter - 'a')] = true;
  }
}

std::string KeywordTable::format() const {
  // Usable keywords first: a kept line may name one of them again (in another case), and a
  // reader takes the first line of a keyword, so this order reads back the same mapping.
  std::string out;
  for (size_t i = 0; i < kMaxKeywords; ++i) {
    if (!names_[i].empty()) {
      out += std::to_string(i);
      out += ' ';
      out += names_[i];
      out += '\n';
    }
  }
  for (const std::string& line : kept_) {
    if (!line.empty()) {
      out += line;
      out += '\n';
    }
  }
  return out;
}

Result<KeywordTable> read_keywords_file(fs::FileSystem& fs, const std::string& maildir) {
  Result<fs::FileContents> contents =
      fs.read_file(maildir + "/" + std::string(kKeywordsFileName), kMaxKeywordsFileBytes);
  if (contents.status().code() == ErrorCode::kNotFound) {
    return KeywordTable{};
  }
  if (!contents.is_ok()) {
    return contents.status();
  }
  return KeywordTable::parse(contents->view());
}

namespace {

// Creates the dotlock, removing it once when it is a leftover older than kStaleLockSeconds.
Result<fs::WritableFilePtr> create_lock(fs::FileSystem& fs, const std::string& lock_path) {
  Result<fs::WritableFilePtr> file = fs.create_new_file(lock_path, 0600);
  if (file.status().code() != ErrorCode::kInUse) {
    return file;
  }
  Result<fs::FileInfo> info = fs.stat(lock_path);
  if (info.is_ok() && fs.now_ns() - info->mtime_ns > kStaleLockSeconds * 1'000'000'000) {
    Status removed = fs.unlink(lock_path);
    if (removed.is_ok() || removed.code() == ErrorCode::kNotFound) {
      file = fs.create_new_file(lock_path, 0600);
    }
  }
  if (file.status().code() == ErrorCode::kInUse) {
    return Status::temporary(lock_path + ": another program is updating the keywords");
  }
  return file;
}

}  // namespace

Status write_keywords_file(fs::FileSystem& fs, const std::string& maildir,
                           const KeywordTable& table) {
  const std::string lock_path = maildir + "/" + std::string(kKeywordsLockFileName);
  Result<fs::WritableFilePtr> file = create_lock(fs, lock_path);
  if (!file.is_ok()) {
    return file.status();
  }
  Status status = (*file)->append(table.format());
  if (status.is_ok()) {
    status = (*file)->sync();
  }
  Status closed = (*file)->close();
  if (status.is_ok()) {
    status = closed;
  }
  if (status.is_ok()) {
    status = fs.rename(lock_path, maildir + "/" + std::string(kKeywordsFileName));
  }
  if (!status.is_ok()) {
    (void)fs.unlink(lock_path);  // best effort: a leftover only delays writers until stale
    return status;
  }
  // The renames of messages that use the new letters come after this: the mapping must be on
  // disk before any name that needs it.
  return fs.sync_directory(maildir);
}

}  // namespace poplar::store::maildir
