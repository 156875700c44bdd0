// Opening, reading and updating one Maildir; see maildir_maildrop.h and maildir_store.h.
//
// Opening, cheapest first:
//   1. stat new/ and cur/; read and check the index. When the index's recorded listing of both
//      directories is still valid (index_file.h: same stat identity, settled before it was
//      listed), the index is the snapshot: no readdir, no name parsing beyond the base name.
//   2. Otherwise list both directories; sizes come from ",W=" fields, then from the index
//      (matched by full name, or by base name for a file that moved), then from reading the
//      file once. The index is rewritten when its content or its stamps changed.
//
// Error policy for a single message file (peer-independent, but outside our control):
//   - it vanished (ENOENT) between readdir and use: it is no longer in the maildrop; skip it;
//   - the OS refuses to read it (EACCES/EPERM): only an admin can fix that, and it must not lock
//     the user out of the rest of the mail; skip it with a warning (it is retried next login,
//     so its directory is recorded as "list again" in the index);
//   - anything else (EIO, EMFILE, ENOMEM…) may go away: fail the open with kTemporary.
// The index file is a cache: every error reading or writing it is a warning, never a failure.
//
// Must never: remove a file that was not asked for; read a body whose size is known; trust a
// recorded listing of a directory that may have changed since.
//
// Thread-safety: one thread at a time.
#include "store/maildir/maildir_maildrop.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "base/ascii.h"
#include "base/log.h"
#include "store/crlf_size.h"
#include "store/maildir/file_message_reader.h"
#include "store/maildir/file_name.h"
#include "store/maildir/index_file.h"
#include "store/maildir/info_flags.h"
#include "store/maildir/keywords_file.h"
#include "store/maildir/maildir_folders.h"
#include "store/maildir/maildir_store.h"
#include "store/maildir/uidl.h"

