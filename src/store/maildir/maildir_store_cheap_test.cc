// MaildirStore::open_is_cheap: the hint that lets a server open small, indexed maildrops on its
// event loop.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "store/fs/file_system.h"
#include "store/maildir/maildir_store.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

TEST(MaildirStoreCheapOpenTest, OnlyAnIndexedSmallMaildropIsCheap) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "Maildir").string();
  MaildirStore store(fs::posix_file_system());
  EXPECT_FALSE(store.open_is_cheap(root));  // does not exist
  testing::MaildirBuilder builder(root);
  builder.add("Subject: a\n\nbody\n");
  EXPECT_FALSE(store.open_is_cheap(root));         // no index yet: a first open may read bodies
  ASSERT_TRUE(store.open_maildrop(root).is_ok());  // writes the index
  EXPECT_TRUE(store.open_is_cheap(root));
}

TEST(MaildirStoreCheapOpenTest, ADeliveryAfterTheIndexIsNotCheap) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "Maildir").string();
  MaildirStore store(fs::posix_file_system());
  testing::MaildirBuilder builder(root);
  builder.add("Subject: a\n\nbody\n");
  ASSERT_TRUE(store.open_maildrop(root).is_ok());
  ASSERT_TRUE(store.open_is_cheap(root));
  // new/ must change after the index on a clock with coarse ticks.
  std::filesystem::file_time_type later =
      std::filesystem::last_write_time(dir.path() / "Maildir" / "poplar-index") +
      std::chrono::seconds(2);
  builder.add("Subject: b\n\nbody\n");
  std::filesystem::last_write_time(dir.path() / "Maildir" / "new", later);
  EXPECT_FALSE(store.open_is_cheap(root));
}

TEST(MaildirStoreCheapOpenTest, ABigIndexIsNotCheap) {
  testing::TempDir dir;
  const std::string root = (dir.path() / "Maildir").string();
  testing::MaildirBuilder builder(root);
  MaildirStore store(fs::posix_file_system());
  for (int i = 0; i < 1500; ++i) {
    builder.add("Subject: x\n\nbody\n");
  }
  ASSERT_TRUE(store.open_maildrop(root).is_ok());
  EXPECT_FALSE(store.open_is_cheap(root));  // more than kCheapIndexOctets of index
}

}  // namespace
}  // namespace poplar::store::maildir
