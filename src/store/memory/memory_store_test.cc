// MemoryStore specifics; the behaviour shared with every backend is in tests/conformance/.
// Must never: depend on the order tests run in. Single-threaded.
#include "store/memory/memory_store.h"

#include <gtest/gtest.h>

#include "store/uidl_syntax.h"

namespace poplar::store::memory {
namespace {

TEST(MemoryStoreTest, GeneratedUidlsAreValidAndNeverReused) {
  MemoryStore store;
  std::string a = store.add_message("u", "a\n");
  std::string b = store.add_message("u", "b\n");
  EXPECT_TRUE(is_valid_uidl(a));
  EXPECT_NE(a, b);
  {
    Result<MaildropPtr> drop = store.open_maildrop("u");
    ASSERT_TRUE(drop.is_ok());
    const size_t second[] = {1};
    ASSERT_TRUE((*drop)->commit_update(second).is_ok());
  }
  std::string c = store.add_message("u", "c\n");
  EXPECT_NE(c, b);
  EXPECT_EQ(store.uidls("u"), (std::vector<std::string>{a, c}));
}

TEST(MemoryStoreTest, ChosenUidlsMustBeValidAndUnique) {
  MemoryStore store;
  EXPECT_TRUE(store.add_message_with_uidl("u", "abc", "x\n").is_ok());
  EXPECT_EQ(store.add_message_with_uidl("u", "abc", "y\n").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(store.add_message_with_uidl("u", "a b", "y\n").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(store.add_message_with_uidl("u", "", "y\n").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(store.add_message_with_uidl("u", std::string(71, 'x'), "y\n").code(),
            ErrorCode::kInvalidInput);
  EXPECT_TRUE(store.add_message_with_uidl("other", "abc", "x\n").is_ok());
  // A generated UIDL never collides with a chosen one.
  EXPECT_TRUE(store.add_message_with_uidl("u", "m1", "z\n").is_ok());
  EXPECT_NE(store.add_message("u", "w\n"), "m1");
}

TEST(MemoryStoreTest, LocationsAreIndependent) {
  MemoryStore store;
  store.add_message("alice", "for alice\n");
  Result<MaildropPtr> alice = store.open_maildrop("alice");
  Result<MaildropPtr> bob = store.open_maildrop("bob");
  ASSERT_TRUE(alice.is_ok());
  ASSERT_TRUE(bob.is_ok());
  EXPECT_EQ((*alice)->messages().size(), 1u);
  EXPECT_TRUE((*bob)->messages().empty());
}

TEST(MemoryStoreTest, MaildropMayOutliveTheStore) {
  MaildropPtr drop;
  {
    MemoryStore store;
    store.add_message("u", "hello\n");
    Result<MaildropPtr> opened = store.open_maildrop("u");
    ASSERT_TRUE(opened.is_ok());
    drop = std::move(opened).value();
  }
  ASSERT_EQ(drop->messages().size(), 1u);
  Result<MessageReaderPtr> reader = drop->open_message(0);
  ASSERT_TRUE(reader.is_ok());
  const size_t first[] = {0};
  EXPECT_TRUE(drop->commit_update(first).is_ok());
}

TEST(MemoryStoreTest, EmptyLocationIsInvalid) {
  MemoryStore store;
  EXPECT_EQ(store.open_maildrop("").status().code(), ErrorCode::kInvalidInput);
}

TEST(MemoryStoreTest, FolderHooksShowWhatIsStoredNow) {
  MemoryStore store;
  store.add_message("u", "a\n");
  Result<MaildropPtr> inbox = store.open_maildrop("u");
  ASSERT_TRUE(inbox.is_ok());
  Folders* folders = (*inbox)->folders();
  ASSERT_NE(folders, nullptr);
  ASSERT_TRUE(folders->create("Sent").is_ok());
  MessageFlags seen;
  seen.set(SystemFlag::kSeen);
  ASSERT_TRUE(folders->copy_message(**inbox, 0, "Sent", seen).is_ok());
  std::vector<std::string> sent = store.uidls("u", "Sent");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(store.flags_for_test("u", "Sent", sent[0]), seen);
  EXPECT_EQ(store.uidls("u", "inbox"), store.uidls("u"));
  EXPECT_TRUE(store.uidls("u", "Missing").empty());
  EXPECT_TRUE(store.uidls("nobody", "Sent").empty());
  EXPECT_EQ(store.flags_for_test("u", "Sent", "nope"), std::nullopt);
}

TEST(MemoryStoreTest, CopiesFromAForeignMaildropByReadingIt) {
  MemoryStore other;
  other.add_message("x", "Subject: far\n\naway\n");
  Result<MaildropPtr> foreign = other.open_maildrop("x");
  ASSERT_TRUE(foreign.is_ok());
  MemoryStore store;
  Result<MaildropPtr> inbox = store.open_maildrop("u");
  ASSERT_TRUE(inbox.is_ok());
  ASSERT_TRUE((*inbox)->folders()->create("Imported").is_ok());
  ASSERT_TRUE((*inbox)->folders()->copy_message(**foreign, 0, "Imported", {}).is_ok());
  Result<MaildropPtr> imported = (*inbox)->folders()->open("Imported");
  ASSERT_TRUE(imported.is_ok());
  ASSERT_EQ((*imported)->messages().size(), 1u);
  EXPECT_EQ((*imported)->messages()[0].size_octets, (*foreign)->messages()[0].size_octets);
  // A vanished foreign message is kNotFound and copies nothing.
  ASSERT_TRUE(other.remove_message_for_test("x", (*foreign)->messages()[0].uidl));
  EXPECT_EQ((*inbox)->folders()->copy_message(**foreign, 0, "INBOX", {}).code(),
            ErrorCode::kNotFound);
  EXPECT_TRUE(store.uidls("u").empty());
}

TEST(MemoryStoreTest, AFolderRenamedWhileOpenKeepsItsSnapshotAndLock) {
  MemoryStore store;
  Result<MaildropPtr> inbox = store.open_maildrop("u");
  ASSERT_TRUE(inbox.is_ok());
  Folders& folders = *(*inbox)->folders();
  ASSERT_TRUE(folders.create("Old").is_ok());
  Result<MaildropPtr> open = folders.open("Old");
  ASSERT_TRUE(open.is_ok());
  ASSERT_TRUE(folders.rename("Old", "New").is_ok());
  EXPECT_EQ(folders.open("New").status().code(), ErrorCode::kInUse);
  open->reset();
  EXPECT_TRUE(folders.open("New").is_ok());
  EXPECT_EQ(folders.list()->size(), 2u);
}

TEST(MemoryStoreTest, AStoreIntoAFolderRemovedMeanwhileFailsAtCommit) {
  MemoryStore store;
  Result<MaildropPtr> inbox = store.open_maildrop("u");
  ASSERT_TRUE(inbox.is_ok());
  Folders& folders = *(*inbox)->folders();
  ASSERT_TRUE(folders.create("Gone").is_ok());
  Result<FolderMessageWriterPtr> writer = folders.begin_store("Gone", {});
  ASSERT_TRUE(writer.is_ok());
  ASSERT_TRUE((*writer)->write("a\r\n").is_ok());
  ASSERT_TRUE(folders.remove("Gone").is_ok());
  EXPECT_EQ((*writer)->commit().status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE((*writer)->write("b\r\n").is_ok());  // spent
}

}  // namespace
}  // namespace poplar::store::memory
