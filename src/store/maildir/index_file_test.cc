// Tests of the index file format: round trip, the documented text, corruption detection
// (every truncation, every flipped bit), atomic writes under injected faults.
// Must never: touch files outside its temp dir. Single-threaded.
#include "store/maildir/index_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/fs/fault_injection_file_system.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

std::string sample_index() {
  IndexBuilder builder;
  builder.add("1700000001.M1P1Q1.host", 120);
  builder.add("1700000002.M2P1Q2.host", 0);
  builder.add("odd name%with\nnewline", 7);
  return builder.finish();
}

TEST(MaildirIndexTest, RoundTripsNamesAndSizes) {
  Result<IndexContents> parsed = IndexContents::parse(sample_index());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->size(), 3u);
  ASSERT_NE(parsed->find("1700000001.M1P1Q1.host"), nullptr);
  EXPECT_EQ(*parsed->find("1700000001.M1P1Q1.host"), 120u);
  EXPECT_EQ(*parsed->find("1700000002.M2P1Q2.host"), 0u);
  ASSERT_NE(parsed->find("odd name%with\nnewline"), nullptr);
  EXPECT_EQ(*parsed->find("odd name%with\nnewline"), 7u);
  EXPECT_EQ(parsed->find("absent"), nullptr);
}

TEST(MaildirIndexTest, FormatIsTheDocumentedText) {
  IndexBuilder builder;
  builder.add("a b", 5);
  std::string text = builder.finish();
  std::string body = "poplar-index 1\n5 a%20b\n";
  ASSERT_TRUE(text.starts_with(body));
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx",
                static_cast<unsigned long long>(index_checksum(body)));
  EXPECT_EQ(text, body + "end 1 " + checksum + "\n");
}

TEST(MaildirIndexTest, EmptyIndexIsValid) {
  Result<IndexContents> parsed = IndexContents::parse(IndexBuilder().finish());
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed->size(), 0u);
}

TEST(MaildirIndexTest, EveryTruncationIsDetected) {
  std::string text = sample_index();
  for (size_t n = 0; n < text.size(); ++n) {
    EXPECT_EQ(IndexContents::parse(text.substr(0, n)).status().code(), ErrorCode::kCorrupt) << n;
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

TEST(MaildirIndexTest, RejectsOtherVersionsAndTrailingGarbage) {
  std::string text = sample_index();
  std::string v2 = text;
  v2[13] = '2';
  EXPECT_EQ(IndexContents::parse(v2).status().code(), ErrorCode::kCorrupt);
  EXPECT_FALSE(IndexContents::parse(text + "x\n").is_ok());
  EXPECT_FALSE(IndexContents::parse("garbage").is_ok());
}

TEST(MaildirIndexTest, EntriesComeOutInMaildropOrderWhateverTheFileOrder) {
  IndexBuilder builder;  // written out of order, as a hand-made index might be
  builder.add("1700000002.b", 2);
  builder.add("900000000.z", 9);
  builder.add("1700000002.a", 1);
  builder.add("no-time", 0);
  Result<IndexContents> parsed = IndexContents::parse(builder.finish());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  std::vector<std::string_view> order;
  for (const IndexContents::Entry& e : parsed->entries()) {
    order.push_back(e.base);
  }
  EXPECT_EQ(order, (std::vector<std::string_view>{"no-time", "900000000.z", "1700000002.a",
                                                  "1700000002.b"}));
  EXPECT_EQ(*parsed->find("1700000002.a"), 1u);
  EXPECT_EQ(*parsed->find("900000000.z"), 9u);
}

TEST(MaildirIndexTest, RejectsDuplicateNamesEvenWithAValidChecksum) {
  IndexBuilder builder;
  builder.add("same", 1);
  builder.add("same", 2);
  EXPECT_EQ(IndexContents::parse(builder.finish()).status().code(), ErrorCode::kCorrupt);
}

TEST(MaildirIndexTest, SurvivesMovingTheContents) {
  Result<IndexContents> parsed = IndexContents::parse(sample_index());
  ASSERT_TRUE(parsed.is_ok());
  IndexContents moved = std::move(parsed).value();
  IndexContents again = std::move(moved);
  ASSERT_NE(again.find("odd name%with\nnewline"), nullptr);
  EXPECT_EQ(*again.find("1700000001.M1P1Q1.host"), 120u);
}

TEST(MaildirIndexTest, WritesAtomicallyAndReadsBack) {
  testing::TempDir dir;
  fs::FileSystem& posix = fs::posix_file_system();
  std::string text = sample_index();
  ASSERT_TRUE(write_index_file(posix, dir.path().string(), text).is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / kIndexTempFileName));
  Result<IndexContents> read = read_index_file(posix, dir.path().string());
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->size(), 3u);
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
  IndexBuilder builder;
  builder.add("new", 1);
  std::string new_text = builder.finish();
  for (uint64_t n = 1; n <= ops - 1; ++n) {  // the last op (directory fsync) is after the rename
    faulty.reset();
    faulty.fail_at(n, ENOSPC);
    EXPECT_FALSE(write_index_file(faulty, dir.path().string(), new_text).is_ok()) << n;
    faulty.reset();
    Result<IndexContents> read = read_index_file(faulty, dir.path().string());
    ASSERT_TRUE(read.is_ok()) << n;
    EXPECT_EQ(read->size(), 3u) << n;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / kIndexTempFileName)) << n;
  }
}

}  // namespace
}  // namespace poplar::store::maildir
