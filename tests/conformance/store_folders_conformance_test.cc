// The folders half of the store conformance suite (POP4.md "Folder commands"; store/folders.h):
// what every backend with POP4 folders must do with the Folders its INBOX Maildrop offers:
// listing order, create/remove/rename/move_under and their refusals, COPY and STOR (exact
// flags, fresh UIDLs, the source unchanged, nothing left by a dropped STOR), folder locks and
// counts, and the bad names of issue 6 ("..", "/a", "a/", NUL, 1000 levels, a 300-octet level)
// refused by every operation with nothing changed. Each test runs once per backend.
// Must never: use anything but the MailStore and Folders interfaces and the Backend hooks.
// Single-threaded.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "backends.h"
#include "store/folders.h"
#include "store/message_flags.h"

namespace poplar::conformance {
namespace {

using store::FlagChange;
using store::FolderCounts;
using store::FolderMessageWriterPtr;
using store::Folders;
using store::MaildropPtr;
using store::MessageFlags;
using store::SystemFlag;

MessageFlags make_flags(std::initializer_list<SystemFlag> system,
                        std::initializer_list<const char*> keywords = {}) {
  MessageFlags flags;
  for (SystemFlag f : system) {
    flags.set(f);
  }
  for (const char* k : keywords) {
    EXPECT_TRUE(flags.add_keyword(k)) << k;
  }
  return flags;
}

std::string read_all(store::Maildrop& drop, size_t index) {
  Result<store::MessageReaderPtr> reader = drop.open_message(index);
  EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
  if (!reader.is_ok()) {
    return "<error>";
  }
  std::string out;
  char buffer[4096];
  for (;;) {
    Result<size_t> n = (*reader)->read(buffer);
    EXPECT_TRUE(n.is_ok());
    if (!n.is_ok() || *n == 0) {
      return out;
    }
    out.append(buffer, *n);
  }
}

// One message of a folder as a later session sees it.
struct Seen {
  std::string uidl;
  uint64_t size_octets;
  std::string flags;  // format_flags()
  std::string bytes;
  bool operator==(const Seen&) const = default;
};

void PrintTo(const Seen& s, std::ostream* os) {
  *os << s.uidl << " " << s.size_octets << " [" << s.flags << "] " << s.bytes.size() << " octets";
}

// The message of `all` with this UIDL (or an empty one). Tests never assume the order of
// messages stored within one second: a Maildir orders those by name.
Seen with_uidl(const std::vector<Seen>& all, std::string_view uidl) {
  for (const Seen& s : all) {
    if (s.uidl == uidl) {
      return s;
    }
  }
  ADD_FAILURE() << "no message " << uidl;
  return Seen{};
}

// The message of `all` with these bytes (the first, or an empty one).
Seen with_bytes(const std::vector<Seen>& all, std::string_view bytes) {
  for (const Seen& s : all) {
    if (s.bytes == bytes) {
      return s;
    }
  }
  ADD_FAILURE() << "no message with the bytes " << bytes;
  return Seen{};
}

std::vector<Seen> seen_in(store::Maildrop& drop) {
  std::vector<Seen> out;
  for (size_t i = 0; i < drop.messages().size(); ++i) {
    out.push_back(Seen{std::string(drop.messages()[i].uidl), drop.messages()[i].size_octets,
                       format_flags(drop.flags(i)), read_all(drop, i)});
  }
  return out;
}

template <typename B>
class StoreFoldersConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    location_ = backend_.new_location();
    backend_.deliver(location_, "Subject: one\n\nfirst\n");
    backend_.deliver(location_, "Subject: two\n\nsecond body\n");
    open_inbox();
  }

  void open_inbox() {
    Result<MaildropPtr> drop = backend_.store().open_maildrop(location_);
    ASSERT_TRUE(drop.is_ok()) << drop.status().to_string();
    inbox_ = std::move(drop).value();
    ASSERT_NE(inbox_->folders(), nullptr);
  }

  Folders& folders() { return *inbox_->folders(); }

  std::vector<std::string> list() {
    Result<std::vector<std::string>> names = folders().list();
    EXPECT_TRUE(names.is_ok()) << names.status().to_string();
    return names.is_ok() ? *names : std::vector<std::string>{"<error>"};
  }

  void create_ok(std::string_view name) {
    Status status = folders().create(name);
    EXPECT_TRUE(status.is_ok()) << name << ": " << status.to_string();
  }

