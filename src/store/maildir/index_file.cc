// Reading, checking and atomically writing Poplar's Maildir index file; see index_file.h.
//
// Must never: write the index in place, or accept a file whose checksum does not match.
//
// Thread-safety: no shared state; writers are serialized by the maildrop lock.
#include "store/maildir/index_file.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "base/strict_number.h"
#include "store/maildir/file_name.h"

namespace poplar::store::maildir {
namespace {

constexpr std::string_view kHeader = "poplar-index 1\n";
constexpr std::string_view kEndPrefix = "end ";
constexpr uint64_t kChecksumSeed = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
constexpr uint64_t kChecksumPrime = 0x100000001b3ULL;      // FNV-1a 64 prime
// An index of a million messages is about 70 MB; anything far beyond is not ours.
constexpr size_t kMaxIndexBytes = size_t{1} << 30;
// Large reads: the index is read once per login, front to back.
constexpr size_t kReadBlockBytes = 64 * 1024;

bool needs_escape(unsigned char c) { return c < 0x21 || c > 0x7e || c == '%'; }

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

bool unescape(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return false;
    }
    int high = hex_value(in[i + 1]);
    int low = hex_value(in[i + 2]);
    if (high < 0 || low < 0) {
      return false;
    }
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

std::string checksum_hex(uint64_t value) {
  std::array<char, 17> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%016llx", static_cast<unsigned long long>(value));
  return std::string(buffer.data(), 16);
}

Status corrupt(std::string_view why) { return Status::corrupt("index file: " + std::string(why)); }

bool entry_less(const IndexContents::Entry& a, const IndexContents::Entry& b) {
  return maildrop_order_less(a.time, a.base, b.time, b.base);
}

}  // namespace

uint64_t index_checksum(std::string_view bytes) {
  uint64_t h = kChecksumSeed;
  size_t i = 0;
  auto mix = [&h](uint64_t word) {
    h = (h ^ word) * kChecksumPrime;
    h ^= h >> 32;
  };
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word = 0;
    for (int b = 7; b >= 0; --b) {  // little-endian, whatever the host
      word = (word << 8) | static_cast<unsigned char>(bytes[i + static_cast<size_t>(b)]);
    }
    mix(word);
  }
  if (i < bytes.size()) {
    uint64_t word = 0;
    for (size_t b = bytes.size(); b > i; --b) {
      word = (word << 8) | static_cast<unsigned char>(bytes[b - 1]);
    }
    mix(word);
  }
  mix(static_cast<uint64_t>(bytes.size()));
  return h;
}

IndexBuilder::IndexBuilder() : text_(kHeader) {}

void IndexBuilder::add(std::string_view base, uint64_t size_octets) {
  text_ += std::to_string(size_octets);
  text_ += ' ';
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  for (char c : base) {
    auto u = static_cast<unsigned char>(c);
    if (needs_escape(u)) {
      text_ += '%';
      text_ += kHexDigits[u >> 4];
      text_ += kHexDigits[u & 0xf];
    } else {
      text_ += c;
    }
  }
  text_ += '\n';
  ++count_;
}

std::string IndexBuilder::finish() {
  uint64_t checksum = index_checksum(text_);
  text_ += kEndPrefix;
  text_ += std::to_string(count_);
  text_ += ' ';
  text_ += checksum_hex(checksum);
  text_ += '\n';
  return std::move(text_);
}

Result<IndexContents> IndexContents::parse(std::string text) {
  IndexContents contents;
  contents.text_ = std::make_unique<std::string>(std::move(text));
  std::string_view all(*contents.text_);

  if (!all.starts_with(kHeader)) {
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
  std::string_view body = all.substr(0, end_line + 1);
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

  std::string_view lines = body.substr(kHeader.size());
  contents.entries_.reserve(static_cast<size_t>(std::min<uint64_t>(*count, all.size() / 3)));
  bool sorted = true;
  while (!lines.empty()) {
    size_t newline = lines.find('\n');  // body ends with '\n', so there always is one
    std::string_view line = lines.substr(0, newline);
    lines.remove_prefix(newline + 1);
    size_t sep = line.find(' ');
    if (sep == std::string_view::npos) {
      return corrupt("bad line");
    }
    std::optional<uint64_t> size = parse_u64(line.substr(0, sep));
    std::string_view name = line.substr(sep + 1);
    if (!size) {
      return corrupt("bad size");
    }
    if (name.find('%') != std::string_view::npos) {
      auto decoded = std::make_unique<std::string>();
      if (!unescape(name, decoded.get())) {
        return corrupt("bad escape");
      }
      name = *decoded;
      contents.unescaped_.push_back(std::move(decoded));
    }
    Entry entry{delivery_time(name), name, *size};
    if (!contents.entries_.empty()) {
      const Entry& last = contents.entries_.back();
      sorted = sorted && maildrop_order_less(last.time, last.base, entry.time, entry.base);
    }
    contents.entries_.push_back(entry);
  }
  if (contents.entries_.size() != *count) {
    return corrupt("count mismatch");
  }
  if (!sorted) {
    std::sort(contents.entries_.begin(), contents.entries_.end(), entry_less);
  }
  for (size_t i = 1; i < contents.entries_.size(); ++i) {
    if (contents.entries_[i - 1].base == contents.entries_[i].base) {
      return corrupt("duplicate name");
    }
  }
  return contents;
}

const uint64_t* IndexContents::find(std::string_view base) const {
  Entry key{delivery_time(base), base, 0};
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key, entry_less);
  return it != entries_.end() && it->base == base ? &it->size_octets : nullptr;
}

Result<IndexContents> read_index_file(fs::FileSystem& fs, const std::string& maildir) {
  std::string path = maildir + "/" + std::string(kIndexFileName);
  // The index of 100,000 messages is about 5 MB and is read at every login: size the buffer
  // once from stat() instead of growing it, and read it in a few large reads.
  Result<fs::FileInfo> info = fs.stat(path);
  if (!info.is_ok()) {
    return info.status();
  }
  if (info->size_bytes > kMaxIndexBytes) {
    return corrupt("too large");
  }
  Result<fs::SequentialFilePtr> file = fs.open_for_read(path);
  if (!file.is_ok()) {
    return file.status();
  }
  // One spare block, so that the end of the file is seen without growing the buffer.
  std::string text(static_cast<size_t>(info->size_bytes) + kReadBlockBytes, '\0');
  size_t used = 0;
  for (;;) {
    if (used == text.size()) {
      if (text.size() > kMaxIndexBytes) {
        return corrupt("too large");
      }
      text.resize(text.size() * 2);  // it grew since stat(): not ours to judge, read on
    }
    Result<size_t> n = (*file)->read(std::span<char>(text.data() + used, text.size() - used));
    if (!n.is_ok()) {
      return n.status();
    }
    if (*n == 0) {
      break;
    }
    used += *n;
  }
  text.resize(used);
  return IndexContents::parse(std::move(text));
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
