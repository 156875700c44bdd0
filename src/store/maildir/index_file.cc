// Reading, checking and atomically writing Poplar's Maildir index file; see index_file.h.
//
// The parser runs at every login over up to a few MB, so it works on the file's one buffer:
// one pass checks the checksum, a second scans each line eight octets at a time (the line end,
// the octets of the name, the end of its base name), names with escapes are decoded in place,
// and entries go straight to the caller's sink: no allocation per entry, and none at all but
// what the sink makes.
//
// Must never: write the index in place, accept a file whose checksum does not match, or let a
// name with '/', NUL or a leading '.' through.
//
// Thread-safety: no shared state; writers are serialized by the maildrop lock.
#include "store/maildir/index_file.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <tuple>

#include "base/strict_number.h"
#include "store/maildir/octet_scan.h"

namespace poplar::store::maildir {
namespace {

constexpr std::string_view kHeader = "poplar-index 3\n";
// Older versions are caches of a format this code no longer writes: rebuilt, not reported.
constexpr std::string_view kOldHeaders[] = {"poplar-index 1\n", "poplar-index 2\n"};
constexpr std::string_view kEndPrefix = "end ";
constexpr uint64_t kChecksumSeed = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
constexpr uint64_t kChecksumPrime = 0x100000001b3ULL;      // FNV-1a 64 prime
// The shortest message line: "0 new/x\n".
constexpr size_t kMinLineOctets = 8;

bool needs_escape(unsigned char c) { return c < 0x21 || c > 0x7e || c == '%'; }

void checksum_mix(uint64_t& h, uint64_t word) {
  h = (h ^ word) * kChecksumPrime;
  h ^= h >> 32;
}

// What one pass over a message line's name finds.
struct LineScan {
  const char* newline;  // the LF that ends the line; nullptr when there is none before limit
  bool bad;             // an octet outside 0x21–0x7E, or '/', before the LF
  bool escaped;         // a '%' before the LF
  size_t colon;         // offset of the first ':' (the end of the base name), or npos
};

// Scans from `p` to the end of its line, eight octets per step: finds the LF, checks every
// octet and finds the first ':'. In a big index this loop is most of the parse. Octets of a
// word at and after the LF are masked out of the tests. Reads nothing at or beyond `limit`.
LineScan scan_line(const char* p, const char* limit) {
  uint64_t bad = 0;
  uint64_t percent = 0;
  size_t colon = std::string_view::npos;
  const char* q = p;
  for (; limit - q >= 8; q += 8) {
    uint64_t w = load_le64(q);
    uint64_t lf = any_equal(w, '\n');
    unsigned before = lf == 0 ? 8 : first_octet(lf);  // octets of this word in the line
    uint64_t keep = before == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * before)) - 1;
    bad |= (any_below_0x21(w) | any_above_0x7e(w) | any_equal(w, '/')) & keep;
    percent |= any_equal(w, '%') & keep;
    if (colon == std::string_view::npos) {
      if (uint64_t c = any_equal(w, ':') & keep; c != 0) {
        colon = static_cast<size_t>(q - p) + first_octet(c);
      }
    }
    if (lf != 0) {
      return LineScan{q + before, bad != 0, percent != 0, colon};
    }
  }
  for (; q < limit; ++q) {  // the last few octets of the buffer
    auto u = static_cast<unsigned char>(*q);
    if (u == '\n') {
      return LineScan{q, bad != 0, percent != 0, colon};
    }
    bad |= static_cast<uint64_t>(u < 0x21 || u > 0x7e || u == '/');
    percent |= static_cast<uint64_t>(u == '%');
    if (u == ':' && colon == std::string_view::npos) {
      colon = static_cast<size_t>(q - p);
    }
  }
  return LineScan{nullptr, bad != 0, percent != 0, colon};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// Decodes %XX in [begin, end) in place; returns the decoded length, or nullopt on a bad escape.
std::optional<size_t> unescape_in_place(char* begin, const char* end) {
  char* out = begin;
  for (const char* in = begin; in < end; ++in) {
    if (*in != '%') {
      *out++ = *in;
      continue;
    }
    if (end - in < 3) {
      return std::nullopt;
    }
    int high = hex_value(in[1]);
    int low = hex_value(in[2]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    *out++ = static_cast<char>(high * 16 + low);
    in += 2;
  }
  return static_cast<size_t>(out - begin);
}

std::string checksum_hex(uint64_t value) {
  std::array<char, 17> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%016llx", static_cast<unsigned long long>(value));
  return std::string(buffer.data(), 16);
}

Status corrupt(std::string_view why) { return Status::corrupt("index file: " + std::string(why)); }

// Splits off the text up to the next space (or the end).
std::string_view next_field(std::string_view& rest) {
  size_t space = rest.find(' ');
  std::string_view field = rest.substr(0, space);
  rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
  return field;
}

std::optional<int64_t> parse_time(std::string_view text) {
  std::optional<uint64_t> value = parse_u64(text);
  if (!value || *value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  return static_cast<int64_t>(*value);
}

// "new <device> <inode> <mtime_ns> <ctime_ns> <listed_ns>" or "new -", without the LF.
std::optional<DirectoryStamp> parse_stamp(std::string_view line, Subdir dir) {
  std::string_view rest = line;
  if (next_field(rest) != subdir_name(dir)) {
    return std::nullopt;
  }
  if (rest == "-") {
    return DirectoryStamp{};
  }
  DirectoryStamp stamp;
  std::optional<uint64_t> device = parse_u64(next_field(rest));
  std::optional<uint64_t> inode = parse_u64(next_field(rest));
  std::optional<int64_t> mtime = parse_time(next_field(rest));
  std::optional<int64_t> ctime = parse_time(next_field(rest));
  std::optional<int64_t> listed = parse_time(next_field(rest));
  if (!device || !inode || !mtime || !ctime || !listed || !rest.empty()) {
    return std::nullopt;
  }
  stamp.known = true;
  stamp.device = *device;
  stamp.inode = *inode;
  stamp.mtime_ns = *mtime;
  stamp.ctime_ns = *ctime;
  stamp.listed_ns = *listed;
  return stamp;
}

void append_number(std::string& out, uint64_t value) {
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

void append_stamp(std::string& out, Subdir dir, const DirectoryStamp& stamp) {
  out += subdir_name(dir);
  if (!stamp.known) {
    out += " -\n";
    return;
  }
  for (uint64_t value :
       {stamp.device, stamp.inode, static_cast<uint64_t>(stamp.mtime_ns),
        static_cast<uint64_t>(stamp.ctime_ns), static_cast<uint64_t>(stamp.listed_ns)}) {
    out += ' ';
    append_number(out, value);
  }
  out += '\n';
}

IndexEntry make_entry(const char* data, const char* name, size_t name_length, size_t base_length,
                      uint64_t size, Subdir dir) {
  return IndexEntry{delivery_time_us(std::string_view(name, base_length)),
                    size,
                    static_cast<uint32_t>(name - data),
                    static_cast<uint16_t>(name_length),
                    static_cast<uint16_t>(base_length),
                    dir};
}

// Entries must come in maildrop order, each file once: (time, base, subdirectory, name).
Status check_order(const char* data, const IndexEntry& a, const IndexEntry& b) {
  if (a.time != b.time) {
    return a.time < b.time ? Status::ok() : corrupt("out of order");
  }
  std::string_view base_a(data + a.name_offset, a.base_length);
  std::string_view base_b(data + b.name_offset, b.base_length);
  if (int cmp = base_a.compare(base_b); cmp != 0) {
    return cmp < 0 ? Status::ok() : corrupt("out of order");
  }
  if (a.dir != b.dir) {
    return a.dir < b.dir ? Status::ok() : corrupt("out of order");
  }
  int cmp = std::string_view(data + a.name_offset, a.name_length)
                .compare(std::string_view(data + b.name_offset, b.name_length));
  if (cmp == 0) {
    return corrupt("file listed twice");
  }
  return cmp < 0 ? Status::ok() : corrupt("out of order");
}

}  // namespace

DirectoryStamp stamp_of(const fs::FileInfo& info, int64_t listed_ns) {
  DirectoryStamp stamp;
  if (info.type != fs::FileType::kDirectory || info.mtime_ns < 0 || info.ctime_ns < 0 ||
      listed_ns < 0) {
    return stamp;  // unknown: the next login lists
  }
  stamp.known = true;
  stamp.device = info.device;
  stamp.inode = info.inode;
  stamp.mtime_ns = info.mtime_ns;
  stamp.ctime_ns = info.ctime_ns;
  stamp.listed_ns = listed_ns;
  return stamp;
}

bool is_settled(const DirectoryStamp& stamp) {
  return stamp.known && stamp.mtime_ns <= stamp.listed_ns - kSettledNs &&
         stamp.ctime_ns <= stamp.listed_ns - kSettledNs;
}

bool listing_still_valid(const DirectoryStamp& recorded, const fs::FileInfo& current) {
  return is_settled(recorded) && current.type == fs::FileType::kDirectory &&
         current.device == recorded.device && current.inode == recorded.inode &&
         current.mtime_ns == recorded.mtime_ns && current.ctime_ns == recorded.ctime_ns;
}

uint64_t index_checksum(std::string_view bytes) {
  // Four lanes, word i of the data in lane i mod 4, so the multiplications overlap instead of
  // waiting on each other: the checksum of a 5 MB index costs well under a millisecond.
  uint64_t lanes[4] = {kChecksumSeed, kChecksumSeed, kChecksumSeed, kChecksumSeed};
  const size_t words = bytes.size() / 8;
  size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    for (size_t lane = 0; lane < 4; ++lane) {
      checksum_mix(lanes[lane], load_le64(bytes.data() + 8 * (i + lane)));
    }
  }
  for (; i < words; ++i) {
    checksum_mix(lanes[i % 4], load_le64(bytes.data() + 8 * i));
  }
  if (size_t rest = bytes.size() % 8; rest != 0) {
    char tail[8] = {};  // the last word, zero-padded
    std::memcpy(tail, bytes.data() + 8 * words, rest);
    checksum_mix(lanes[words % 4], load_le64(tail));
  }
  uint64_t h = kChecksumSeed;
  for (uint64_t lane : lanes) {
    checksum_mix(h, lane);
  }
  checksum_mix(h, static_cast<uint64_t>(bytes.size()));
  return h;
}

IndexBuilder::IndexBuilder(const DirectoryStamp& new_stamp, const DirectoryStamp& cur_stamp)
    : text_(kHeader) {
  append_stamp(text_, Subdir::kNew, new_stamp);
  append_stamp(text_, Subdir::kCur, cur_stamp);
}

void IndexBuilder::reserve(size_t messages, size_t name_octets) {
  // A size of up to 9 digits, a space, "new/", the name and a LF; the end line.
  text_.reserve(text_.size() + messages * 15 + name_octets + 64);
}

void IndexBuilder::add(Subdir dir, std::string_view name, uint64_t size_octets) {
  append_number(text_, size_octets);
  text_ += ' ';
  text_ += subdir_name(dir);
  text_ += '/';
  if (std::none_of(name.begin(), name.end(),
                   [](char c) { return needs_escape(static_cast<unsigned char>(c)); })) {
    text_ += name;
  } else {
    static constexpr char kHexDigits[] = "0123456789ABCDEF";
    for (char c : name) {
      auto u = static_cast<unsigned char>(c);
      if (needs_escape(u)) {
        text_ += '%';
        text_ += kHexDigits[u >> 4];
        text_ += kHexDigits[u & 0xf];
      } else {
        text_ += c;
      }
    }
  }
  text_ += '\n';
  ++count_;
}

std::string IndexBuilder::finish() {
  uint64_t checksum = index_checksum(text_);
  text_ += kEndPrefix;
  append_number(text_, count_);
  text_ += ' ';
  text_ += checksum_hex(checksum);
  text_ += '\n';
  return std::move(text_);
}

Result<IndexFile> IndexFile::check(fs::FileContents file) {
  IndexFile index;
  index.file_ = std::move(file);
  const std::string_view all = index.file_.view();

  if (!all.starts_with(kHeader)) {
    for (std::string_view old : kOldHeaders) {
      if (all.starts_with(old)) {
        return Status::not_found("index file of an older format version");
      }
    }
    if (all.starts_with("poplar-index ")) {
      return corrupt("unknown version");
    }
    return corrupt("bad header");
  }
  // The end line is the last line; everything before it is covered by the checksum.
  if (all.size() < kHeader.size() + 1 || all.back() != '\n') {
    return corrupt("truncated");
  }
  size_t end_line = all.rfind('\n', all.size() - 2);
  if (end_line == std::string_view::npos || end_line + 1 < kHeader.size()) {
    return corrupt("truncated");
  }
  const std::string_view body = all.substr(0, end_line + 1);
  std::string_view trailer = all.substr(end_line + 1, all.size() - end_line - 2);
  if (!trailer.starts_with(kEndPrefix)) {
    return corrupt("missing end line");
  }
  trailer.remove_prefix(kEndPrefix.size());
  size_t space = trailer.find(' ');
  if (space == std::string_view::npos) {
    return corrupt("bad end line");
  }
  std::optional<uint64_t> count = parse_u64(trailer.substr(0, space));
  std::string_view checksum = trailer.substr(space + 1);
  if (!count || checksum.size() != 16 || checksum != checksum_hex(index_checksum(body))) {
    return corrupt("checksum mismatch");
  }
  index.count_ = *count;

  size_t pos = kHeader.size();
  for (Subdir dir : kSubdirs) {
    size_t newline = body.find('\n', pos);
    if (newline == std::string_view::npos) {
      return corrupt("missing directory line");
    }
    std::optional<DirectoryStamp> stamp = parse_stamp(body.substr(pos, newline - pos), dir);
    if (!stamp) {
      return corrupt("bad directory line");
    }
    index.stamps_[index_of(dir)] = *stamp;
    pos = newline + 1;
  }
  index.entries_begin_ = pos;
  index.entries_end_ = body.size();
  return index;
}

Status IndexFile::parse_entries(IndexEntrySink& sink) {
  char* const data = file_.data();
  const char* const limit = data + file_.size();  // scans may look past the body, never past this
  const char* p = data + entries_begin_;
  const char* const end = data + entries_end_;
  uint64_t parsed = 0;
  IndexEntry previous{};
  // One line per message, in maildrop order. The checked body ends with LF, so every line has
  // one.
  while (p < end) {
    // The size: 1-20 digits and a space.
    uint64_t size = 0;
    const char* digits = p;
    for (; p < end && *p >= '0' && *p <= '9'; ++p) {
      uint64_t digit = static_cast<uint64_t>(*p - '0');
      if (size > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
        return corrupt("bad size");
      }
      size = size * 10 + digit;
    }
    if (p == digits || end - p < 6 || p[0] != ' ' || p[4] != '/') {
      return corrupt("bad line");
    }
    Subdir dir;
    if (std::memcmp(p + 1, "new", 3) == 0) {
      dir = Subdir::kNew;
    } else if (std::memcmp(p + 1, "cur", 3) == 0) {
      dir = Subdir::kCur;
    } else {
      return corrupt("bad subdirectory");
    }
    char* const name = data + (p + 5 - data);
    // Every octet of an escaped name is visible ASCII; '/' never appears in a file name.
    LineScan scan = scan_line(name, limit);
    if (scan.newline == nullptr || scan.newline >= end) {
      return corrupt("bad line");
    }
    if (scan.bad) {
      return corrupt("bad name");
    }
    size_t name_length = static_cast<size_t>(scan.newline - name);
    size_t base_length = std::min(scan.colon, name_length);
    if (scan.escaped) {
      std::optional<size_t> decoded = unescape_in_place(name, scan.newline);
      if (!decoded) {
        return corrupt("bad escape");
      }
      name_length = *decoded;
      std::string_view n(name, name_length);
      if (n.find('/') != std::string_view::npos || n.find('\0') != std::string_view::npos) {
        return corrupt("bad name");
      }
      base_length = base_name(n).size();
    }
    if (name_length == 0 || name[0] == '.' || name_length > std::numeric_limits<uint16_t>::max()) {
      return corrupt("bad name");
    }
    IndexEntry entry = make_entry(data, name, name_length, base_length, size, dir);
    if (parsed > 0) {
      Status order = check_order(data, previous, entry);
      if (!order.is_ok()) {
        return order;
      }
    }
    sink.add(entry);
    previous = entry;
    ++parsed;
    p = scan.newline + 1;
  }
  if (parsed != count_) {
    return corrupt("count mismatch");
  }
  return Status::ok();
}

fs::FileContents IndexFile::take_file() {
  fs::FileContents file = std::move(file_);
  file_ = fs::FileContents();
  return file;
}

namespace {

class TableSink final : public IndexEntrySink {
 public:
  explicit TableSink(std::vector<IndexEntry>& table) : table_(table) {}
  void add(const IndexEntry& entry) override { table_.push_back(entry); }

 private:
  std::vector<IndexEntry>& table_;
};

}  // namespace

Result<IndexContents> IndexContents::parse(IndexFile file) {
  IndexContents contents;
  contents.file_ = std::move(file);
  // The end line's count, bounded by what the bytes could hold.
  contents.entries_.reserve(static_cast<size_t>(
      std::min<uint64_t>(contents.file_.count(), contents.text().size() / kMinLineOctets)));
  TableSink sink(contents.entries_);
  Status status = contents.file_.parse_entries(sink);
  if (!status.is_ok()) {
    return status;
  }
  return contents;
}

Result<IndexContents> IndexContents::parse(fs::FileContents file) {
  Result<IndexFile> checked = IndexFile::check(std::move(file));
  if (!checked.is_ok()) {
    return checked.status();
  }
  return parse(std::move(checked).value());
}

fs::FileContents IndexContents::take_file() {
  entries_.clear();
  return file_.take_file();
}

const uint64_t* IndexContents::find(Subdir dir, std::string_view name) const {
  std::string_view base = base_name(name);
  auto key = std::tuple(delivery_time_us(base), base, dir, name);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [this](const Entry& e, const auto& k) {
                               return std::tuple(e.time, this->base(e), e.dir, this->name(e)) < k;
                             });
  if (it == entries_.end() || it->dir != dir || this->name(*it) != name) {
    return nullptr;
  }
  return &it->size_octets;
}

Result<IndexFile> read_index_file(fs::FileSystem& fs, const std::string& maildir) {
  std::string path = maildir + "/" + std::string(kIndexFileName);
  Result<fs::FileContents> file = fs.read_file(path, kMaxIndexBytes);
  if (!file.is_ok()) {
    if (file.status().code() == ErrorCode::kLimit) {
      return corrupt("too large");
    }
    return file.status();
  }
  return IndexFile::check(std::move(file).value());
}

Status write_index_file(fs::FileSystem& fs, const std::string& maildir, std::string_view text) {
  std::string temp_path = maildir + "/" + std::string(kIndexTempFileName);
  std::string final_path = maildir + "/" + std::string(kIndexFileName);
  Result<fs::WritableFilePtr> file = fs.create_file(temp_path, 0600);
  if (!file.is_ok()) {
    return file.status();
  }
  Status status = (*file)->append(text);
  if (status.is_ok()) {
    status = (*file)->sync();
  }
  Status closed = (*file)->close();
  if (status.is_ok()) {
    status = closed;
  }
  if (status.is_ok()) {
    status = fs.rename(temp_path, final_path);
  }
  if (!status.is_ok()) {
    (void)fs.unlink(temp_path);  // best effort; the next write truncates it anyway
    return status;
  }
  // Without this the rename may not survive a crash; the index would then simply be rebuilt.
  return fs.sync_directory(maildir);
}

}  // namespace poplar::store::maildir
