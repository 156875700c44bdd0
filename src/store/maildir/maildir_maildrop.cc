// Opening, reading and updating one Maildir; see maildir_maildrop.h and maildir_store.h.
//
// Error policy for a single message file (peer-independent, but outside our control):
//   - it vanished (ENOENT) between readdir and use: it is no longer in the maildrop; skip it;
//   - the OS refuses to read it (EACCES/EPERM): only an admin can fix that, and it must not lock
//     the user out of the rest of the mail; skip it with a warning (it is retried next login);
//   - anything else (EIO, EMFILE, ENOMEM…) may go away: fail the open with kTemporary.
// The index file is a cache: every error reading or writing it is a warning, never a failure.
//
// Must never: remove a file that was not asked for; read a body whose size is known.
//
// Thread-safety: one thread at a time.
#include "store/maildir/maildir_maildrop.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "base/log.h"
#include "store/crlf_size.h"
#include "store/maildir/file_message_reader.h"
#include "store/maildir/file_name.h"
#include "store/maildir/index_file.h"
#include "store/maildir/maildir_store.h"
#include "store/maildir/uidl.h"

namespace poplar::store::maildir {
namespace {

constexpr std::string_view kSubdirNames[2] = {"new", "cur"};
// Mail is private to its owner (Maildir convention; Dovecot and Postfix do the same).
constexpr uint32_t kDirectoryMode = 0700;

enum class SizeSource : uint8_t { kUnknown, kNameField, kIndex, kScanned };

bool is_skippable(const Status& status) {
  return status.code() == ErrorCode::kNotFound || status.code() == ErrorCode::kPermission;
}

// Reads a whole file once to count its CRLF size. `buffer` is reused across files.
Result<uint64_t> scan_size(fs::FileSystem& fs, const std::string& path,
                           std::unique_ptr<char[]>& buffer) {
  Result<fs::SequentialFilePtr> file = fs.open_for_read(path);
  if (!file.is_ok()) {
    return file.status();
  }
  if (!buffer) {
    buffer = std::make_unique<char[]>(kReadBlockBytes);
  }
  CrlfSizeCounter counter;
  for (;;) {
    Result<size_t> n = (*file)->read(std::span<char>(buffer.get(), kReadBlockBytes));
    if (!n.is_ok()) {
      return n.status();
    }
    if (*n == 0) {
      break;
    }
    counter.update(std::string_view(buffer.get(), *n));
  }
  return counter.size_octets();
}

}  // namespace

// Lists new/ and cur/ once, on first use, to find messages whose recorded names vanished
// because another program moved them or changed their flags while this session ran.
class MaildirMaildrop::Relocator {
 public:
  struct Found {
    Subdir dir;
    std::string_view name;
  };

  explicit Relocator(MaildirMaildrop& drop) : drop_(drop) {}

  // Every current file whose base name is `base`, cur/ first (where moved files go).
  Result<std::vector<Found>> files_with_base(std::string_view base) {
    if (!loaded_) {
      Status status = load();
      if (!status.is_ok()) {
        return status;
      }
    }
    std::vector<Found> out;
    auto range = by_base_.equal_range(base);
    for (auto it = range.first; it != range.second; ++it) {
      out.push_back(it->second);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Found& a, const Found& b) { return a.dir > b.dir; });
    return out;
  }

 private:
  Status load() {
    for (Subdir dir : {kCur, kNew}) {
      Status status = drop_.fs_.list_directory(drop_.subdir_path(dir), &listings_[dir]);
      if (status.code() == ErrorCode::kNotFound) {
        continue;
      }
      if (!status.is_ok()) {
        return status;
      }
      for (size_t i = 0; i < listings_[dir].size(); ++i) {
        std::string_view name = listings_[dir].name(i);
        fs::FileType type = listings_[dir].type(i);
        if (is_ignored_name(name) || type == fs::FileType::kDirectory ||
            type == fs::FileType::kOther) {
          continue;
        }
        by_base_.emplace(base_name(name), Found{dir, name});
      }
    }
    loaded_ = true;
    return Status::ok();
  }

