// Tests of the index file format: round trip, the documented text, the directory stamps and
// the rule that trusts them, corruption detection (every truncation, every flipped bit),
// names that could leave their directory, older versions, atomic writes under injected faults.
// Must never: touch files outside its temp dir. Single-threaded.
#include "store/maildir/index_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "store/fs/fault_injection_file_system.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

// The index file at `maildir`, read, checked and parsed.
Result<IndexContents> read_contents(fs::FileSystem& fs, const std::string& maildir) {
  Result<IndexFile> file = read_index_file(fs, maildir);
  if (!file.is_ok()) {
    return file.status();
  }
  return IndexContents::parse(std::move(file).value());
}

constexpr int64_t kSecond = 1'000'000'000;

DirectoryStamp settled_stamp(uint64_t inode) {
  DirectoryStamp stamp;
  stamp.known = true;
  stamp.device = 2049;
  stamp.inode = inode;
  stamp.mtime_ns = 1700000000 * kSecond + 123456789;
  stamp.ctime_ns = stamp.mtime_ns + 5;
  stamp.listed_ns = stamp.ctime_ns + 60 * kSecond;
  return stamp;
}

std::string sample_index() {
  IndexBuilder builder(settled_stamp(11), DirectoryStamp{});
  builder.add(Subdir::kNew, "odd name%with\nnewline", 7);  // no time: oldest
  builder.add(Subdir::kNew, "1700000001.M1P1Q1.host", 120);
  builder.add(Subdir::kCur, "1700000002.M2P1Q2.host:2,S", 0);
  return builder.finish();
}

fs::FileInfo directory_like(const DirectoryStamp& stamp) {
  fs::FileInfo info;
  info.type = fs::FileType::kDirectory;
  info.device = stamp.device;
  info.inode = stamp.inode;
  info.mtime_ns = stamp.mtime_ns;
  info.ctime_ns = stamp.ctime_ns;
  return info;
}

TEST(MaildirIndexTest, RoundTripsNamesSizesAndStamps) {
  Result<IndexContents> parsed = IndexContents::parse(sample_index());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->size(), 3u);
  EXPECT_EQ(parsed->stamp(Subdir::kNew), settled_stamp(11));
  EXPECT_FALSE(parsed->stamp(Subdir::kCur).known);
  ASSERT_NE(parsed->find(Subdir::kNew, "1700000001.M1P1Q1.host"), nullptr);
  EXPECT_EQ(*parsed->find(Subdir::kNew, "1700000001.M1P1Q1.host"), 120u);
  EXPECT_EQ(*parsed->find(Subdir::kCur, "1700000002.M2P1Q2.host:2,S"), 0u);
  ASSERT_NE(parsed->find(Subdir::kNew, "odd name%with\nnewline"), nullptr);
  EXPECT_EQ(*parsed->find(Subdir::kNew, "odd name%with\nnewline"), 7u);
  EXPECT_EQ(parsed->find(Subdir::kCur, "1700000001.M1P1Q1.host"), nullptr) << "wrong directory";
  EXPECT_EQ(parsed->find(Subdir::kCur, "1700000002.M2P1Q2.host"), nullptr) << "no flags";
  EXPECT_EQ(parsed->find(Subdir::kNew, "absent"), nullptr);
}