namespace poplar::store::maildir {
namespace {

// Mail is private to its owner (Maildir convention; Dovecot and Postfix do the same).
constexpr uint32_t kDirectoryMode = 0700;

enum class SizeSource : uint8_t { kUnknown, kNameField, kIndex };

// Reading sizes on a second thread pays from this many files on (a thread costs ~0.1 ms, a
// file ~10 µs); below it the fault-injection tests also see one deterministic order.
constexpr size_t kParallelScanMinFiles = 1000;
// Files a thread takes at once from the shared counter.
constexpr size_t kScanBatch = 64;

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
    for (Subdir dir : {Subdir::kCur, Subdir::kNew}) {
      fs::DirectoryListing& listing = listings_[index_of(dir)];
      Status status = drop_.fs_.list_directory(drop_.subdir_path(dir), &listing);
      if (status.code() == ErrorCode::kNotFound) {
        continue;
      }
      if (!status.is_ok()) {
        return status;
      }
      for (size_t i = 0; i < listing.size(); ++i) {
        std::string_view name = listing.name(i);
        fs::FileType type = listing.type(i);
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
  uint32_t name_offset;  // into arena_[dir] (the names of the listing)
  uint16_t name_length;
  uint16_t base_length;
  Subdir dir;
  SizeSource source;
};

Result<MaildropPtr> MaildirMaildrop::open(fs::FileSystem& fs, std::string root, Kind kind) {
  std::unique_ptr<MaildirMaildrop> drop(new MaildirMaildrop(fs, std::move(root), kind));
  Status status = drop->lock_and_load();
  if (!status.is_ok()) {
    return status;  // `drop` dies here and releases the lock
  }
  return MaildropPtr(std::move(drop));
}

MaildirMaildrop::MaildirMaildrop(fs::FileSystem& fs, std::string root, Kind kind)
    : fs_(fs), root_(std::move(root)), kind_(kind) {}

MaildirMaildrop::~MaildirMaildrop() = default;

Folders* MaildirMaildrop::folders() {
  if (kind_ != Kind::kInbox) {
    return nullptr;
  }
  if (!folders_) {
    folders_ = std::make_unique<MaildirFolders>(fs_, root_);
  }
  return folders_.get();
}

std::string MaildirMaildrop::subdir_path(Subdir dir) const {
  std::string path;
  path.reserve(root_.size() + 4);
  path += root_;
  path += '/';
  path += subdir_name(dir);
  return path;
}

std::string MaildirMaildrop::path_of(Subdir dir, std::string_view name) const {
  std::string path;
  path.reserve(root_.size() + 5 + name.size());
  path += root_;
  path += '/';
  path += subdir_name(dir);
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

Status MaildirMaildrop::list_or_create(Subdir dir, fs::DirectoryListing* out, bool* created) {
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
    *created = true;  // by someone else, after our stat: its stamp is unknown
    return status;
  }
  *created = true;
  out->clear();
  return Status::ok();
}

Status MaildirMaildrop::lock_and_load() {
  // Lock first: the Maildir exists at every login but a new user's first, and opening the lock
  // file is what proves it. Only ENOENT (no Maildir; or no parent, which mkdir reports) costs
  // the creation and a second try; a Maildir created by someone else meanwhile is locked as
  // found.
  const std::string lock_path = root_ + "/" + std::string(kLockFileName);
  bool created = false;
  Result<fs::FileLockPtr> lock = fs_.lock_file(lock_path);
  if (lock.status().code() == ErrorCode::kNotFound) {
    Result<bool> made = create_if_missing();
    if (!made.is_ok()) {
      return made.status();
    }
    created = *made;
    lock = fs_.lock_file(lock_path);
  }
  if (!lock.is_ok()) {
    return lock.status();
  }
  lock_ = std::move(lock).value();
  if (created) {
    return Status::ok();  // a brand-new Maildir has no mail
  }

  // Both directories are stat()ed before anything is listed, and the clock read before that,
  // so these stamps describe any listing taken from here on (index_file.h).
  const int64_t listed_ns = fs_.now_ns();
  fs::FileInfo current[2];
  bool present[2] = {false, false};
  for (Subdir dir : kSubdirs) {
    Result<fs::FileInfo> info = fs_.stat(subdir_path(dir));
    if (info.is_ok()) {
      current[index_of(dir)] = *info;
      present[index_of(dir)] = true;
    } else if (info.status().code() != ErrorCode::kNotFound) {
      return info.status();  // the listing could not work either
    }                        // missing: the listing repairs it
  }

  // The index: checked (header, checksum, stamps) before anything else is decided.
  Result<IndexFile> read = read_index_file(fs_, root_);
  bool index_corrupt = false;
  if (read.is_ok()) {
    if (present[0] && present[1] && listing_still_valid(read->stamp(Subdir::kNew), current[0]) &&
        listing_still_valid(read->stamp(Subdir::kCur), current[1])) {
      Status loaded = load_from_index(*read);
      if (loaded.is_ok()) {
        return Status::ok();
      }
      read = loaded;  // a bad line: as if the whole file were corrupt
    }
  }
  IndexContents index;  // empty unless a valid index was read
  bool index_usable = false;
  if (read.is_ok()) {
    Result<IndexContents> parsed = IndexContents::parse(std::move(read).value());
    if (parsed.is_ok()) {
      index = std::move(parsed).value();
      index_usable = true;
    } else {
      read = parsed.status();
    }
  }
  if (!read.is_ok()) {
    if (read.status().code() == ErrorCode::kCorrupt) {
      index_corrupt = true;
      log::warning("maildir-index-ignored").kv("path", root_).kv("error", read.status().message());
    } else if (read.status().code() != ErrorCode::kNotFound) {
      log::warning("maildir-index-unreadable")
          .kv("path", root_)
          .kv("error", read.status().message());
    }  // kNotFound: no index yet, or one of an older version; both are simply rebuilt
  }
  DirectoryStamp stamps[2];
  for (Subdir dir : kSubdirs) {
    if (present[index_of(dir)]) {
      stamps[index_of(dir)] = stamp_of(current[index_of(dir)], listed_ns);
    }
  }
  return load_from_listing(index, index_usable, index_corrupt, stamps);
}

void MaildirMaildrop::assign_uidl(size_t i, std::string_view base, uint32_t occurrence,
                                  std::vector<std::pair<size_t, size_t>>* hashed) {
  if (uidl_is_base_name(base, occurrence)) {
    messages_[i].uidl = base;  // points into the names, which never move
    return;
  }
  // Rare (names too long or odd, duplicates): the text goes to hashed_uidls_, which may still
  // grow, so the view is set by finish_uidls() once it no longer does.
  hashed->emplace_back(i, hashed_uidls_.size());
  hashed_uidls_ += uidl_for_base_name(base, occurrence);
}

void MaildirMaildrop::finish_uidls(const std::vector<std::pair<size_t, size_t>>& hashed) {
  hashed_uidls_.shrink_to_fit();
  for (size_t k = 0; k < hashed.size(); ++k) {
    size_t begin = hashed[k].second;
    size_t end = k + 1 < hashed.size() ? hashed[k + 1].second : hashed_uidls_.size();
    messages_[hashed[k].first].uidl = std::string_view(hashed_uidls_).substr(begin, end - begin);
  }
}

// Builds the snapshot straight from the index's lines (no table in between: for 100,000
// messages that table alone would be 3 MB of fresh memory).
class MaildirMaildrop::SnapshotSink final : public IndexEntrySink {
 public:
  SnapshotSink(MaildirMaildrop& drop, const IndexFile& index) : drop_(drop), index_(index) {}

  void add(const IndexEntry& e) override {
    std::string_view base = index_.base(e);
    // Equal base names have equal times (the time is read from the name): compare that first.
    bool same = !drop_.messages_.empty() && e.time == previous_time_ && base == previous_base_;
    occurrence_ = same ? occurrence_ + 1 : 1;
    previous_time_ = e.time;
    previous_base_ = base;
    drop_.messages_.push_back(MessageInfo{e.size_octets, {}});
    drop_.assign_uidl(drop_.messages_.size() - 1, base, occurrence_, &hashed_);
    drop_.slots_.push_back(Slot{e.name_offset, e.name_length, e.dir, 0, 0});
  }

  const std::vector<std::pair<size_t, size_t>>& hashed() const { return hashed_; }

 private:
  MaildirMaildrop& drop_;
  const IndexFile& index_;
  std::vector<std::pair<size_t, size_t>> hashed_;
  uint64_t previous_time_ = 0;
  std::string_view previous_base_;
  uint32_t occurrence_ = 0;
};

// The trusted path: the index's entries are the snapshot, in maildrop order already.
Status MaildirMaildrop::load_from_index(IndexFile& index) {
  // The end line's count, bounded by what the bytes could hold ("0 new/x\n" per line).
  size_t expected = static_cast<size_t>(std::min<uint64_t>(index.count(), index.text().size() / 8));
  messages_.reserve(expected);
  slots_.reserve(expected);
  SnapshotSink sink(*this, index);
  Status status = index.parse_entries(sink);
  if (!status.is_ok()) {
    messages_ = {};
    slots_ = {};
    hashed_uidls_ = {};
    return status;
  }
  for (Subdir dir : kSubdirs) {
    stamps_[index_of(dir)] = index.stamp(dir);
  }
  // Moving the buffer keeps its heap block, so every view taken above stays valid.
  index_bytes_ = index.take_file();
  arena_[0] = arena_[1] = index_bytes_.view();
  finish_uidls(sink.hashed());
  log::debug("maildir-open")
      .kv("path", root_)
      .kv("messages", static_cast<uint64_t>(messages_.size()))
      .kv("listed", "no");
  return Status::ok();
}

// Walks the listings in readdir order (sequential in memory), so everything that needs only
// the name itself (type, base name, time, ",W=") is done while the name is in cache.
// `unsettled[dir]` is set when an entry was left out for a reason that can go away without the
// directory changing (an unreadable or dangling entry): its listing must not be trusted later.
Status MaildirMaildrop::collect_candidates(const fs::DirectoryListing (&listings)[2],
                                           std::vector<Candidate>* candidates,
                                           bool (&unsettled)[2]) {
  candidates->reserve(listings[0].size() + listings[1].size());
  for (Subdir dir : kSubdirs) {
    const fs::DirectoryListing& listing = listings[index_of(dir)];
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
            unsettled[index_of(dir)] = true;
            continue;
          }
          return info.status();
        }
        if (type == fs::FileType::kSymlink && info->type != fs::FileType::kRegular) {
          unsettled[index_of(dir)] = true;  // its target may become a file
        }
        type = info->type;
      }
      if (type != fs::FileType::kRegular) {
        continue;  // subdirectories, FIFOs, sockets, dangling links are not messages
      }
      std::string_view base = base_name(name);
      Candidate c{delivery_time_us(base),
                  0,
                  listing.offset(i),
                  static_cast<uint16_t>(name.size()),
                  static_cast<uint16_t>(base.size()),
                  dir,
                  SizeSource::kUnknown};
      if (std::optional<uint64_t> w = wire_size_field(base)) {
        c.size_octets = *w;
        c.source = SizeSource::kNameField;
      }
      candidates->push_back(c);
    }
  }
  return Status::ok();
}

