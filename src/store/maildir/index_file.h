// Poplar's per-maildrop index file, `<maildir>/poplar-index`: every message of the maildrop by
// its full name (subdirectory, base name and ":2,<flags>" info) with its CRLF size, and the
// stat identity of new/ and cur/ at the time they were listed. With it a login neither reads
// message bodies nor, when both directories are unchanged since that listing, lists them: the
// index alone is the snapshot. It is only a cache: everything in it can be rebuilt from the
// directories, so a missing, unreadable, corrupt, truncated or older-version index is ignored
// and rebuilt, never fatal. UIDLs do not depend on it (see uidl.h).
//
// Format version 3 (text, documented in docs/formats/maildir.md):
//   poplar-index 3\n
//   new <device> <inode> <mtime_ns> <ctime_ns> <listed_ns>\n   or "new -\n"
//   cur <device> <inode> <mtime_ns> <ctime_ns> <listed_ns>\n   or "cur -\n"
//   <size_octets> new/<escaped name>\n        one line per message, in maildrop order
//   <size_octets> cur/<escaped name>\n
//   end <count> <checksum: 16 lowercase hex digits>\n
// Names are escaped as %XX (uppercase hex) for every octet outside 0x21–0x7E and for '%'
// itself, so a line is always one line. The checksum covers every octet before "end" and
// catches truncation and bit rot; see index_checksum().
//
// Must never: be trusted further than its checksum and syntax; hand out a name that could
// leave its subdirectory ('/', NUL, a leading '.'); allocate per entry when parsing; block a
// login because of its content; be written except atomically (temporary file in the Maildir,
// fsync, rename, fsync of the directory).
//
// Thread-safety: IndexFile and IndexContents are used by one thread at a time; the functions
// have no shared state.
// The caller holds the maildrop lock, which serializes writers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "store/fs/file_system.h"
#include "store/maildir/file_name.h"

namespace poplar::store::maildir {

inline constexpr std::string_view kIndexFileName = "poplar-index";
inline constexpr std::string_view kIndexTempFileName = "poplar-index.tmp";

// An index of a million messages is about 70 MB; anything far beyond is not ours.
inline constexpr uint64_t kMaxIndexBytes = uint64_t{1} << 30;

// How long a directory must have been unchanged, before it was listed, for that listing to be
// trusted later while the directory still has the same stat identity. A change stamps the
// directory with the kernel's coarse clock (up to one tick, 1-10 ms, behind the clock read
// here) truncated to the file system's granularity G (1 ns, 1 s, 2 s on FAT), so a change
// made after the listing can carry a stamp as old as listed_ns - tick - G, and one made in the
// same tick as the last change before it leaves every stamp as it was. A recorded stamp at
// least 3 s older than listed_ns is older than any such later stamp (G <= 2 s, tick <= 10 ms,
// and most of a second to spare for a small clock step), so it changes with any later change.
inline constexpr int64_t kSettledNs = 3'000'000'000;

// What the index recorded about new/ or cur/ when the store listed it.
struct DirectoryStamp {
  bool known = false;  // false ("-" in the file): list the directory at the next login
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  // The file system's clock (FileSystem::now_ns) read just before the stat that gave the
  // fields above, which itself came before the listing.
  int64_t listed_ns = 0;

  bool operator==(const DirectoryStamp&) const = default;
};

// The stamp of a directory listed now: `info` from stat() taken after `listed_ns` was read and
// before the listing began. Unknown when a time is before the epoch.
DirectoryStamp stamp_of(const fs::FileInfo& info, int64_t listed_ns);

// True when the directory's mtime and ctime were at least kSettledNs older than the listing:
// any later change to it then carries a later timestamp, so an unchanged stamp proves an
// unchanged directory. (Every change of a directory's entries sets both times to "now";
// utimes(2) can set the mtime back but sets the ctime to now, which is why both are checked.)
bool is_settled(const DirectoryStamp& stamp);

// True when the listing recorded in `recorded` is still the directory's content: the stamp is
// settled and the directory (`current`, from stat() now) has the same device, inode, mtime
// and ctime.
bool listing_still_valid(const DirectoryStamp& recorded, const fs::FileInfo& current);

// The checksum of the format: a 64-bit FNV-style hash taken 8 octets at a time in four
// interleaved lanes (so it costs far less than the parse), the lanes and the length mixed at
// the end. See docs/formats/maildir.md.
uint64_t index_checksum(std::string_view bytes);

// Builds the text of an index file: the stamps, then one add() per message in maildrop order.
class IndexBuilder {
 public:
  IndexBuilder(const DirectoryStamp& new_stamp, const DirectoryStamp& cur_stamp);
  // Reserves room for `messages` lines whose names add up to `name_octets`.
  void reserve(size_t messages, size_t name_octets);
  void add(Subdir dir, std::string_view name, uint64_t size_octets);
  // The complete file. REQUIRES: called once, last.
  std::string finish();

