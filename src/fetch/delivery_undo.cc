// Undoing unrecorded deliveries; see delivery_undo.h.
#include "fetch/delivery_undo.h"

#include <array>
#include <memory>
#include <optional>

#include "base/strict_number.h"
#include "store/mbox/mbox_lock.h"

namespace poplar::fetch {
namespace {

// Another writer holds an mbox only while it appends; the run is already failing, so it waits
// less than a delivery would (MboxOptions::lock_wait_ms is 5 s).
constexpr int64_t kUndoLockWaitMs = 2000;
constexpr std::string_view kFromLine = "From ";

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Counts mboxrd messages (lines starting with "From ") from `offset` to the end; false when
// the bytes at `offset` are not a "From " line.
Result<size_t> count_messages_from(store::fs::AppendableFile& file, uint64_t offset, uint64_t end) {
  std::array<char, 64 * 1024> buffer;
  size_t count = 0;
  // How much of "From " the current line has matched so far; npos: not a From_ line.
  size_t matched = 0;
  bool first = true;
  for (uint64_t at = offset; at < end;) {
    Result<size_t> n = file.read_at(at, buffer);
    if (!n.is_ok()) {
      return n.status();
    }
    if (*n == 0) {
      break;
    }
    for (size_t i = 0; i < *n; ++i) {
      const char c = buffer[i];
      if (matched != std::string_view::npos && matched < kFromLine.size()) {
        matched = c == kFromLine[matched] ? matched + 1 : std::string_view::npos;
        if (matched == kFromLine.size()) {
          ++count;
        } else if (matched == std::string_view::npos && first) {
          return Status::error(ErrorCode::kPermanent, "no From_ line at the offset");
        }
      }
      if (c == '\n') {
        matched = 0;
        first = false;
      }
    }
    at += *n;
  }
  return count;
}

}  // namespace

Status undo_maildir_delivery(store::fs::FileSystem& fs, const std::string& file_path) {
  Status removed = fs.unlink(file_path);
  if (!removed.is_ok() && removed.code() != ErrorCode::kNotFound) {
    return removed;
  }
  // Without this a crash could bring the name back: a duplicate, never a loss.
  return fs.sync_directory(directory_of(file_path));
}

Result<uint64_t> mbox_offset_of(const std::string& committed_where) {
  size_t at = committed_where.rfind('@');
  std::optional<uint64_t> offset;
  if (at != std::string::npos) {
    offset = parse_u64(std::string_view(committed_where).substr(at + 1));
  }
  if (!offset) {
    return Status::invalid_input("not an mbox delivery: " + committed_where);
  }
  return *offset;
}

Status undo_mbox_deliveries(store::fs::FileSystem& fs, const std::string& mbox_path,
                            uint64_t offset, size_t messages) {
  auto lock = store::mbox::MboxLock::take(fs, mbox_path, kUndoLockWaitMs);
  if (!lock.is_ok()) {
    return lock.status();
  }
  store::fs::AppendableFile& file = (*lock)->file();
  Result<uint64_t> size = file.size();
  Status status = size.status();
  if (status.is_ok() && *size < offset) {
    status = Status::error(ErrorCode::kPermanent, "the mbox is shorter than before");
  }
  if (status.is_ok()) {
    Result<size_t> found = count_messages_from(file, offset, *size);
    status = found.status();
    if (status.is_ok() && *found != messages) {
      status = Status::error(ErrorCode::kPermanent,
                             "other messages were appended after them; left in place");
    }
  }
  if (status.is_ok()) {
    status = file.truncate(offset);
  }
  if (status.is_ok()) {
    status = file.sync();
  }
  Status released = (*lock)->release();
  return status.is_ok() ? released : status;
}

}  // namespace poplar::fetch
