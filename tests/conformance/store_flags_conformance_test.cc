// The flags half of the store conformance suite (POP4.md "Flag commands", "When changes take
// effect"): what every backend that keeps flags must do with Maildrop::flags() and
// commit_update(deletions, changes). Each test runs once per backend in backends.h.
// Must never: use anything but the MailStore interface and the Backend hooks. Single-threaded.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends.h"
#include "store/message_flags.h"

namespace poplar::conformance {
namespace {

using store::FlagChange;
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

struct Seen {
  std::string uidl;
  uint64_t size_octets;
  std::string flags;  // format_flags()
  bool operator==(const Seen&) const = default;
};

void PrintTo(const Seen& s, std::ostream* os) {
  *os << s.uidl << " " << s.size_octets << " [" << s.flags << "]";
}

template <typename B>
class StoreFlagsConformanceTest : public ::testing::Test {
 protected:
  MaildropPtr open_ok(const std::string& location) {
    Result<MaildropPtr> drop = backend_.store().open_maildrop(location);
    EXPECT_TRUE(drop.is_ok()) << drop.status().to_string();
    return drop.is_ok() ? std::move(drop).value() : nullptr;
  }

  // A location with five messages, none with flags.
  std::string five() {
    std::string location = backend_.new_location();
    for (int i = 0; i < 5; ++i) {
      backend_.deliver(location, "Subject: " + std::to_string(i) + "\n\nbody " +
                                     std::string(static_cast<size_t>(i) * 7, 'x') + "\n");
    }
    return location;
  }

  // What a new session sees: UIDL, size and flags of every message.
  std::vector<Seen> seen(const std::string& location) {
    MaildropPtr drop = open_ok(location);
    std::vector<Seen> out;
    if (drop) {
      for (size_t i = 0; i < drop->messages().size(); ++i) {
        out.push_back(Seen{std::string(drop->messages()[i].uidl), drop->messages()[i].size_octets,
                           format_flags(drop->flags(i))});
      }
    }
    return out;
  }