 private:
  std::string text_;
  uint64_t count_ = 0;
};

// One message line of the index. 32 bytes; the name lies in the index file's bytes at
// [name_offset, name_offset + name_length).
struct IndexEntry {
  uint64_t time;  // delivery_time_us(base), the first sort key
  uint64_t size_octets;
  uint32_t name_offset;
  uint16_t name_length;  // the file name within its subdirectory
  uint16_t base_length;  // the base name is a prefix of the name
  Subdir dir;
};

// Receives the entries of an index as they are parsed, so a caller can build its own
// structures without an intermediate table.
class IndexEntrySink {
 public:
  virtual ~IndexEntrySink() = default;
  // Called once per message line, in maildrop order.
  virtual void add(const IndexEntry& entry) = 0;
};

// An index file whose header, end line, checksum and directory stamps have been checked; its
// message lines are parsed on demand (parse_entries), in place: names are unescaped inside the
// file's one buffer, and no allocation is made per entry.
class IndexFile {
 public:
  IndexFile() = default;

  // Errors: kNotFound (an index of an older format version: a cache to rebuild, not damage),
  // kCorrupt (bad header, unknown version, bad directory line, missing or bad end line,
  // checksum mismatch, anything after the end line).
  static Result<IndexFile> check(fs::FileContents file);

  const DirectoryStamp& stamp(Subdir dir) const { return stamps_[index_of(dir)]; }
  // The number of message lines the end line announces.
  uint64_t count() const { return count_; }

  // Parses every message line into `sink`, in order. Errors: kCorrupt (a bad size, subdirectory
  // or name; a name that is empty, contains '/' or NUL or starts with '.'; lines out of maildrop
  // order or a file listed twice; a count that does not match); the sink may have received
  // entries by then and must drop them. REQUIRES: called at most once (names are decoded in
  // place).
  Status parse_entries(IndexEntrySink& sink);

  // The bytes the entries point into (names unescaped in place once parsed).
  std::string_view text() const { return file_.view(); }
  std::string_view name(const IndexEntry& e) const {
    return text().substr(e.name_offset, e.name_length);
  }
  std::string_view base(const IndexEntry& e) const {
    return text().substr(e.name_offset, e.base_length);
  }
  // Hands the bytes over, e.g. to keep the names of a snapshot: the heap block does not move,
  // so views taken into text() stay valid. The file is empty afterwards.
  fs::FileContents take_file();

 private:
  fs::FileContents file_;
  DirectoryStamp stamps_[2];
  uint64_t count_ = 0;
  size_t entries_begin_ = 0;  // the first message line
  size_t entries_end_ = 0;    // the end line
};

// A fully parsed index: the file and a table of its entries. For the listing path of a login
// (which merges it with the directory listings) and for tests.
class IndexContents {
 public:
  using Entry = IndexEntry;

  IndexContents() = default;

  // IndexFile::check, then parse_entries into the table; errors of both.
  static Result<IndexContents> parse(IndexFile file);
  static Result<IndexContents> parse(fs::FileContents file);
  // Same, from a copy of `text`.
  static Result<IndexContents> parse(std::string_view text) {
    return parse(fs::FileContents::copy_of(text));
  }

  const DirectoryStamp& stamp(Subdir dir) const { return file_.stamp(dir); }
  // In maildrop order: (time, base name, subdirectory, name); every (subdirectory, name) once.
  std::span<const Entry> entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  std::string_view name(const Entry& e) const { return file_.name(e); }
  std::string_view base(const Entry& e) const { return file_.base(e); }
  std::string_view text() const { return file_.text(); }
  // See IndexFile::take_file. The contents are empty afterwards.
  fs::FileContents take_file();

  // The size recorded for this file, nullptr when it is not listed. O(log n).
  const uint64_t* find(Subdir dir, std::string_view name) const;

 private:
  IndexFile file_;
  std::vector<Entry> entries_;
};

// The maildrop order of index entries and Maildir messages: delivery time, then base name.
inline bool maildrop_order_less(uint64_t time_a, std::string_view base_a, uint64_t time_b,
                                std::string_view base_b) {
  return time_a != time_b ? time_a < time_b : base_a < base_b;
}

// Reads `<maildir>/poplar-index` (one read sized from fstat) and checks it (IndexFile::check).
// Errors: kNotFound (no index yet, or one of an older version), kCorrupt (also when absurdly
// large), and whatever the file system reports; the caller treats every error as "no usable
// index".
Result<IndexFile> read_index_file(fs::FileSystem& fs, const std::string& maildir);

// Replaces `<maildir>/poplar-index` atomically with `text`. On error the old index (or none) is
// left in place and the temporary file is removed if possible.
Status write_index_file(fs::FileSystem& fs, const std::string& maildir, std::string_view text);

}  // namespace poplar::store::maildir