TEST(MaildirIndexTest, EntriesKnowTheirBaseNameAndDirectory) {
  Result<IndexContents> parsed = IndexContents::parse(sample_index());
  ASSERT_TRUE(parsed.is_ok());
  const IndexContents::Entry& flagged = parsed->entries()[2];
  EXPECT_EQ(parsed->name(parsed->entries()[0]), "odd name%with\nnewline");
  EXPECT_EQ(parsed->name(flagged), "1700000002.M2P1Q2.host:2,S");
  EXPECT_EQ(parsed->base(flagged), "1700000002.M2P1Q2.host");
  EXPECT_EQ(flagged.dir, Subdir::kCur);
  EXPECT_EQ(flagged.time, 1700000002'000002u);  // microseconds
}

TEST(MaildirIndexTest, FormatIsTheDocumentedText) {
  DirectoryStamp stamp = settled_stamp(42);
  IndexBuilder builder(stamp, DirectoryStamp{});
  builder.add(Subdir::kNew, "a b", 5);
  builder.add(Subdir::kCur, "c:2,RS", 1234);
  std::string text = builder.finish();
  std::string body =
      "poplar-index 3\n"
      "new 2049 42 1700000000123456789 1700000000123456794 1700000060123456794\n"
      "cur -\n"
      "5 new/a%20b\n"
      "1234 cur/c:2,RS\n";
  ASSERT_TRUE(text.starts_with(body)) << text;
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx",
                static_cast<unsigned long long>(index_checksum(body)));
  EXPECT_EQ(text, body + "end 2 " + checksum + "\n");
}

// The checksum exactly as docs/formats/maildir.md defines it, one octet at a time.
uint64_t documented_checksum(std::string_view data) {
  auto mix = [](uint64_t h, uint64_t w) {
    h = (h ^ w) * 0x100000001b3ULL;
    return h ^ (h >> 32);
  };
  uint64_t lanes[4] = {0xcbf29ce484222325ULL, 0xcbf29ce484222325ULL, 0xcbf29ce484222325ULL,
                       0xcbf29ce484222325ULL};
  for (size_t word = 0; word * 8 < data.size(); ++word) {
    uint64_t w = 0;
    for (size_t b = 0; b < 8; ++b) {
      size_t at = word * 8 + b;
      uint64_t octet = at < data.size() ? static_cast<unsigned char>(data[at]) : 0;
      w |= octet << (8 * b);
    }
    lanes[word % 4] = mix(lanes[word % 4], w);
  }
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint64_t lane : lanes) {
    h = mix(h, lane);
  }
  return mix(h, data.size());
}

TEST(MaildirIndexTest, ChecksumIsTheDocumentedOne) {
  std::string data;
  for (size_t n = 0; n < 100; ++n) {
    EXPECT_EQ(index_checksum(data), documented_checksum(data)) << n;
    data += static_cast<char>('a' + n % 26 + (n % 7 == 0 ? 0x80 : 0));
  }
}

TEST(MaildirIndexTest, EmptyIndexIsValid) {
  Result<IndexContents> parsed =
      IndexContents::parse(IndexBuilder(DirectoryStamp{}, DirectoryStamp{}).finish());
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed->size(), 0u);
}

TEST(MaildirIndexTest, EveryTruncationIsDetected) {
  std::string text = sample_index();
  for (size_t n = 0; n < text.size(); ++n) {
    EXPECT_EQ(IndexContents::parse(std::string_view(text).substr(0, n)).status().code(),
              ErrorCode::kCorrupt)
        << n;
  }
}

TEST(MaildirIndexTest, EveryFlippedBitIsDetected) {
  std::string text = sample_index();
  for (size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = text;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_FALSE(IndexContents::parse(bad).is_ok()) << i << ":" << bit;
    }
  }
}

TEST(MaildirIndexTest, AnOlderVersionIsAbsentNotCorrupt) {
  // A version 1 index (base names and sizes only) as the previous release wrote it.
  std::string body = "poplar-index 1\n5 1700000001.M1P1Q1.host\n";
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx",
                static_cast<unsigned long long>(index_checksum(body)));
  EXPECT_EQ(IndexContents::parse(body + "end 1 " + checksum + "\n").status().code(),
            ErrorCode::kNotFound);
  // Version 2 ordered messages of one second by their names' bytes: rebuilt, not trusted.
  std::string v2 = sample_index();
  v2[13] = '2';
  EXPECT_EQ(IndexContents::parse(v2).status().code(), ErrorCode::kNotFound);
}