// Oldest first: delivery time, then base name (which flag changes and the move to cur/ leave
// alone, so the order is the same in every session), then directory and full name so that
// even duplicates have a fixed order. The index is written in the same order.
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
  return arena_[index_of(c.dir)].substr(c.name_offset, c.name_length);
}

std::string_view MaildirMaildrop::base_of(const Candidate& c) const {
  return arena_[index_of(c.dir)].substr(c.name_offset, c.base_length);
}

// Reads the files of candidates[todo[k]] for their CRLF sizes into outcomes[k]; failures
// (with their position k) go to `failures`. Many files are read on two threads: a first login
// to a big maildrop is mostly open/read/close system calls, and on a two-core machine a second
// thread halves it. Each outcome is written by one thread and read only after the join.
void MaildirMaildrop::scan_sizes(std::span<const Candidate> candidates,
                                 std::span<const uint32_t> todo, std::vector<ScanOutcome>* outcomes,
                                 std::vector<std::pair<uint32_t, Status>>* failures) const {
  outcomes->assign(todo.size(), ScanOutcome{});
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};  // a failure that fails the open: no point reading on
  std::mutex failures_mutex;
  auto work = [&] {
    std::unique_ptr<char[]> buffer;  // one per thread, reused for every file
    for (;;) {
      const size_t begin = next.fetch_add(kScanBatch, std::memory_order_relaxed);
      if (begin >= todo.size()) {
        return;
      }
      const size_t end = std::min(todo.size(), begin + kScanBatch);
      for (size_t k = begin; k < end; ++k) {
        if (stop.load(std::memory_order_relaxed)) {
          return;
        }
        const Candidate& c = candidates[todo[k]];
        Result<uint64_t> size = scan_size(fs_, path_of(c.dir, name_of(c)), buffer);
        if (size.is_ok()) {
          (*outcomes)[k].size_octets = *size;
          continue;
        }
        if (!is_skippable(size.status())) {
          stop.store(true, std::memory_order_relaxed);
        }
        std::lock_guard<std::mutex> guard(failures_mutex);
        failures->emplace_back(static_cast<uint32_t>(k), size.status());
      }
    }
  };
  std::optional<std::thread> helper;
  if (todo.size() >= kParallelScanMinFiles && std::thread::hardware_concurrency() > 1) {
    try {
      helper.emplace(work);
    } catch (const std::system_error&) {
      // No thread to be had: this one reads them all.
    }
  }
  work();
  if (helper) {
    helper->join();
  }
}