  MaildropPtr open_ok(std::string_view name) {
    Result<MaildropPtr> drop = folders().open(name);
    EXPECT_TRUE(drop.is_ok()) << name << ": " << drop.status().to_string();
    return drop.is_ok() ? std::move(drop).value() : nullptr;
  }

  // What a later session sees in a folder (opens and closes it).
  std::vector<Seen> seen(std::string_view name) {
    MaildropPtr drop = open_ok(name);
    return drop ? seen_in(*drop) : std::vector<Seen>{};
  }

  // STORs a message (CRLF wire form) and returns its UIDL.
  std::string store_ok(std::string_view target, std::string_view wire, const MessageFlags& flags) {
    Result<FolderMessageWriterPtr> writer = folders().begin_store(target, flags);
    EXPECT_TRUE(writer.is_ok()) << writer.status().to_string();
    if (!writer.is_ok()) {
      return "<error>";
    }
    // Cut anywhere, even between CR and LF.
    for (size_t at = 0; at < wire.size(); at += 7) {
      EXPECT_TRUE((*writer)->write(wire.substr(at, 7)).is_ok());
    }
    Result<std::string> committed = (*writer)->commit();
    EXPECT_TRUE(committed.is_ok()) << committed.status().to_string();
    return std::string((*writer)->uidl());
  }

  B backend_;
  std::string location_;
  MaildropPtr inbox_;
};

TYPED_TEST_SUITE_P(StoreFoldersConformanceTest);

TYPED_TEST_P(StoreFoldersConformanceTest, ANewMaildropHasOnlyInbox) {
  EXPECT_EQ(this->list(), std::vector<std::string>{"INBOX"});
}

TYPED_TEST_P(StoreFoldersConformanceTest, ListsInboxFirstThenBytewise) {
  for (std::string_view name : {"b", "Zeta", "a/x", "\xC3\xA4rger", "Sent Items", "a b"}) {
    this->create_ok(name);
  }
  EXPECT_EQ(this->list(), (std::vector<std::string>{"INBOX", "Sent Items", "Zeta", "a", "a b",
                                                    "a/x", "b", "\xC3\xA4rger"}));
}

TYPED_TEST_P(StoreFoldersConformanceTest, CreateMakesMissingParentsAndRefusesExisting) {
  this->create_ok("p/q/r");
  EXPECT_EQ(this->list(), (std::vector<std::string>{"INBOX", "p", "p/q", "p/q/r"}));
  for (std::string_view name : {"p/q/r", "p", "INBOX", "inbox"}) {
    EXPECT_EQ(this->folders().create(name).code(), ErrorCode::kInvalidInput) << name;
  }
  this->create_ok("p/q/s");  // beneath existing parents
  EXPECT_EQ(this->list(), (std::vector<std::string>{"INBOX", "p", "p/q", "p/q/r", "p/q/s"}));
}

TYPED_TEST_P(StoreFoldersConformanceTest, RemoveOnlyEmptyLeavesAndNeverInbox) {
  this->create_ok("Empty");
  this->create_ok("Full");
  this->create_ok("Parent/Child");
  this->store_ok("Full", "Subject: x\r\n\r\nx\r\n", {});
  EXPECT_EQ(this->folders().remove("Full").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().remove("Parent").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().remove("INBOX").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().remove("Missing").code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->list(),
            (std::vector<std::string>{"INBOX", "Empty", "Full", "Parent", "Parent/Child"}));
  EXPECT_TRUE(this->folders().remove("Empty").is_ok());
  EXPECT_TRUE(this->folders().remove("Parent/Child").is_ok());
  EXPECT_TRUE(this->folders().remove("Parent").is_ok());
  EXPECT_EQ(this->list(), (std::vector<std::string>{"INBOX", "Full"}));
  EXPECT_EQ(this->seen("Full").size(), 1u);
}

TYPED_TEST_P(StoreFoldersConformanceTest, RenameMovesTheWholeSubtreeWithItsMessages) {
  this->create_ok("a/b/c");
  const std::string uidl = this->store_ok("a/b", "Subject: kept\r\n\r\nkept\r\n", {});
  std::vector<Seen> before = this->seen("a/b");
  ASSERT_TRUE(this->folders().rename("a", "x/y").is_ok());
  EXPECT_EQ(this->list(), (std::vector<std::string>{"INBOX", "x", "x/y", "x/y/b", "x/y/b/c"}));
  EXPECT_EQ(this->seen("x/y/b"), before);  // same messages, same UIDLs
  EXPECT_EQ(this->folders().open("a/b").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->folders().rename("a", "q").code(), ErrorCode::kNotFound);
  (void)uidl;
}