TEST(MaildirIndexTest, RejectsOtherVersionsAndTrailingGarbage) {
  std::string text = sample_index();
  std::string v4 = text;
  v4[13] = '4';
  EXPECT_EQ(IndexContents::parse(v4).status().code(), ErrorCode::kCorrupt);
  EXPECT_FALSE(IndexContents::parse(text + "x\n").is_ok());
  EXPECT_FALSE(IndexContents::parse("garbage").is_ok());
}

TEST(MaildirIndexTest, EntriesAreInMaildropOrderAndAnyOtherOrderIsCorrupt) {
  IndexBuilder builder(DirectoryStamp{}, DirectoryStamp{});  // in order
  builder.add(Subdir::kNew, "no-time", 0);
  builder.add(Subdir::kNew, "900000000.z", 9);
  builder.add(Subdir::kNew, "1700000002.a", 3);
  builder.add(Subdir::kCur, "1700000002.a:2,S", 1);
  builder.add(Subdir::kNew, "1700000002.b", 2);
  Result<IndexContents> parsed = IndexContents::parse(builder.finish());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  std::vector<std::string_view> order;
  for (const IndexContents::Entry& e : parsed->entries()) {
    order.push_back(parsed->name(e));
  }
  EXPECT_EQ(order, (std::vector<std::string_view>{"no-time", "900000000.z", "1700000002.a",
                                                  "1700000002.a:2,S", "1700000002.b"}));
  EXPECT_EQ(*parsed->find(Subdir::kCur, "1700000002.a:2,S"), 1u);
  EXPECT_EQ(*parsed->find(Subdir::kNew, "900000000.z"), 9u);

  // Every pair swapped: by time, by base name, by directory, by name; also with escapes.
  const std::pair<std::pair<Subdir, std::string_view>, std::pair<Subdir, std::string_view>>
      swapped[] = {{{Subdir::kNew, "2.a"}, {Subdir::kNew, "1.a"}},
                   {{Subdir::kNew, "1.b"}, {Subdir::kNew, "1.a"}},
                   {{Subdir::kCur, "1.a:2,S"}, {Subdir::kNew, "1.a"}},
                   {{Subdir::kCur, "1.a:2,T"}, {Subdir::kCur, "1.a:2,S"}},
                   {{Subdir::kNew, "1.b c"}, {Subdir::kNew, "1.a"}},
                   {{Subdir::kNew, "1.b"}, {Subdir::kNew, "1.a c"}}};
  for (const auto& [first, second] : swapped) {
    IndexBuilder bad(DirectoryStamp{}, DirectoryStamp{});
    bad.add(first.first, first.second, 1);
    bad.add(second.first, second.second, 1);
    EXPECT_EQ(IndexContents::parse(bad.finish()).status().code(), ErrorCode::kCorrupt)
        << first.second << " before " << second.second;
  }
}

TEST(MaildirIndexTest, RejectsAFileListedTwiceEvenWithAValidChecksum) {
  for (bool in_order : {true, false}) {
    IndexBuilder builder(DirectoryStamp{}, DirectoryStamp{});
    builder.add(Subdir::kNew, "2.same", 1);
    if (!in_order) {
      builder.add(Subdir::kNew, "3.other", 1);
    }
    builder.add(Subdir::kNew, "2.same", 2);
    EXPECT_EQ(IndexContents::parse(builder.finish()).status().code(), ErrorCode::kCorrupt)
        << in_order;
  }
  // The same base name in both directories is two files (a careless copy), both listed.
  IndexBuilder builder(DirectoryStamp{}, DirectoryStamp{});
  builder.add(Subdir::kNew, "2.same", 1);
  builder.add(Subdir::kCur, "2.same:2,S", 2);
  EXPECT_TRUE(IndexContents::parse(builder.finish()).is_ok());
}