// The listing path: list, sort, take sizes from names and the index, read the files left
// over, then build the snapshot in maildrop order.
Status MaildirMaildrop::load_from_listing(const IndexContents& index, bool index_usable,
                                          bool index_corrupt, const DirectoryStamp (&listed)[2]) {
  DirectoryStamp stamps[2] = {listed[0], listed[1]};
  std::vector<Candidate> candidates;
  bool unsettled[2] = {false, false};
  {
    fs::DirectoryListing listings[2];
    for (Subdir dir : kSubdirs) {
      bool created = false;
      Status status = list_or_create(dir, &listings[index_of(dir)], &created);
      if (!status.is_ok()) {
        return status;
      }
      unsettled[index_of(dir)] |= created;
    }
    Status status = collect_candidates(listings, &candidates, unsettled);
    if (!status.is_ok()) {
      return status;
    }
    // The names stay where the listings put them; their per-entry tables go.
    for (Subdir dir : kSubdirs) {
      std::string& names = listed_names_[index_of(dir)];
      names = listings[index_of(dir)].take_names();
      // Kept for the whole session: give back what the listing reserved far beyond its names
      // (a copy, so not for a few percent).
      if (names.capacity() - names.size() > names.size() / 4) {
        names.shrink_to_fit();
      }
      arena_[index_of(dir)] = names;
    }
  }
  sort_candidates(&candidates);

  // 1. Sizes from names and from the index, merged in one pass (both are in maildrop order).
  // Same time is necessary for the same base name (the time is read from it): compare the
  // cheap number before the string.
  auto same_base = [this](const Candidate& a, const Candidate& b) {
    return a.time == b.time && base_of(a) == base_of(b);
  };
  std::span<const IndexEntry> entries = index.entries();
  size_t cursor = 0;           // no hash table: the cursor only moves forward
  size_t exact_hits = 0;       // entries naming this very file with its size
  std::vector<uint32_t> todo;  // candidates whose file must be read
  for (size_t i = 0; i < candidates.size(); ++i) {
    Candidate& c = candidates[i];
    const std::string_view base = base_of(c);
    // Duplicates are neighbours after the sort.
    const bool duplicate = (i > 0 && same_base(candidates[i - 1], c)) ||
                           (i + 1 < candidates.size() && same_base(candidates[i + 1], c));
    while (cursor < entries.size() &&
           maildrop_order_less(entries[cursor].time, index.base(entries[cursor]), c.time, base)) {
      ++cursor;  // a file that is gone
    }
    // The entries with this base name: this very file, or (when the base name is unique on
    // both sides) the same message under a new name after a move to cur/ or a flag change.
    size_t run_end = cursor;
    while (run_end < entries.size() && entries[run_end].time == c.time &&
           index.base(entries[run_end]) == base) {
      ++run_end;
    }
    const IndexEntry* known = nullptr;
    bool exact = false;
    for (size_t k = cursor; k < run_end; ++k) {
      if (entries[k].dir == c.dir && index.name(entries[k]) == name_of(c)) {
        known = &entries[k];
        exact = true;
        break;
      }
    }
    if (known == nullptr && !duplicate && run_end - cursor == 1) {
      known = &entries[cursor];
    }
    if (c.source != SizeSource::kNameField && known != nullptr) {
      c.size_octets = known->size_octets;
      c.source = SizeSource::kIndex;
    } else if (c.source != SizeSource::kNameField) {
      todo.push_back(static_cast<uint32_t>(i));
    }
    if (exact && known->size_octets == c.size_octets) {
      ++exact_hits;
    }
  }

  // 2. Read the files nothing knew the size of (a first login reads them all).
  std::vector<ScanOutcome> outcomes;
  std::vector<std::pair<uint32_t, Status>> failures;  // by position in todo
  scan_sizes(candidates, todo, &outcomes, &failures);
  std::sort(failures.begin(), failures.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [k, status] : failures) {
    if (!is_skippable(status)) {
      return status;  // the first in maildrop order; the others may not have been read
    }
  }

  // 3. The snapshot, in maildrop order.
  std::vector<std::pair<size_t, size_t>> hashed;
  std::string_view previous_base;  // of the last message kept, for the occurrence count
  uint32_t occurrence = 0;
  size_t next_todo = 0;
  size_t next_failure = 0;
  messages_.reserve(candidates.size());
  slots_.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    uint64_t size = c.size_octets;
    if (next_todo < todo.size() && todo[next_todo] == i) {
      const size_t k = next_todo++;
      if (next_failure < failures.size() && failures[next_failure].first == k) {
        const Status& status = failures[next_failure++].second;
        if (status.code() == ErrorCode::kPermission) {
          log::warning("maildir-message-skipped")
              .kv("path", path_of(c.dir, name_of(c)))
              .kv("error", status.message());
        }
        unsettled[index_of(c.dir)] = true;
        continue;  // not in this snapshot (vanished, or unreadable: retried at the next login)
      }
      size = outcomes[k].size_octets;
    }
    const std::string_view base = base_of(c);
    occurrence = (!slots_.empty() && base == previous_base) ? occurrence + 1 : 1;
    previous_base = base;
    messages_.push_back(MessageInfo{size, {}});
    assign_uidl(messages_.size() - 1, base, occurrence, &hashed);
    slots_.push_back(Slot{c.name_offset, c.name_length, c.dir, 0, 0});
  }
  finish_uidls(hashed);
  const size_t scanned = todo.size() - failures.size();

  for (Subdir dir : kSubdirs) {
    if (unsettled[index_of(dir)]) {
      stamps[index_of(dir)] = DirectoryStamp{};
    }
    stamps_[index_of(dir)] = stamps[index_of(dir)];
  }
  // Rewrite the index when what it says changed, or when this listing can be trusted next time
  // (then the next login lists nothing). An unchanged index whose directories are not settled
  // yet is left alone: the next login lists again either way.
  const bool same_content =
      index_usable && exact_hits == entries.size() && exact_hits == messages_.size();
  if (index_corrupt || !same_content || (is_settled(stamps[0]) && is_settled(stamps[1]))) {
    rewrite_index(stamps_);
  }
  log::debug("maildir-open")
      .kv("path", root_)
      .kv("messages", static_cast<uint64_t>(messages_.size()))
      .kv("listed", "yes")
      .kv("scanned", static_cast<uint64_t>(scanned));
  return Status::ok();
}