  MaildirMaildrop& drop_;
  bool loaded_ = false;
  fs::DirectoryListing listings_[2];
  std::unordered_multimap<std::string_view, Found> by_base_;
};

// A message file found while taking the snapshot, before it becomes a Slot. 32 bytes, so
// sorting 100,000 of them moves little memory.
struct MaildirMaildrop::Candidate {
  uint64_t time;  // delivery time from the name: the primary sort key
  uint64_t size_octets;
  uint32_t name_offset;  // into listings_[dir]
  uint16_t name_length;
  uint16_t base_length;
  Subdir dir;
  SizeSource source;
};

Result<MaildropPtr> MaildirMaildrop::open(fs::FileSystem& fs, std::string root) {
  std::unique_ptr<MaildirMaildrop> drop(new MaildirMaildrop(fs, std::move(root)));
  Status status = drop->lock_and_load();
  if (!status.is_ok()) {
    return status;  // `drop` dies here and releases the lock
  }
  return MaildropPtr(std::move(drop));
}

std::string MaildirMaildrop::subdir_path(Subdir dir) const {
  std::string path;
  path.reserve(root_.size() + 4);
  path += root_;
  path += '/';
  path += kSubdirNames[dir];
  return path;
}

std::string MaildirMaildrop::path_of(Subdir dir, std::string_view name) const {
  std::string path;
  path.reserve(root_.size() + 5 + name.size());
  path += root_;
  path += '/';
  path += kSubdirNames[dir];
  path += '/';
  path += name;
  return path;
}

Result<bool> MaildirMaildrop::create_if_missing() {
  Result<bool> created = fs_.make_directory(root_, kDirectoryMode);
  if (!created.is_ok() || !*created) {
    return created;
  }
  for (std::string_view sub : {"tmp", "new", "cur"}) {
    Result<bool> made = fs_.make_directory(root_ + "/" + std::string(sub), kDirectoryMode);
    if (!made.is_ok()) {
      return made.status();
    }
  }
  Status synced = fs_.sync_directory(root_);
  if (!synced.is_ok()) {
    return synced;
  }
  return true;
}

Status MaildirMaildrop::list_or_create(Subdir dir, fs::DirectoryListing* out) {
  std::string path = subdir_path(dir);
  Status status = fs_.list_directory(path, out);
  if (status.code() != ErrorCode::kNotFound) {
    return status;
  }
  // A Maildir missing new/ or cur/ (half created, or created by hand): repair it.
  Result<bool> made = fs_.make_directory(path, kDirectoryMode);
  if (!made.is_ok()) {
    return made.status();
  }
  if (!*made) {
    // Something exists there. A directory created meanwhile lists fine; anything else is broken.
    status = fs_.list_directory(path, out);
    if (status.code() == ErrorCode::kNotFound) {
      return Status::permanent(path + " exists but is not a directory");
    }
    return status;
  }
  out->clear();
  return Status::ok();
}

Status MaildirMaildrop::lock_and_load() {
  Result<bool> created = create_if_missing();
  if (!created.is_ok()) {
    return created.status();
  }
  Result<fs::FileLockPtr> lock = fs_.lock_file(root_ + "/" + std::string(kLockFileName));
  if (!lock.is_ok()) {
    return lock.status();
  }
  lock_ = std::move(lock).value();
  if (*created) {
    return Status::ok();  // a brand-new Maildir has no mail
  }
  for (Subdir dir : {kNew, kCur}) {
    Status status = list_or_create(dir, &listings_[dir]);
    if (!status.is_ok()) {
      return status;
    }
  }
  std::vector<Candidate> candidates;
  bool need_index = false;
  Status status = collect_candidates(&candidates, &need_index);
  if (!status.is_ok()) {
    return status;
  }
  sort_candidates(&candidates);

  IndexContents index;  // empty unless a valid index was read
  bool index_corrupt = false;
  if (need_index) {
    Result<IndexContents> read = read_index_file(fs_, root_);
    if (read.is_ok()) {
      index = std::move(read).value();
    } else if (read.status().code() == ErrorCode::kCorrupt) {
      index_corrupt = true;
      log::warning("maildir-index-ignored").kv("path", root_).kv("error", read.status().message());
    } else if (read.status().code() != ErrorCode::kNotFound) {
      log::warning("maildir-index-unreadable")
          .kv("path", root_)
          .kv("error", read.status().message());
    }
  }
  return build_snapshot(candidates, index, index_corrupt);
}