TEST(MaildirIndexTest, RejectsNamesThatCouldLeaveTheirDirectory) {
  // A hand-made index with a valid checksum must not make RETR or DELE touch another file.
  for (std::string_view name :
       {std::string_view("../../etc/passwd"), std::string_view("a/b"), std::string_view(".."),
        std::string_view(".hidden"), std::string_view(""), std::string_view("nul\0byte", 8)}) {
    IndexBuilder builder(DirectoryStamp{}, DirectoryStamp{});
    builder.add(Subdir::kNew, name, 1);
    EXPECT_EQ(IndexContents::parse(builder.finish()).status().code(), ErrorCode::kCorrupt) << name;
  }
  // Escaped forms of '/' are caught after decoding too.
  std::string body =
      "poplar-index 3\nnew -\ncur -\n"
      "1 new/..%2F..%2Fetc%2Fpasswd\n";
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx",
                static_cast<unsigned long long>(index_checksum(body)));
  EXPECT_EQ(IndexContents::parse(body + "end 1 " + checksum + "\n").status().code(),
            ErrorCode::kCorrupt);
}

TEST(MaildirIndexTest, RejectsRawOctetsOutsideVisibleAscii) {
  std::string body = "poplar-index 3\nnew -\ncur -\n1 new/with space\n";
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx",
                static_cast<unsigned long long>(index_checksum(body)));
  EXPECT_EQ(IndexContents::parse(body + "end 1 " + checksum + "\n").status().code(),
            ErrorCode::kCorrupt);
}

// A hand-made index: the lines given, a correct end line.
std::string craft(const std::vector<std::string>& message_lines) {
  std::string body = "poplar-index 3\nnew -\ncur -\n";
  for (const std::string& line : message_lines) {
    body += line + "\n";
  }
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx",
                static_cast<unsigned long long>(index_checksum(body)));
  return body + "end " + std::to_string(message_lines.size()) + " " + checksum + "\n";
}

TEST(MaildirIndexTest, ChecksNamesOfEveryLengthAtEveryPosition) {
  // The name scan works eight octets at a time: every length and position around the word
  // boundaries must give what an octet-by-octet reading gives.
  for (size_t length = 1; length <= 40; ++length) {
    std::string plain = "9" + std::string(length - 1, 'a');
    SCOPED_TRACE(length);
    Result<IndexContents> ok = IndexContents::parse(craft({"1 new/" + plain}));
    ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
    EXPECT_EQ(ok->name(ok->entries()[0]), plain);
    EXPECT_EQ(ok->base(ok->entries()[0]), plain);
    for (size_t at = 1; at < length; ++at) {
      SCOPED_TRACE(at);
      std::string with_colon = plain;
      with_colon[at] = ':';
      Result<IndexContents> flagged = IndexContents::parse(craft({"1 cur/" + with_colon}));
      ASSERT_TRUE(flagged.is_ok());
      EXPECT_EQ(flagged->base(flagged->entries()[0]).size(), at);
      for (char bad : {' ', '/', '\x7f', '\x80', '\t', '\r'}) {
        std::string broken = plain;
        broken[at] = bad;
        EXPECT_EQ(IndexContents::parse(craft({"1 new/" + broken})).status().code(),
                  ErrorCode::kCorrupt)
            << static_cast<int>(bad);
      }
      std::string escaped = plain.substr(0, at) + "%3A" + plain.substr(at);  // an escaped ':'
      Result<IndexContents> decoded = IndexContents::parse(craft({"1 new/" + escaped}));
      ASSERT_TRUE(decoded.is_ok());
      EXPECT_EQ(decoded->name(decoded->entries()[0]), plain.substr(0, at) + ":" + plain.substr(at));
      EXPECT_EQ(decoded->base(decoded->entries()[0]).size(), at);
    }
  }
}

