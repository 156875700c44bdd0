// The crash-safe fetch state file (see fetch_state.h and docs/formats/fetch-state.md).
#include "fetch/fetch_state.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "base/strict_number.h"
#include "store/uidl_syntax.h"

namespace poplar::fetch {
namespace {

// Compacted files are written in pieces of this size, so a 100,000-UIDL state needs one small
// buffer rather than a second copy of the whole file.
constexpr size_t kWriteChunkBytes = 1 << 20;
// The state file and its directories hold what the user fetched: readable by the user only.
constexpr uint32_t kFileMode = 0600;
constexpr uint32_t kDirectoryMode = 0700;

bool is_valid_key(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

// mkdir -p for the state file's directory, syncing each parent that gained an entry.
Status make_directories(store::fs::FileSystem& fs, const std::string& dir, int depth = 0) {
  if (dir == "." || dir == "/" || depth > 64) {
    return Status::not_found("cannot create the directory " + dir);
  }
  auto made = fs.make_directory(dir, kDirectoryMode);
  if (!made.is_ok() && made.status().code() == ErrorCode::kNotFound) {
    Status parent = make_directories(fs, parent_of(dir), depth + 1);
    if (!parent.is_ok()) {
      return parent;
    }
    made = fs.make_directory(dir, kDirectoryMode);
  }
  if (!made.is_ok()) {
    return made.status();
  }
  if (*made) {
    return fs.sync_directory(parent_of(dir));
  }
  return Status::ok();
}

std::string quoted_for_message(std::string_view text) {
  constexpr size_t kMax = 120;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  out += text.size() > kMax ? "...\"" : "\"";
  return out;
}

}  // namespace

FetchState::FetchState(store::fs::FileSystem& fs, std::string path, std::string key,
                       store::fs::FileLockPtr lock)
    : fs_(&fs), path_(std::move(path)), key_(std::move(key)), lock_(std::move(lock)) {}

FetchState::FetchState(FetchState&&) noexcept = default;
FetchState& FetchState::operator=(FetchState&&) noexcept = default;
FetchState::~FetchState() = default;

Result<FetchState> FetchState::open(store::fs::FileSystem& fs, std::string path, std::string key) {
  if (!is_valid_key(key)) {
    return Status::invalid_input("fetch state key must be a canonical URL without spaces");
  }
  if (path.empty() || path.ends_with('/')) {
    return Status::invalid_input("fetch state path " + quoted_for_message(path) +
                                 " does not name a file");
  }
  const std::string lock_path = path + ".lock";
  auto lock = fs.lock_file(lock_path);
  if (!lock.is_ok() && lock.status().code() == ErrorCode::kNotFound) {
    Status made = make_directories(fs, parent_of(path));
    if (!made.is_ok()) {
      return made;
    }
    lock = fs.lock_file(lock_path);
  }
  if (!lock.is_ok()) {
    if (lock.status().code() == ErrorCode::kInUse) {
      return Status::in_use("another poplar fetch of " + key + " is running (it holds " +
                            lock_path + "); try again when it has finished");
    }
    return lock.status();
  }
  FetchState state(fs, std::move(path), std::move(key), std::move(*lock));
  auto contents = fs.read_file(state.path_, kMaxFetchStateBytes);
  if (contents.is_ok()) {
    Status parsed = parse(contents->view(), state.key_, state.path_, state.seen_);
    if (!parsed.is_ok()) {
      return parsed;
    }
  } else if (contents.status().code() != ErrorCode::kNotFound) {
    return contents.status();
  }
  Status compacted = state.compact();
  if (!compacted.is_ok()) {
    return compacted;
  }
  return state;
}

Status FetchState::parse(std::string_view text, std::string_view key, std::string_view name,
                         std::unordered_map<std::string, int64_t>& out) {
  auto corrupt = [&](size_t line, std::string_view what) {
    return Status::corrupt("fetch state file " + std::string(name) + " line " +
                           std::to_string(line) + ": " + std::string(what));
  };
  if (text.empty()) {
    return Status::ok();  // e.g. made by touch(1); Poplar itself never leaves an empty file
  }
  size_t end = text.find('\n');
  if (end == std::string_view::npos) {
    return corrupt(1, "the header line is incomplete");
  }
  std::string_view header = text.substr(0, end);
  std::string magic_and_version =
      std::string(kFetchStateMagic) + " " + std::to_string(kFetchStateVersion) + " ";
  if (!header.starts_with(kFetchStateMagic)) {
    return corrupt(
        1, "not a poplar fetch state file (no \"" + std::string(kFetchStateMagic) + "\" header)");
  }
  if (!header.starts_with(magic_and_version)) {
    return corrupt(1, "unknown format version (this Poplar reads version " +
                          std::to_string(kFetchStateVersion) + ")");
  }
  std::string_view file_key = header.substr(magic_and_version.size());
  if (!is_valid_key(file_key)) {
    return corrupt(1,
                   "the account URL in the header is empty or has spaces or control "
                   "characters");
  }
  if (file_key != key) {
    return Status::invalid_input("fetch state file " + std::string(name) + " belongs to " +
                                 quoted_for_message(file_key) + ", not to " +
                                 quoted_for_message(key) + "; name another file with --state");
  }
  out.reserve(out.size() + text.size() / 32);
  size_t line = 1;
  size_t start = end + 1;
  while (start < text.size()) {
    ++line;
    end = text.find('\n', start);
    if (end == std::string_view::npos) {
      break;  // a torn last line: the append it belongs to never returned OK
    }
    std::string_view entry = text.substr(start, end - start);
    start = end + 1;
    size_t space = entry.find(' ');
    if (space == std::string_view::npos) {
      return corrupt(line, "expected \"<unix seconds> <uidl>\"");
    }
    auto seconds = parse_u64(entry.substr(0, space));
    if (!seconds.has_value() ||
        *seconds > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return corrupt(line, "the first-seen time is not a number of seconds");
    }
    std::string_view uidl = entry.substr(space + 1);
    if (!store::is_valid_uidl(uidl)) {
      return corrupt(line, "the UIDL is not 1-70 characters of 0x21-0x7E (RFC 1939 section 7)");
    }
    auto time = static_cast<int64_t>(*seconds);
    auto [it, inserted] = out.try_emplace(std::string(uidl), time);
    if (!inserted && time < it->second) {
      it->second = time;
    }
  }
  return Status::ok();
}

std::optional<int64_t> FetchState::first_seen(std::string_view uidl) const {
  auto it = seen_.find(std::string(uidl));
  if (it == seen_.end()) {
    return std::nullopt;
  }
  return it->second;
}

Status FetchState::record(std::string_view uidl, int64_t first_seen_unix_seconds) {
  Status appended = append(uidl, first_seen_unix_seconds);
  return appended.is_ok() ? sync() : appended;
}

Status FetchState::sync() {
  if (!unsynced_) {
    return failed_ ? Status::temporary("fetch state file " + path_ +
                                       " is not written to after an earlier write error")
                   : Status::ok();
  }
  if (failed_ || file_ == nullptr) {
    return Status::temporary("fetch state file " + path_ + " could not be synced");
  }
  if (Status synced = file_->sync(); !synced.is_ok()) {
    failed_ = true;
    return Status::error(synced.code(),
                         "recording fetched messages in " + path_ + ": " + synced.message());
  }
  unsynced_ = false;
  return Status::ok();
}

Status FetchState::append(std::string_view uidl, int64_t first_seen_unix_seconds) {
  if (!store::is_valid_uidl(uidl)) {
    return Status::invalid_input("not a UIDL (RFC 1939 section 7: 1-70 characters 0x21-0x7E): " +
                                 quoted_for_message(uidl));
  }
  if (first_seen_unix_seconds < 0) {
    return Status::invalid_input("a first-seen time before 1970");
  }
  if (failed_) {
    return Status::temporary("fetch state file " + path_ +
                             " is not written to after an earlier write error");
  }
  if (file_ == nullptr) {
    return Status::temporary("fetch state file " + path_ + " is closed");
  }
  if (seen_.contains(std::string(uidl))) {
    return Status::ok();
  }
  std::string line = std::to_string(first_seen_unix_seconds);
  line += ' ';
  line += uidl;
  line += '\n';
  Status status = file_->append(line);
  if (!status.is_ok()) {
    failed_ = true;
    return Status::error(status.code(),
                         "recording a fetched message in " + path_ + ": " + status.message());
  }
  seen_.emplace(std::string(uidl), first_seen_unix_seconds);
  unsynced_ = true;
  return Status::ok();
}

size_t FetchState::forget_all_except(
    const std::function<bool(const std::string& uidl)>& on_server) {
  size_t forgotten =
      std::erase_if(seen_, [&](const auto& entry) { return !on_server(entry.first); });
  forgotten_ = forgotten_ || forgotten > 0;
  return forgotten;
}

std::string FetchState::directory() const { return parent_of(path_); }

std::string FetchState::header() const {
  return std::string(kFetchStateMagic) + " " + std::to_string(kFetchStateVersion) + " " + key_ +
         "\n";
}

Status FetchState::compact() {
  if (failed_) {
    return Status::temporary("fetch state file " + path_ +
                             " is not written to after an earlier write error");
  }
  const std::string temp_path = path_ + ".tmp";
  auto created = fs_->create_file(temp_path, kFileMode);
  if (!created.is_ok()) {
    return created.status();
  }
  store::fs::WritableFilePtr temp = std::move(*created);
  // Oldest first, so the file reads as a history; ties by UIDL, so the output is deterministic.
  std::vector<std::pair<int64_t, std::string_view>> order;
  order.reserve(seen_.size());
  for (const auto& [uidl, time] : seen_) {
    order.emplace_back(time, uidl);
  }
  std::sort(order.begin(), order.end());
  std::string buffer = header();
  Status status;
  for (const auto& [time, uidl] : order) {
    buffer += std::to_string(time);
    buffer += ' ';
    buffer += uidl;
    buffer += '\n';
    if (buffer.size() >= kWriteChunkBytes) {
      status = temp->append(buffer);
      buffer.clear();
      if (!status.is_ok()) {
        break;
      }
    }
  }
  if (status.is_ok() && !buffer.empty()) {
    status = temp->append(buffer);
  }
  if (status.is_ok()) {
    status = temp->sync();
  }
  if (status.is_ok()) {
    status = fs_->rename(temp_path, path_);
  }
  if (!status.is_ok()) {
    // The old file is untouched and still complete: it stays in use.
    (void)temp->close();
    (void)fs_->unlink(temp_path);
    return status;
  }
  // From here the new file is at path_: appending to the old one would write to an unlinked
  // inode, so the new one is used even if the directory sync fails.
  store::fs::WritableFilePtr old = std::exchange(file_, std::move(temp));
  if (old != nullptr) {
    // It has been replaced by a synced file holding every line it had, synced or not.
    (void)old->close();
  }
  status = fs_->sync_directory(directory());
  if (!status.is_ok()) {
    // A crash could bring the old name back, losing what is appended to the new file.
    failed_ = true;
    return status;
  }
  forgotten_ = false;
  unsynced_ = false;
  return Status::ok();
}

Status FetchState::close() {
  if (file_ == nullptr) {
    return Status::ok();
  }
  Status status;
  if (forgotten_ && !failed_) {
    status = compact();  // writes and syncs a whole new file
  } else if (unsynced_) {
    status = sync();
  }
  Status closed = file_->close();
  file_.reset();
  return status.is_ok() ? closed : status;
}

}  // namespace poplar::fetch