// Walks the listings in readdir order (sequential in memory), so everything that needs only
// the name itself (type, base name, time, ",W=") is done while the name is in cache.
Status MaildirMaildrop::collect_candidates(std::vector<Candidate>* candidates, bool* need_index) {
  candidates->reserve(listings_[kNew].size() + listings_[kCur].size());
  for (Subdir dir : {kNew, kCur}) {
    const fs::DirectoryListing& listing = listings_[dir];
    for (size_t i = 0; i < listing.size(); ++i) {
      std::string_view name = listing.name(i);
      if (is_ignored_name(name)) {
        continue;
      }
      fs::FileType type = listing.type(i);
      if (type == fs::FileType::kUnknown || type == fs::FileType::kSymlink) {
        // readdir could not tell (or it is a link): ask stat, which follows links.
        Result<fs::FileInfo> info = fs_.stat(path_of(dir, name));
        if (!info.is_ok()) {
          if (is_skippable(info.status())) {
            continue;
          }
          return info.status();
        }
        type = info->type;
      }
      if (type != fs::FileType::kRegular) {
        continue;  // subdirectories, FIFOs, sockets, dangling links are not messages
      }
      std::string_view base = base_name(name);
      Candidate c{delivery_time(base),
                  0,
                  listing.offset(i),
                  static_cast<uint16_t>(name.size()),
                  static_cast<uint16_t>(base.size()),
                  dir,
                  SizeSource::kUnknown};
      if (std::optional<uint64_t> w = wire_size_field(base)) {
        c.size_octets = *w;
        c.source = SizeSource::kNameField;
      } else {
        *need_index = true;
      }
      candidates->push_back(c);
    }
  }
  return Status::ok();
}

// Oldest first: delivery time, then base name (which flag changes and the move to cur/ leave
// alone, so the order is the same in every session), then directory and full name so that
// even duplicates have a fixed order.
void MaildirMaildrop::sort_candidates(std::vector<Candidate>* candidates) const {
  std::sort(candidates->begin(), candidates->end(), [this](const Candidate& a, const Candidate& b) {
    if (a.time != b.time) {
      return a.time < b.time;
    }
    if (int cmp = base_of(a).compare(base_of(b)); cmp != 0) {
      return cmp < 0;
    }
    if (a.dir != b.dir) {
      return a.dir < b.dir;
    }
    return name_of(a) < name_of(b);
  });
}

std::string_view MaildirMaildrop::name_of(const Candidate& c) const {
  return listings_[c.dir].names().substr(c.name_offset, c.name_length);
}

std::string_view MaildirMaildrop::base_of(const Candidate& c) const {
  return listings_[c.dir].names().substr(c.name_offset, c.base_length);
}