  B backend_;
};

TYPED_TEST_SUITE_P(StoreFlagsConformanceTest);

TYPED_TEST_P(StoreFlagsConformanceTest, DeliveredMailHasNoFlags) {
  std::string location = this->five();
  MaildropPtr drop = this->open_ok(location);
  ASSERT_TRUE(drop);
  for (size_t i = 0; i < drop->messages().size(); ++i) {
    EXPECT_TRUE(drop->flags(i).empty()) << i;
  }
  EXPECT_TRUE(drop->flags(drop->messages().size()).empty());  // out of range: none, no crash
  EXPECT_TRUE(drop->commit_update({}, {}).is_ok());
}

TYPED_TEST_P(StoreFlagsConformanceTest, FlagsSurviveReopenAndCacheLossWithUidlsAndSizes) {
  std::string location = this->five();
  std::vector<Seen> before = this->seen(location);
  const std::vector<FlagChange> changes = {
      {0, make_flags({SystemFlag::kSeen})},
      {1, make_flags({SystemFlag::kSeen, SystemFlag::kAnswered, SystemFlag::kFlagged,
                      SystemFlag::kDeleted, SystemFlag::kDraft})},
      {2, make_flags({}, {"$Junk", "$Label1"})},
      {3, make_flags({SystemFlag::kFlagged}, {"$Forwarded", "$Junk"})},
  };
  {
    MaildropPtr drop = this->open_ok(location);
    ASSERT_TRUE(drop);
    Status status = drop->commit_update({}, changes);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    // The same session sees the flags it set.
    for (const FlagChange& c : changes) {
      EXPECT_EQ(drop->flags(c.index), c.flags) << c.index;
    }
  }
  std::vector<Seen> expected = before;
  for (const FlagChange& c : changes) {
    expected[c.index].flags = format_flags(c.flags);
  }
  EXPECT_EQ(this->seen(location), expected);
  this->backend_.lose_caches(location);
  EXPECT_EQ(this->seen(location), expected);
  EXPECT_EQ(this->seen(location), expected);
}

TYPED_TEST_P(StoreFlagsConformanceTest, ClearingFlagsLeavesNone) {
  std::string location = this->five();
  {
    MaildropPtr drop = this->open_ok(location);
    const FlagChange set[] = {{1, make_flags({SystemFlag::kSeen}, {"$Junk"})}};
    ASSERT_TRUE(drop->commit_update({}, set).is_ok());
  }
  {
    MaildropPtr drop = this->open_ok(location);
    EXPECT_EQ(format_flags(drop->flags(1)), "\\Seen $Junk");
    const FlagChange clear[] = {{1, MessageFlags()}};
    ASSERT_TRUE(drop->commit_update({}, clear).is_ok());
  }
  for (const Seen& s : this->seen(location)) {
    EXPECT_EQ(s.flags, "") << s.uidl;
  }
}

TYPED_TEST_P(StoreFlagsConformanceTest, DeletionsAndChangesInOneCall) {
  std::string location = this->five();
  std::vector<Seen> before = this->seen(location);
  {
    MaildropPtr drop = this->open_ok(location);
    const size_t doomed[] = {1, 3};
    const std::vector<FlagChange> changes = {
        {1, make_flags({SystemFlag::kSeen})},  // also removed: just removed
        {2, make_flags({SystemFlag::kFlagged})},
        {4, make_flags({SystemFlag::kDraft})},
        {4, make_flags({SystemFlag::kAnswered})},  // the last change of a message counts
    };
    ASSERT_TRUE(drop->commit_update(doomed, changes).is_ok());
  }
  std::vector<Seen> expected = {before[0], before[2], before[4]};
  expected[1].flags = "\\Flagged";
  expected[2].flags = "\\Answered";
  EXPECT_EQ(this->seen(location), expected);
}

TYPED_TEST_P(StoreFlagsConformanceTest, CommitWithChangesIsIdempotent) {
  std::string location = this->five();
  const size_t doomed[] = {0};
  const std::vector<FlagChange> changes = {{2, make_flags({SystemFlag::kSeen}, {"$Junk"})},
                                           {3, make_flags({SystemFlag::kAnswered})}};
  {
    MaildropPtr drop = this->open_ok(location);
    ASSERT_TRUE(drop->commit_update(doomed, changes).is_ok());
    ASSERT_TRUE(drop->commit_update(doomed, changes).is_ok());
  }
  std::vector<Seen> once = this->seen(location);
  ASSERT_EQ(once.size(), 4u);
  {
    // A later session repeating the same changes (by UIDL) changes nothing more.
    MaildropPtr drop = this->open_ok(location);
    const std::vector<FlagChange> again = {{1, changes[0].flags}, {2, changes[1].flags}};
    ASSERT_TRUE(drop->commit_update({}, again).is_ok());
  }
  EXPECT_EQ(this->seen(location), once);
  EXPECT_EQ(once[1].flags, "\\Seen $Junk");
  EXPECT_EQ(once[2].flags, "\\Answered");
}

TYPED_TEST_P(StoreFlagsConformanceTest, AnIndexOutOfRangeChangesNothing) {
  std::string location = this->five();
  std::vector<Seen> before = this->seen(location);
  {
    MaildropPtr drop = this->open_ok(location);
    const size_t doomed[] = {0};
    const std::vector<FlagChange> changes = {{1, make_flags({SystemFlag::kSeen})},
                                             {5, make_flags({SystemFlag::kSeen})}};
    EXPECT_EQ(drop->commit_update(doomed, changes).code(), ErrorCode::kInvalidInput);
  }
  EXPECT_EQ(this->seen(location), before);
}

TYPED_TEST_P(StoreFlagsConformanceTest, AChangeOfAVanishedMessageIsSkipped) {
  std::string location = this->five();
  std::vector<Seen> before = this->seen(location);
  {
    MaildropPtr drop = this->open_ok(location);
    this->backend_.remove_behind_the_back(location, before[2].uidl);
    const std::vector<FlagChange> changes = {{2, make_flags({SystemFlag::kSeen})},
                                             {3, make_flags({SystemFlag::kSeen})}};
    Status status = drop->commit_update({}, changes);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
  }
  std::vector<Seen> expected = {before[0], before[1], before[3], before[4]};
  expected[2].flags = "\\Seen";
  EXPECT_EQ(this->seen(location), expected);
}

TYPED_TEST_P(StoreFlagsConformanceTest, EndingASessionWithoutCommitKeepsTheFlags) {
  std::string location = this->five();
  {
    MaildropPtr drop = this->open_ok(location);
    const FlagChange set[] = {{0, make_flags({SystemFlag::kSeen})}};
    ASSERT_TRUE(drop->commit_update({}, set).is_ok());
  }
  std::vector<Seen> before = this->seen(location);
  { MaildropPtr drop = this->open_ok(location); }  // a dropped connection: no UPDATE
  EXPECT_EQ(this->seen(location), before);
}

REGISTER_TYPED_TEST_SUITE_P(StoreFlagsConformanceTest, DeliveredMailHasNoFlags,
                            FlagsSurviveReopenAndCacheLossWithUidlsAndSizes,
                            ClearingFlagsLeavesNone, DeletionsAndChangesInOneCall,
                            CommitWithChangesIsIdempotent, AnIndexOutOfRangeChangesNothing,
                            AChangeOfAVanishedMessageIsSkipped,
                            EndingASessionWithoutCommitKeepsTheFlags);

INSTANTIATE_TYPED_TEST_SUITE_P(Store, StoreFlagsConformanceTest, AllBackends, BackendNames);

}  // namespace
}  // namespace poplar::conformance