void MaildirMaildrop::rewrite_index(const DirectoryStamp (&stamps)[2]) {
  IndexBuilder builder(stamps[0], stamps[1]);
  std::vector<uint32_t> order;  // slots to write, in maildrop order
  order.reserve(slots_.size());
  size_t name_octets = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].removed) {
      order.push_back(static_cast<uint32_t>(i));
      name_octets += slots_[i].name_length;
    }
  }
  // Slots are in maildrop order, but a file found again under a new name may now sort
  // differently among files with its base name (duplicates): the index must be in order.
  auto less = [this](uint32_t a, uint32_t b) {
    std::string_view base_a = base_of(slots_[a]);
    std::string_view base_b = base_of(slots_[b]);
    uint64_t time_a = delivery_time_us(base_a);
    uint64_t time_b = delivery_time_us(base_b);
    if (time_a != time_b || base_a != base_b) {
      return maildrop_order_less(time_a, base_a, time_b, base_b);
    }
    if (slots_[a].dir != slots_[b].dir) {
      return slots_[a].dir < slots_[b].dir;
    }
    return name_of(slots_[a]) < name_of(slots_[b]);
  };
  if (!relocated_names_.empty()) {
    std::sort(order.begin(), order.end(), less);
  }
  builder.reserve(order.size(), name_octets);
  for (uint32_t i : order) {
    builder.add(slots_[i].dir, name_of(slots_[i]), messages_[i].size_octets);
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

Result<fs::SequentialFilePtr> MaildirMaildrop::open_file(const Slot& slot) {
  fs::DirectoryPtr& dir = message_dirs_[index_of(slot.dir)];
  if (!dir) {
    Result<fs::DirectoryPtr> opened = fs_.open_directory(subdir_path(slot.dir));
    if (!opened.is_ok()) {
      return fs_.open_for_read(path_of(slot));  // reports the problem in the file's words
    }
    dir = std::move(opened).value();
  }
  // A directory replaced since it was opened makes this fail with kNotFound, and the caller
  // then looks for the file by path (find_moved).
  return dir->open_for_read(name_of(slot));
}

Result<MessageReaderPtr> MaildirMaildrop::open_message(size_t index) {
  if (index >= slots_.size()) {
    return Status::invalid_input("message index out of range");
  }
  if (slots_[index].removed) {
    return Status::not_found(root_ + ": message was removed");
  }
  Result<fs::SequentialFilePtr> file = open_file(slots_[index]);
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

Result<std::string> MaildirMaildrop::message_path(size_t index) {
  if (index >= slots_.size()) {
    return Status::invalid_input("message index out of range");
  }
  if (slots_[index].removed) {
    return Status::not_found(root_ + ": message was removed");
  }
  Result<fs::FileInfo> info = fs_.stat(path_of(slots_[index]));
  if (info.status().code() == ErrorCode::kNotFound) {
    Relocator relocator(*this);
    Result<bool> moved = find_moved(relocator, index);
    if (!moved.is_ok()) {
      return moved.status();
    }
    if (!*moved) {
      return Status::not_found(path_of(slots_[index]) + ": message vanished");
    }
  } else if (!info.is_ok()) {
    return info.status();
  }
  return path_of(slots_[index]);
}

Status MaildirMaildrop::commit_update(std::span<const size_t> deletions) {
  return commit_update(deletions, {});
}

void MaildirMaildrop::CommitTally::fail(const Status& status) {
  ++failed;
  if (first_error.empty()) {
    first_error = status.message();
  }
}

const KeywordTable* MaildirMaildrop::keyword_table() const {
  if (!keywords_read_) {
    keywords_read_ = true;
    Result<KeywordTable> read = read_keywords_file(fs_, root_);
    if (read.is_ok()) {
      keywords_ = std::move(read).value();
    } else {
      // Keyword letters then read as unknown letters; commit_update() reads the file again.
      log::warning("maildir-keywords-unreadable")
          .kv("path", root_)
          .kv("error", read.status().message());
    }
  }
  return keywords_ ? &*keywords_ : nullptr;
}

MessageFlags MaildirMaildrop::flags(size_t index) const {
  if (index >= slots_.size()) {
    return {};
  }
  std::string_view letters = info_letters(name_of(slots_[index]));
  if (letters.empty()) {
    return {};  // mail in new/, and read mail without flags: no allocation, no file read
  }
  return flags_from_letters(letters, has_keyword_letters(letters) ? keyword_table() : nullptr);
}

namespace {

// Whether `flags` has a keyword the table has no letter for ($Forwarded is 'P', not a keyword).
bool needs_new_letter(const MessageFlags& flags, const KeywordTable& table) {
  for (const std::string& keyword : flags.keywords()) {
    if (!ascii_iequals(keyword, "$Forwarded") && !table.letter_of(keyword)) {
      return true;
    }
  }
  return false;
}

}  // namespace

Status MaildirMaildrop::check_keywords_fit(std::span<const std::string> keywords) const {
  Result<KeywordTable> read = read_keywords_file(fs_, root_);
  if (!read.is_ok()) {
    return Status::temporary("the keywords file cannot be read: " + read.status().message());
  }
  KeywordTable table = std::move(read).value();
  bool reserved = false;
  for (const std::string& keyword : keywords) {
    if (ascii_iequals(keyword, "$Forwarded") || table.letter_of(keyword)) {
      continue;  // 'P', or a letter already given: costs nothing
    }
    if (!reserved) {
      // As plan_renames(): letters that names use but the file does not map are not free.
      for (const Slot& slot : slots_) {
        for (char c : info_letters(name_of(slot))) {
          if (c >= 'a' && c <= 'z' && table.keyword(c).empty()) {
            table.reserve(c);
          }
        }
      }
      reserved = true;
    }
    if (!table.add(keyword).is_ok()) {
      return Status::error(ErrorCode::kLimit, "This folder cannot hold more than " +
                                                  std::to_string(kMaxKeywords) +
                                                  " different keywords.");
    }
  }
  return Status::ok();
}

bool MaildirMaildrop::taken_by_other(size_t index, Subdir dir, std::string_view name) const {
  // Only a file with the same base name can have that name, and those are neighbours in slot
  // order (the same walk as find_moved()).
  std::string_view base = base_of(slots_[index]);
  for (size_t j = index; j-- > 0 && base_of(slots_[j]) == base;) {
    if (!slots_[j].removed && slots_[j].dir == dir && name_of(slots_[j]) == name) {
      return true;
    }
  }
  for (size_t j = index + 1; j < slots_.size() && base_of(slots_[j]) == base; ++j) {
    if (!slots_[j].removed && slots_[j].dir == dir && name_of(slots_[j]) == name) {
      return true;
    }
  }
  return false;
}

// Decides every rename before anything is changed, so that a keyword limit or an unreadable
// keywords file changes nothing at all; then makes the new keyword letters durable, before any
// name uses them.
Status MaildirMaildrop::plan_renames(std::span<const size_t> deletions,
                                     std::span<const FlagChange> changes,
                                     std::vector<Rename>* renames) {
  if (changes.empty()) {
    return Status::ok();
  }
  Result<KeywordTable> read = read_keywords_file(fs_, root_);
  if (!read.is_ok()) {
    return Status::temporary("nothing changed: the keywords file cannot be read: " +
                             read.status().message());
  }
  KeywordTable table = std::move(read).value();
  std::vector<bool> settled(slots_.size(), false);  // removed, or its last change is found
  for (size_t index : deletions) {
    settled[index] = true;
  }
  bool reserved = false;  // letters used by names but unmapped are reserved in `table`
  std::vector<bool> counts(changes.size(), false);  // the last change of a message counts
  for (size_t k = changes.size(); k-- > 0;) {
    const size_t index = changes[k].index;
    counts[k] = !settled[index] && !slots_[index].removed;
    settled[index] = true;
  }
  for (size_t k = 0; k < changes.size(); ++k) {  // in order, so keywords get letters in order
    if (!counts[k]) {
      continue;
    }
    const FlagChange& change = changes[k];
    std::string_view name = name_of(slots_[change.index]);
    std::string_view old_letters = info_letters(name);
    if (flags_from_letters(old_letters, &table) == change.flags) {
      continue;  // already so (or done by an earlier call): nothing to rename
    }
    if (!reserved && needs_new_letter(change.flags, table)) {
      // A letter that names use but the file does not map (a lost or hand-edited file) must not
      // be given to a new keyword: those messages would suddenly carry it.
      for (const Slot& slot : slots_) {
        for (char c : info_letters(name_of(slot))) {
          if (c >= 'a' && c <= 'z' && table.keyword(c).empty()) {
            table.reserve(c);
          }
        }
      }
      reserved = true;
    }
    Result<std::string> letters = letters_for(change.flags, old_letters, table);
    if (!letters.is_ok()) {
      return letters.status();  // kLimit: nothing has been changed yet
    }
    renames->push_back(Rename{change.index, name_with_letters(base_name(name), *letters)});
  }
  if (table.changed()) {
    Status written = write_keywords_file(fs_, root_, table);
    if (!written.is_ok()) {
      return Status::temporary("nothing changed: the keywords file cannot be written: " +
                               written.message());
    }
  }
  keywords_ = std::move(table);  // flags() reads the letters the new names use
  keywords_read_ = true;
  return Status::ok();
}

void MaildirMaildrop::remove_messages(std::span<const size_t> deletions, Relocator& relocator,
                                      CommitTally& tally) {
  for (size_t index : deletions) {
    Slot& slot = slots_[index];
    if (slot.removed) {
      continue;  // asked twice, or already done by an earlier call
    }
    Status status = fs_.unlink(path_of(slot));
    if (status.code() == ErrorCode::kNotFound) {
      // Moved (flags, new/ → cur/) or already removed by someone else.
      Result<bool> moved = find_moved(relocator, index);
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
      unsynced_[index_of(slot.dir)] = true;
      tally.changed[index_of(slot.dir)] = true;
    } else {
      tally.fail(status);
      log::warning("maildir-unlink-failed").kv("path", root_).kv("error", status.message());
    }
  }
}

Status MaildirMaildrop::rename_one(Rename& rename, Relocator& relocator) {
  Slot& slot = slots_[rename.index];
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (slot.dir == Subdir::kCur && name_of(slot) == rename.name) {
      return Status::ok();  // an earlier call (or attempt) did it
    }
    if (taken_by_other(rename.index, Subdir::kCur, rename.name)) {
      // rename(2) would replace that file: another copy of this message, but a file all the
      // same, and this store never removes a file it was not asked to.
      return Status::temporary(path_of(Subdir::kCur, rename.name) +
                               " already exists (a duplicate base name): flags not changed");
    }
    const Subdir from_dir = slot.dir;
    Status status = fs_.rename(path_of(slot), path_of(Subdir::kCur, rename.name));
    if (status.is_ok()) {
      unsynced_[index_of(from_dir)] = true;
      unsynced_[index_of(Subdir::kCur)] = true;
      return relocate(slot, Subdir::kCur, rename.name);
    }
    if (status.code() != ErrorCode::kNotFound || attempt > 0) {
      return status;
    }
    // Moved by another program (or by this one before a crash): rename it from where it is,
    // keeping the letters the other program set that Poplar does not know.
    Result<bool> moved = find_moved(relocator, rename.index);
    if (!moved.is_ok()) {
      return moved.status();
    }
    if (!*moved) {
      return Status::ok();  // vanished: skipped, like a removal of it
    }
    std::string_view old_letters = info_letters(name_of(slot));
    MessageFlags wanted = flags_from_letters(info_letters(rename.name), &*keywords_);
    Result<std::string> letters = letters_for(wanted, old_letters, *keywords_);
    if (!letters.is_ok()) {
      return letters.status();  // cannot happen: every keyword got its letter when planned
    }
    rename.name = name_with_letters(base_of(slot), *letters);
  }
  return Status::ok();
}

void MaildirMaildrop::rename_messages(std::span<Rename> renames, Relocator& relocator,
                                      CommitTally& tally) {
  for (Rename& rename : renames) {
    const Subdir before = slots_[rename.index].dir;
    Status status = rename_one(rename, relocator);
    if (status.is_ok()) {
      tally.changed[index_of(before)] = true;
      tally.changed[index_of(Subdir::kCur)] = true;
    } else {
      tally.fail(status);
      log::warning("maildir-flags-not-changed").kv("path", root_).kv("error", status.message());
    }
  }
}

Status MaildirMaildrop::commit_update(std::span<const size_t> deletions,
                                      std::span<const FlagChange> changes) {
  for (size_t index : deletions) {
    if (index >= slots_.size()) {
      return Status::invalid_input("message index out of range");
    }
  }
  for (const FlagChange& change : changes) {
    if (change.index >= slots_.size()) {
      return Status::invalid_input("message index out of range");
    }
  }
  std::vector<Rename> renames;
  Status planned = plan_renames(deletions, changes, &renames);
  if (!planned.is_ok()) {
    return planned;
  }

  Relocator relocator(*this);  // lists the directories only when a file is not where recorded
  CommitTally tally;
  remove_messages(deletions, relocator, tally);
  rename_messages(renames, relocator, tally);

  // Make the removals and renames durable before reporting success: a client told +OK forgets
  // the UIDLs.
  std::string sync_error;
  for (Subdir dir : kSubdirs) {
    if (!unsynced_[index_of(dir)]) {
      continue;
    }
    Status status = fs_.sync_directory(subdir_path(dir));
    if (status.is_ok()) {
      unsynced_[index_of(dir)] = false;
    } else if (sync_error.empty()) {
      sync_error = status.message();
    }
  }

  if (tally.changed[0] || tally.changed[1]) {
    // Drop the removed names and record the new ones. A directory changed here may also have
    // been changed by another program meanwhile, which no stamp taken now could tell apart: the
    // next login lists it (and finds every size in the index, by name).
    for (Subdir dir : kSubdirs) {
      if (tally.changed[index_of(dir)]) {
        stamps_[index_of(dir)] = DirectoryStamp{};
      }
    }
    rewrite_index(stamps_);  // a failure here only costs a listing next login
  }
  if (tally.failed > 0) {
    return Status::temporary(std::to_string(tally.failed) + " of " +
                             std::to_string(deletions.size() + renames.size()) +
                             " removals and flag changes not made: " + tally.first_error);
  }
  if (!sync_error.empty()) {
    return Status::temporary("removals or flag changes may not be durable: " + sync_error);
  }
  return Status::ok();
}

}  // namespace poplar::store::maildir