// One pass over the sorted candidates: duplicate detection, sizes (index merge or reading the
// file), UIDLs and slots. In sorted order every name is a cache miss, so each is touched in
// one place only.
Status MaildirMaildrop::build_snapshot(const std::vector<Candidate>& candidates,
                                       const IndexContents& index, bool index_corrupt) {
  // Same time is necessary for the same base name (the time is read from it): compare the
  // cheap number before the string.
  auto same_base = [this](const Candidate& a, const Candidate& b) {
    return a.time == b.time && base_of(a) == base_of(b);
  };
  const std::vector<IndexContents::Entry>& entries = index.entries();
  size_t cursor = 0;  // the index is in candidate order: one merge pass, no hash table
  size_t index_hits = 0;
  size_t scanned = 0;
  size_t scanned_for_index = 0;
  std::unique_ptr<char[]> buffer;
  std::string_view previous_base;  // of the last message kept, for the occurrence count
  uint32_t occurrence = 0;
  messages_.reserve(candidates.size());
  slots_.reserve(candidates.size());

  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    const std::string_view base = base_of(c);
    // Duplicates are neighbours after the sort.
    const bool duplicate = (i > 0 && same_base(candidates[i - 1], c)) ||
                           (i + 1 < candidates.size() && same_base(candidates[i + 1], c));
    uint64_t size = c.size_octets;
    SizeSource source = c.source;
    if (source != SizeSource::kNameField && !duplicate) {
      while (cursor < entries.size() &&
             maildrop_order_less(entries[cursor].time, entries[cursor].base, c.time, base)) {
        ++cursor;  // a name that is gone, or that now carries ",W="
      }
      if (cursor < entries.size() && entries[cursor].time == c.time &&
          entries[cursor].base == base) {
        size = entries[cursor].size_octets;
        source = SizeSource::kIndex;
        ++cursor;
        ++index_hits;
      }
    }
    if (source == SizeSource::kUnknown) {
      std::string path = path_of(c.dir, name_of(c));
      Result<uint64_t> scan = scan_size(fs_, path, buffer);
      if (!scan.is_ok()) {
        if (!is_skippable(scan.status())) {
          return scan.status();
        }
        if (scan.status().code() == ErrorCode::kPermission) {
          log::warning("maildir-message-skipped")
              .kv("path", path)
              .kv("error", scan.status().message());
        }
        continue;  // not in this snapshot; retried at the next login
      }
      size = *scan;
      source = SizeSource::kScanned;
      ++scanned;
      scanned_for_index += duplicate ? 0 : 1;
    }
    occurrence = (!slots_.empty() && base == previous_base) ? occurrence + 1 : 1;
    previous_base = base;
    messages_.push_back(MessageInfo{size, uidl_for_base_name(base, occurrence)});
    slots_.push_back(Slot{c.name_offset, c.name_length, c.base_length, c.dir, false,
                          source != SizeSource::kNameField && !duplicate, false});
  }

  // Rewrite the index only when it differs from what the snapshot needs.
  if (index_corrupt || scanned_for_index > 0 || index_hits != entries.size()) {
    rewrite_index();
  }
  log::debug("maildir-open")
      .kv("path", root_)
      .kv("messages", static_cast<uint64_t>(messages_.size()))
      .kv("scanned", static_cast<uint64_t>(scanned));
  return Status::ok();
}

void MaildirMaildrop::rewrite_index() {
  IndexBuilder builder;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].indexed && !slots_[i].removed) {
      builder.add(base_of(slots_[i]), messages_[i].size_octets);
    }
  }
  Status status = write_index_file(fs_, root_, builder.finish());
  if (!status.is_ok()) {
    // The old index stays valid or is detected as stale next time; only speed is lost.
    log::warning("maildir-index-not-written").kv("path", root_).kv("error", status.message());
  }
}

Status MaildirMaildrop::relocate(Slot& slot, Subdir dir, std::string_view name) {
  if (relocated_names_.size() + name.size() > std::numeric_limits<uint32_t>::max() ||
      name.size() > std::numeric_limits<uint16_t>::max()) {
    return Status::error(ErrorCode::kLimit, root_ + ": too many relocated names");
  }
  slot.name_offset = static_cast<uint32_t>(relocated_names_.size());
  slot.name_length = static_cast<uint16_t>(name.size());
  slot.dir = dir;
  slot.relocated = true;
  relocated_names_.append(name);  // the base name, and so base_length, is unchanged
  return Status::ok();
}