TYPED_TEST_P(StoreFoldersConformanceTest, RenameRefusalsChangeNothing) {
  this->create_ok("a/b");
  this->create_ok("c");
  const std::vector<std::string> before = this->list();
  EXPECT_EQ(this->folders().rename("a", "c").code(), ErrorCode::kInvalidInput);      // exists
  EXPECT_EQ(this->folders().rename("a", "a").code(), ErrorCode::kInvalidInput);      // same
  EXPECT_EQ(this->folders().rename("a", "a/b/z").code(), ErrorCode::kInvalidInput);  // beneath
  EXPECT_EQ(this->folders().rename("INBOX", "z").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().rename("c", "INBOX").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->list(), before);
}

TYPED_TEST_P(StoreFoldersConformanceTest, RenameRefusesASubfolderThatWouldBecomeTooDeep) {
  std::string deep = "d";
  for (int i = 1; i < 20; ++i) {
    deep += "/d";
  }
  this->create_ok(deep);  // 20 levels: the most allowed
  this->create_ok("top");
  const std::vector<std::string> before = this->list();
  EXPECT_EQ(this->folders().move_under("d", "top").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->list(), before);
}

TYPED_TEST_P(StoreFoldersConformanceTest, MoveUnderAParentOrToTheTop) {
  this->create_ok("Work/2024");
  this->create_ok("Archive");
  ASSERT_TRUE(this->folders().move_under("Work/2024", "Archive").is_ok());
  EXPECT_EQ(this->list(), (std::vector<std::string>{"INBOX", "Archive", "Archive/2024", "Work"}));
  ASSERT_TRUE(this->folders().move_under("Archive/2024", "").is_ok());
  EXPECT_EQ(this->list(), (std::vector<std::string>{"INBOX", "2024", "Archive", "Work"}));
  EXPECT_EQ(this->folders().move_under("Work", "Missing").code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->folders().move_under("Missing", "Work").code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->folders().move_under("INBOX", "Work").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().move_under("Work", "INBOX").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().move_under("Work", "").code(), ErrorCode::kInvalidInput);  // there
  EXPECT_EQ(this->list(), (std::vector<std::string>{"INBOX", "2024", "Archive", "Work"}));
}

TYPED_TEST_P(StoreFoldersConformanceTest, CopyGivesExactlyTheFlagsAndKeepsTheSource) {
  // The source message has \Seen; the copy is to have \Flagged $Junk instead.
  const FlagChange seen_flag[] = {{1, make_flags({SystemFlag::kSeen})}};
  ASSERT_TRUE(this->inbox_->commit_update({}, seen_flag).is_ok());
  this->inbox_.reset();
  this->open_inbox();
  const std::vector<Seen> inbox_before = seen_in(*this->inbox_);
  this->create_ok("Archive");
  const MessageFlags wanted = make_flags({SystemFlag::kFlagged}, {"$Junk"});
  Status copied = this->folders().copy_message(*this->inbox_, 1, "Archive", wanted);
  ASSERT_TRUE(copied.is_ok()) << copied.to_string();
  ASSERT_TRUE(this->folders().copy_message(*this->inbox_, 0, "Archive", {}).is_ok());
  std::vector<Seen> archive = this->seen("Archive");
  ASSERT_EQ(archive.size(), 2u);
  const Seen second = with_bytes(archive, inbox_before[1].bytes);
  EXPECT_EQ(second.size_octets, inbox_before[1].size_octets);
  EXPECT_EQ(second.flags, "\\Flagged $Junk");
  const Seen first = with_bytes(archive, inbox_before[0].bytes);
  EXPECT_EQ(first.size_octets, inbox_before[0].size_octets);
  EXPECT_EQ(first.flags, "");
  EXPECT_NE(archive[0].uidl, archive[1].uidl);
  for (const Seen& copy : archive) {  // a copy is a new message with a UIDL of its own
    EXPECT_NE(copy.uidl, inbox_before[0].uidl);
    EXPECT_NE(copy.uidl, inbox_before[1].uidl);
  }
  // The source is unchanged, now and in a later session.
  EXPECT_EQ(seen_in(*this->inbox_), inbox_before);
  this->inbox_.reset();
  this->open_inbox();
  EXPECT_EQ(seen_in(*this->inbox_), inbox_before);
}