TEST(MaildirIndexTest, DamagedIndexesWithValidChecksumsNeverBreakTheInvariants) {
  // A poor man's fuzzer (run under ASan in make test): random edits of the message lines,
  // re-sealed with a correct end line, so the parser's own checks are all that stands between
  // the bytes and the store.
  std::mt19937 random(2);
  const std::string alphabet = std::string("0123456789 /:%,.ncuewAF\x7f\x80\xff") + '\0';
  std::vector<std::string> lines = {"120 new/1700000001.M1P1Q1.host",
                                    "0 cur/1700000002.M2P1Q2.host,S=1,W=3:2,S",
                                    "7 new/1700000003.odd%20name%25", "44 cur/1800000000.x:2,"};
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::string> damaged = lines;
    for (int edits = 1 + static_cast<int>(random() % 3); edits > 0; --edits) {
      std::string& line = damaged[random() % damaged.size()];
      size_t at = random() % (line.size() + 1);
      switch (random() % 3) {
        case 0:
          line.insert(at, 1, alphabet[random() % alphabet.size()]);
          break;
        case 1:
          if (at < line.size()) {
            line.erase(at, 1);
          }
          break;
        default:
          if (at < line.size()) {
            line[at] = alphabet[random() % alphabet.size()];
          }
      }
    }
    Result<IndexContents> parsed = IndexContents::parse(craft(damaged));
    if (!parsed.is_ok()) {
      EXPECT_EQ(parsed.status().code(), ErrorCode::kCorrupt);
      continue;
    }
    for (const IndexContents::Entry& e : parsed->entries()) {
      std::string_view name = parsed->name(e);
      ASSERT_LE(e.name_offset + e.name_length, parsed->text().size());
      EXPECT_FALSE(name.empty());
      EXPECT_NE(name.front(), '.');
      EXPECT_EQ(name.find('/'), std::string_view::npos) << name;
      EXPECT_EQ(name.find('\0'), std::string_view::npos);
      EXPECT_EQ(parsed->base(e), base_name(name));
      EXPECT_EQ(e.time, delivery_time_us(parsed->base(e)));
    }
  }
}

TEST(MaildirIndexTest, SurvivesMovingTheContentsAndHandingOverTheBytes) {
  Result<IndexContents> parsed = IndexContents::parse(sample_index());
  ASSERT_TRUE(parsed.is_ok());
  IndexContents moved = std::move(parsed).value();
  IndexContents again = std::move(moved);
  ASSERT_NE(again.find(Subdir::kNew, "odd name%with\nnewline"), nullptr);
  EXPECT_EQ(*again.find(Subdir::kNew, "1700000001.M1P1Q1.host"), 120u);
  const IndexContents::Entry last = again.entries().back();
  fs::FileContents bytes = again.take_file();
  EXPECT_EQ(bytes.view().substr(last.name_offset, last.name_length), "1700000002.M2P1Q2.host:2,S");
  EXPECT_EQ(again.size(), 0u);
}

TEST(MaildirIndexTest, StampsOfAListingAreTrustedOnlyWhenSettledAndUnchanged) {
  DirectoryStamp stamp = settled_stamp(7);
  fs::FileInfo same = directory_like(stamp);
  EXPECT_TRUE(is_settled(stamp));
  EXPECT_TRUE(listing_still_valid(stamp, same));

  // Any difference in identity or times means the directory may have changed.
  for (int field = 0; field < 4; ++field) {
    fs::FileInfo changed = same;
    switch (field) {
      case 0:
        ++changed.device;
        break;
      case 1:
        ++changed.inode;
        break;
      case 2:
        ++changed.mtime_ns;
        break;
      case 3:
        ++changed.ctime_ns;
        break;
    }
    EXPECT_FALSE(listing_still_valid(stamp, changed)) << field;
  }
  fs::FileInfo not_a_directory = same;
  not_a_directory.type = fs::FileType::kRegular;
  EXPECT_FALSE(listing_still_valid(stamp, not_a_directory));

  // Changed less than kSettledNs before the listing: a change in the same clock tick after the
  // listing could have left every stamp as it was.
  for (bool mtime : {true, false}) {
    DirectoryStamp recent = stamp;
    (mtime ? recent.mtime_ns : recent.ctime_ns) = recent.listed_ns - kSettledNs + 1;
    EXPECT_FALSE(is_settled(recent)) << mtime;
    EXPECT_FALSE(listing_still_valid(recent, directory_like(recent))) << mtime;
  }
  DirectoryStamp edge = stamp;
  edge.mtime_ns = edge.ctime_ns = edge.listed_ns - kSettledNs;
  EXPECT_TRUE(is_settled(edge));
  // A directory stamped in the future (clock skew) is never settled.
  DirectoryStamp future = stamp;
  future.ctime_ns = future.listed_ns + kSecond;
  EXPECT_FALSE(is_settled(future));
  // Unknown stamps never are.
  EXPECT_FALSE(listing_still_valid(DirectoryStamp{}, fs::FileInfo{}));
}