Result<bool> MaildirMaildrop::find_moved(Relocator& relocator, size_t index) {
  const Slot& slot = slots_[index];
  std::string_view base = base_of(slot);
  Result<std::vector<Relocator::Found>> files = relocator.files_with_base(base);
  if (!files.is_ok()) {
    return files.status();
  }
  for (const Relocator::Found& found : *files) {
    // With duplicate base names, a file another slot still points at is not this one.
    // Duplicates are neighbours in slot order.
    bool taken = false;
    for (size_t j = index; j-- > 0 && base_of(slots_[j]) == base;) {
      taken |= slots_[j].dir == found.dir && name_of(slots_[j]) == found.name;
    }
    for (size_t j = index + 1; j < slots_.size() && base_of(slots_[j]) == base; ++j) {
      taken |= slots_[j].dir == found.dir && name_of(slots_[j]) == found.name;
    }
    if (taken) {
      continue;
    }
    Status status = relocate(slots_[index], found.dir, found.name);
    if (!status.is_ok()) {
      return status;
    }
    return true;
  }
  return false;
}

Result<MessageReaderPtr> MaildirMaildrop::open_message(size_t index) {
  if (index >= slots_.size()) {
    return Status::invalid_input("message index out of range");
  }
  if (slots_[index].removed) {
    return Status::not_found(root_ + ": message was removed");
  }
  Result<fs::SequentialFilePtr> file = fs_.open_for_read(path_of(slots_[index]));
  if (file.status().code() == ErrorCode::kNotFound) {
    Relocator relocator(*this);
    Result<bool> moved = find_moved(relocator, index);
    if (!moved.is_ok()) {
      return moved.status();
    }
    if (!*moved) {
      return Status::not_found(path_of(slots_[index]) + ": message vanished");
    }
    file = fs_.open_for_read(path_of(slots_[index]));
  }
  if (!file.is_ok()) {
    return file.status();
  }
  return MessageReaderPtr(std::make_unique<FileMessageReader>(std::move(file).value()));
}

Status MaildirMaildrop::commit_update(std::span<const size_t> deletions) {
  for (size_t index : deletions) {
    if (index >= slots_.size()) {
      return Status::invalid_input("message index out of range");
    }
  }
  std::optional<Relocator> relocator;
  size_t failed = 0;
  bool index_changed = false;
  std::string first_error;
  for (size_t index : deletions) {
    Slot& slot = slots_[index];
    if (slot.removed) {
      continue;  // asked twice, or already done by an earlier call
    }
    Status status = fs_.unlink(path_of(slot));
    if (status.code() == ErrorCode::kNotFound) {
      // Moved (flags, new/ → cur/) or already removed by someone else.
      if (!relocator) {
        relocator.emplace(*this);
      }
      Result<bool> moved = find_moved(*relocator, index);
      if (!moved.is_ok()) {
        status = moved.status();
      } else if (*moved) {
        status = fs_.unlink(path_of(slot));
        if (status.code() == ErrorCode::kNotFound) {
          status = Status::ok();  // gone meanwhile: removed all the same
        }
      } else {
        status = Status::ok();  // no file left with its base name: already removed
      }
    }
    if (status.is_ok()) {
      slot.removed = true;
      unsynced_[slot.dir] = true;
      index_changed |= slot.indexed;
    } else {
      ++failed;
      if (first_error.empty()) {
        first_error = status.message();
      }
      log::warning("maildir-unlink-failed").kv("path", root_).kv("error", status.message());
    }
  }

  // Make the removals durable before reporting success: a client told +OK forgets the UIDLs.
  std::string sync_error;
  for (Subdir dir : {kNew, kCur}) {
    if (!unsynced_[dir]) {
      continue;
    }
    Status status = fs_.sync_directory(subdir_path(dir));
    if (status.is_ok()) {
      unsynced_[dir] = false;
    } else if (sync_error.empty()) {
      sync_error = status.message();
    }
  }

  if (index_changed) {
    rewrite_index();  // drop the removed names; a failure here only costs a rescan next login
  }
  if (failed > 0) {
    return Status::temporary(std::to_string(failed) + " of " + std::to_string(deletions.size()) +
                             " messages not removed: " + first_error);
  }
  if (!sync_error.empty()) {
    return Status::temporary("removals may not be durable: " + sync_error);
  }
  return Status::ok();
}

}  // namespace poplar::store::maildir