TYPED_TEST_P(StoreFoldersConformanceTest, CopyIntoTheSameFolderAndIntoInbox) {
  this->create_ok("A");
  this->store_ok("A", "Subject: a\r\n\r\naaa\r\n", make_flags({SystemFlag::kSeen}));
  {
    MaildropPtr a = this->open_ok("A");
    ASSERT_TRUE(a);
    ASSERT_TRUE(this->folders().copy_message(*a, 0, "A", make_flags({SystemFlag::kDraft})).is_ok());
    ASSERT_TRUE(this->folders().copy_message(*a, 0, "INBOX", {}).is_ok());
    EXPECT_EQ(a->messages().size(), 1u);  // the snapshot stays as it was
  }
  std::vector<Seen> a = this->seen("A");
  ASSERT_EQ(a.size(), 2u);
  std::multiset<std::string> flags = {a[0].flags, a[1].flags};
  EXPECT_EQ(flags, (std::multiset<std::string>{"\\Draft", "\\Seen"}));
  EXPECT_EQ(a[0].bytes, a[1].bytes);
  EXPECT_NE(a[0].uidl, a[1].uidl);
  this->inbox_.reset();
  this->open_inbox();
  ASSERT_EQ(this->inbox_->messages().size(), 3u);
  EXPECT_EQ(with_bytes(seen_in(*this->inbox_), a[0].bytes).flags, "");
}

TYPED_TEST_P(StoreFoldersConformanceTest, CopyRefusals) {
  this->create_ok("A");
  EXPECT_EQ(this->folders().copy_message(*this->inbox_, 0, "Missing", {}).code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->folders().copy_message(*this->inbox_, 2, "A", {}).code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().copy_message(*this->inbox_, 0, "a//b", {}).code(),
            ErrorCode::kInvalidInput);
  EXPECT_TRUE(this->seen("A").empty());
}

TYPED_TEST_P(StoreFoldersConformanceTest, StoreWithAndWithoutFlagsAndItsUidlLasts) {
  this->create_ok("Sent");
  const std::string plain = this->store_ok("Sent", "Subject: p\r\n\r\nplain\r\n", {});
  const MessageFlags flags = make_flags({SystemFlag::kSeen, SystemFlag::kAnswered}, {"$Label1"});
  const std::string flagged = this->store_ok("Sent", "Subject: f\r\n\r\nflagged\r\n", flags);
  const std::string in_inbox = this->store_ok("inbox", "Subject: i\r\n\r\ninbox\r\n", {});
  std::vector<Seen> sent = this->seen("Sent");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(with_uidl(sent, plain).flags, "");
  EXPECT_EQ(with_uidl(sent, plain).bytes, "Subject: p\n\nplain\n");  // stored with LF
  EXPECT_EQ(with_uidl(sent, plain).size_octets, 21u);                // the CRLF wire size
  EXPECT_EQ(with_uidl(sent, flagged).flags, "\\Seen \\Answered $Label1");
  EXPECT_EQ(with_uidl(sent, flagged).bytes, "Subject: f\n\nflagged\n");
  // And again after the caches are lost: the UIDL is the message's, not the cache's.
  this->backend_.lose_caches(this->location_);
  EXPECT_EQ(this->seen("Sent"), sent);
  this->inbox_.reset();
  this->open_inbox();
  ASSERT_EQ(this->inbox_->messages().size(), 3u);
  EXPECT_EQ(with_uidl(seen_in(*this->inbox_), in_inbox).bytes, "Subject: i\n\ninbox\n");
}