TEST(MaildirIndexTest, StampOfTakesTheStatIdentity) {
  fs::FileInfo info;
  info.type = fs::FileType::kDirectory;
  info.device = 1;
  info.inode = 2;
  info.mtime_ns = 3;
  info.ctime_ns = 4;
  DirectoryStamp stamp = stamp_of(info, 5);
  EXPECT_TRUE(stamp.known);
  EXPECT_EQ(stamp.device, 1u);
  EXPECT_EQ(stamp.inode, 2u);
  EXPECT_EQ(stamp.mtime_ns, 3);
  EXPECT_EQ(stamp.ctime_ns, 4);
  EXPECT_EQ(stamp.listed_ns, 5);
  info.mtime_ns = -1;  // before 1970: not representable in the file
  EXPECT_FALSE(stamp_of(info, 5).known);
  info.mtime_ns = 3;
  info.type = fs::FileType::kRegular;
  EXPECT_FALSE(stamp_of(info, 5).known);
}

TEST(MaildirIndexTest, WritesAtomicallyAndReadsBack) {
  testing::TempDir dir;
  fs::FileSystem& posix = fs::posix_file_system();
  std::string text = sample_index();
  ASSERT_TRUE(write_index_file(posix, dir.path().string(), text).is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / kIndexTempFileName));
  Result<IndexContents> read = read_contents(posix, dir.path().string());
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->size(), 3u);
  EXPECT_EQ(read->stamp(Subdir::kNew), settled_stamp(11));
}

TEST(MaildirIndexTest, ReadsTheIndexInOneOperation) {
  testing::TempDir dir;
  fs::FaultInjectionFileSystem faulty(fs::posix_file_system());
  ASSERT_TRUE(write_index_file(faulty, dir.path().string(), sample_index()).is_ok());
  faulty.reset();
  ASSERT_TRUE(read_index_file(faulty, dir.path().string()).is_ok());
  EXPECT_EQ(faulty.operation_count(), 1u);
  EXPECT_EQ(faulty.count(fs::FaultInjectionFileSystem::Op::kReadFile, "poplar-index"), 1u);
}

TEST(MaildirIndexTest, MissingIndexIsNotFound) {
  testing::TempDir dir;
  EXPECT_EQ(read_index_file(fs::posix_file_system(), dir.path().string()).status().code(),
            ErrorCode::kNotFound);
}

TEST(MaildirIndexTest, AFailedWriteLeavesTheOldIndexAndNoTemporaryFile) {
  testing::TempDir dir;
  fs::FaultInjectionFileSystem faulty(fs::posix_file_system());
  std::string old_text = sample_index();
  ASSERT_TRUE(write_index_file(faulty, dir.path().string(), old_text).is_ok());
  uint64_t ops = faulty.operation_count();  // create, append, sync, close, rename, sync dir
  IndexBuilder builder(DirectoryStamp{}, DirectoryStamp{});
  builder.add(Subdir::kNew, "new", 1);
  std::string new_text = builder.finish();
  for (uint64_t n = 1; n <= ops - 1; ++n) {  // the last op (directory fsync) is after the rename
    faulty.reset();
    faulty.fail_at(n, ENOSPC);
    EXPECT_FALSE(write_index_file(faulty, dir.path().string(), new_text).is_ok()) << n;
    faulty.reset();
    Result<IndexContents> read = read_contents(faulty, dir.path().string());
    ASSERT_TRUE(read.is_ok()) << n;
    EXPECT_EQ(read->size(), 3u) << n;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / kIndexTempFileName)) << n;
  }
}

}  // namespace
}  // namespace poplar::store::maildir