TYPED_TEST_P(StoreFoldersConformanceTest, ADroppedStoreLeavesNothing) {
  this->create_ok("Sent");
  {
    Result<FolderMessageWriterPtr> writer = this->folders().begin_store("Sent", {});
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->write("Subject: lost\r\n\r\nnever committed\r\n").is_ok());
  }
  EXPECT_TRUE(this->seen("Sent").empty());
  EXPECT_EQ(this->folders().counts("Sent")->messages, 0u);
  EXPECT_TRUE(this->folders().remove("Sent").is_ok());  // nothing keeps it from being empty
  EXPECT_EQ(this->folders().begin_store("Sent", {}).status().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreFoldersConformanceTest, AnOpenFolderIsLocked) {
  this->create_ok("A");
  {
    MaildropPtr first = this->open_ok("A");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->folders(), nullptr);
    EXPECT_EQ(this->folders().open("A").status().code(), ErrorCode::kInUse);
    EXPECT_EQ(this->folders().counts("A").status().code(), ErrorCode::kInUse);
  }
  EXPECT_TRUE(this->open_ok("A"));  // released with the first
  EXPECT_EQ(this->folders().open("INBOX").status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().counts("INBOX").status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(this->folders().open("Missing").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->folders().counts("Missing").status().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreFoldersConformanceTest, CountsMatchASnapshot) {
  this->create_ok("A");
  this->store_ok("A", "Subject: a\r\n\r\naaa\r\n", {});
  this->store_ok("A", "Subject: b\r\n\r\nno line end at the end", {});
  ASSERT_TRUE(this->folders().copy_message(*this->inbox_, 1, "A", {}).is_ok());
  Result<FolderCounts> counts = this->folders().counts("A");
  ASSERT_TRUE(counts.is_ok()) << counts.status().to_string();
  MaildropPtr a = this->open_ok("A");
  ASSERT_TRUE(a);
  uint64_t octets = 0;
  for (const store::MessageInfo& m : a->messages()) {
    octets += m.size_octets;
  }
  EXPECT_EQ(counts->messages, a->messages().size());
  EXPECT_EQ(counts->messages, 3u);
  EXPECT_EQ(counts->octets, octets);
}

TYPED_TEST_P(StoreFoldersConformanceTest, BadNamesAreRefusedByEveryOperation) {
  this->create_ok("Good");
  std::string thousand_levels = "a";
  for (int i = 1; i < 1000; ++i) {
    thousand_levels += "/a";
  }
  const std::vector<std::string> bad = {"..",
                                        "/a",
                                        "a/",
                                        std::string("a\0b", 3),
                                        thousand_levels,
                                        std::string(300, 'x'),
                                        "Good/..",
                                        "",
                                        "a//b",
                                        "Good/.",
                                        std::string("x\x01y")};
  const std::vector<std::string> before = this->list();
  for (const std::string& name : bad) {
    SCOPED_TRACE(::testing::PrintToString(name.substr(0, 20)));
    EXPECT_EQ(this->folders().create(name).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(this->folders().remove(name).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(this->folders().counts(name).status().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(this->folders().open(name).status().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(this->folders().rename("Good", name).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(this->folders().rename(name, "Other").code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(this->folders().move_under("Good", name).code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(this->folders().copy_message(*this->inbox_, 0, name, {}).code(),
              ErrorCode::kInvalidInput);
    EXPECT_EQ(this->folders().begin_store(name, {}).status().code(), ErrorCode::kInvalidInput);
    // The message never repeats the name (it may be huge or hold control characters).
    Status refused = this->folders().create(name);
    if (name.size() > 3) {
      EXPECT_EQ(refused.message().find(name), std::string::npos);
    }
  }
  EXPECT_EQ(this->list(), before);
  EXPECT_TRUE(this->seen("Good").empty());
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreFoldersConformanceTest, ANewMaildropHasOnlyInbox, ListsInboxFirstThenBytewise,
    CreateMakesMissingParentsAndRefusesExisting, RemoveOnlyEmptyLeavesAndNeverInbox,
    RenameMovesTheWholeSubtreeWithItsMessages, RenameRefusalsChangeNothing,
    RenameRefusesASubfolderThatWouldBecomeTooDeep, MoveUnderAParentOrToTheTop,
    CopyGivesExactlyTheFlagsAndKeepsTheSource, CopyIntoTheSameFolderAndIntoInbox, CopyRefusals,
    StoreWithAndWithoutFlagsAndItsUidlLasts, ADroppedStoreLeavesNothing, AnOpenFolderIsLocked,
    CountsMatchASnapshot, BadNamesAreRefusedByEveryOperation);

INSTANTIATE_TYPED_TEST_SUITE_P(Store, StoreFoldersConformanceTest, AllBackends, BackendNames);

}  // namespace
}  // namespace poplar::conformance
