// The store conformance suite: what every MailStore backend must do, whatever it stores
// messages in (DESIGN.md §4, RFC 1939 §4, §6, §7, §11). Each test runs once per backend in
// backends.h; a new backend joins by adding one type to AllBackends (backends.h).
// Must never: use anything but the MailStore interface and the Backend hooks. Single-threaded.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "backends.h"
#include "store/uidl_syntax.h"

namespace poplar::conformance {
namespace {

using store::MaildropPtr;
using store::MessageInfo;
using store::MessageReaderPtr;

// What a POP3 client receives for a stored message after un-stuffing, written independently of
// store/crlf_size: bare LF becomes CRLF, CRLF stays, a bare CR stays one octet, and a message
// not ending in LF gets a CRLF (RFC 1939 §11).
std::string wire_form(std::string_view stored) {
  std::string out;
  char previous = '\0';
  for (char c : stored) {
    if (c == '\n' && previous != '\r') {
      out += '\r';
    }
    out += c;
    previous = c;
  }
  if (!stored.empty() && stored.back() != '\n') {
    out += "\r\n";
  }
  return out;
}

struct Info {
  uint64_t size_octets;
  std::string uidl;
};

struct Sample {
  const char* what;
  std::string bytes;
};

std::vector<Sample> samples() {
  return {
      {"LF line ends", "From: a@example.org\nSubject: lf\n\nline one\nline two\n"},
      {"CRLF line ends", "From: a@example.org\r\nSubject: crlf\r\n\r\nline one\r\n"},
      {"lines starting with a dot", "Subject: dots\n\n.\n..\n.hidden line\n...\n"},
      {"bare CR", "Subject: cr\n\nbare\rcarriage\rreturns\n"},
      {"no final newline", "Subject: unterminated\n\nlast line without end"},
      {"empty message", ""},
      {"mixed line ends", "Subject: mixed\r\n\nlf\r\ncrlf\n\r\n"},
  };
}

template <typename B>
class StoreConformanceTest : public ::testing::Test {
 protected:
  store::MailStore& store() { return backend_.store(); }

  MaildropPtr open_ok(const std::string& location) {
    Result<MaildropPtr> drop = store().open_maildrop(location);
    EXPECT_TRUE(drop.is_ok()) << drop.status().to_string();
    return drop.is_ok() ? std::move(drop).value() : nullptr;
  }

  static std::string read_all(store::Maildrop& drop, size_t index, size_t chunk) {
    Result<MessageReaderPtr> reader = drop.open_message(index);
    EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
    if (!reader.is_ok()) {
      return "<unreadable>";
    }
    std::string out;
    std::vector<char> buffer(chunk);
    for (;;) {
      Result<size_t> n = (*reader)->read(buffer);
      EXPECT_TRUE(n.is_ok()) << n.status().to_string();
      if (!n.is_ok() || *n == 0) {
        return out;
      }
      EXPECT_LE(*n, chunk);
      out.append(buffer.data(), *n);
    }
  }

  // Every message's bytes, in maildrop order.
  std::vector<std::string> contents(const std::string& location) {
    MaildropPtr drop = open_ok(location);
    std::vector<std::string> out;
    if (drop) {
      for (size_t i = 0; i < drop->messages().size(); ++i) {
        out.push_back(read_all(*drop, i, 4096));
      }
    }
    return out;
  }

  // The snapshot of a session that has ended: copies, since MessageInfo::uidl is a view that
  // lives only as long as its Maildrop.
  std::vector<Info> infos(const std::string& location) {
    MaildropPtr drop = open_ok(location);
    std::vector<Info> out;
    if (drop) {
      for (const MessageInfo& m : drop->messages()) {
        out.push_back(Info{m.size_octets, std::string(m.uidl)});
      }
    }
    return out;
  }

  // A location holding the samples, in order.
  std::string sample_location() {
    std::string location = backend_.new_location();
    for (const Sample& s : samples()) {
      backend_.deliver(location, s.bytes);
    }
    return location;
  }

  B backend_;
};

TYPED_TEST_SUITE_P(StoreConformanceTest);

TYPED_TEST_P(StoreConformanceTest, NewLocationIsAnEmptyMaildrop) {
  MaildropPtr drop = this->open_ok(this->backend_.new_location());
  ASSERT_TRUE(drop);
  EXPECT_TRUE(drop->messages().empty());
  EXPECT_TRUE(drop->commit_update({}).is_ok());
}

TYPED_TEST_P(StoreConformanceTest, ListsMessagesInDeliveryOrderWithExactWireSizes) {
  std::string location = this->sample_location();
  MaildropPtr drop = this->open_ok(location);
  ASSERT_TRUE(drop);
  std::vector<Sample> expected = samples();
  ASSERT_EQ(drop->messages().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].what);
    EXPECT_EQ(drop->messages()[i].size_octets, wire_form(expected[i].bytes).size());
    EXPECT_EQ(this->read_all(*drop, i, 4096), expected[i].bytes);
  }
}

TYPED_TEST_P(StoreConformanceTest, SizesOfKnownMessages) {
  std::string location = this->backend_.new_location();
  this->backend_.deliver(location, "a\nb\n");      // 2 bare LF: 6
  this->backend_.deliver(location, "a\r\nb\r\n");  // CRLF: 6
  this->backend_.deliver(location, "a\rb\n");      // bare CR counts 1: 5
  this->backend_.deliver(location, "abc");         // CRLF appended: 5
  this->backend_.deliver(location, "");            // 0
  this->backend_.deliver(location, ".\n");         // stuffing not counted: 3
  std::vector<Info> got = this->infos(location);
  std::vector<uint64_t> sizes;
  for (const Info& m : got) {
    sizes.push_back(m.size_octets);
  }
  EXPECT_EQ(sizes, (std::vector<uint64_t>{6, 6, 5, 5, 0, 3}));
}

TYPED_TEST_P(StoreConformanceTest, ReaderReturnsTheStoredBytesWhateverTheChunkSize) {
  std::string big;
  for (int i = 0; big.size() < 200 * 1024; ++i) {
    big += "line " + std::to_string(i) + (i % 3 == 0 ? "\r\n" : "\n");
  }
  std::string location = this->backend_.new_location();
  this->backend_.deliver(location, big);
  MaildropPtr drop = this->open_ok(location);
  ASSERT_TRUE(drop);
  ASSERT_EQ(drop->messages().size(), 1u);
  EXPECT_EQ(drop->messages()[0].size_octets, wire_form(big).size());
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, size_t{65536}, size_t{300000}}) {
    EXPECT_EQ(this->read_all(*drop, 0, chunk), big) << chunk;
  }
}

TYPED_TEST_P(StoreConformanceTest, UidlsAreValidAndUnique) {
  std::string location = this->sample_location();
  for (int i = 0; i < 200; ++i) {
    this->backend_.deliver(location, "Subject: " + std::to_string(i) + "\n\nsame body\n");
  }
  std::set<std::string> seen;
  for (const Info& m : this->infos(location)) {
    EXPECT_TRUE(store::is_valid_uidl(m.uidl)) << m.uidl;
    EXPECT_TRUE(seen.insert(m.uidl).second) << "duplicate " << m.uidl;
  }
  EXPECT_EQ(seen.size(), samples().size() + 200);
}

TYPED_TEST_P(StoreConformanceTest, UidlsAndSizesAreStableAcrossSessions) {
  std::string location = this->sample_location();
  std::vector<Info> first = this->infos(location);
  std::vector<Info> second = this->infos(location);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].uidl, second[i].uidl);
    EXPECT_EQ(first[i].size_octets, second[i].size_octets);
  }
}

TYPED_TEST_P(StoreConformanceTest, UidlsAndSizesSurviveTheLossOfCaches) {
  std::string location = this->sample_location();
  std::vector<Info> first = this->infos(location);
  this->backend_.lose_caches(location);
  std::vector<Info> rebuilt = this->infos(location);
  this->backend_.lose_caches(location);
  this->backend_.deliver(location, "one more\n");
  std::vector<Info> with_new = this->infos(location);
  ASSERT_EQ(first.size(), rebuilt.size());
  ASSERT_EQ(with_new.size(), first.size() + 1);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].uidl, rebuilt[i].uidl);
    EXPECT_EQ(first[i].size_octets, rebuilt[i].size_octets);
    EXPECT_EQ(first[i].uidl, with_new[i].uidl);
  }
}

TYPED_TEST_P(StoreConformanceTest, UidlsOfKeptMessagesSurviveDeletionOfOthers) {
  std::string location = this->sample_location();
  std::vector<Info> before = this->infos(location);
  {
    MaildropPtr drop = this->open_ok(location);
    ASSERT_TRUE(drop);
    const size_t doomed[] = {0, 2, 4};
    ASSERT_TRUE(drop->commit_update(doomed).is_ok());
  }
  std::vector<Info> after = this->infos(location);
  std::vector<std::string> expected;
  for (size_t i = 0; i < before.size(); ++i) {
    if (i != 0 && i != 2 && i != 4) {
      expected.push_back(before[i].uidl);
    }
  }
  std::vector<std::string> got;
  for (const Info& m : after) {
    got.push_back(m.uidl);
  }
  EXPECT_EQ(got, expected);
}

TYPED_TEST_P(StoreConformanceTest, SecondOpenIsInUseUntilTheFirstSessionEnds) {
  std::string location = this->sample_location();
  MaildropPtr first = this->open_ok(location);
  ASSERT_TRUE(first);
  Result<MaildropPtr> second = this->store().open_maildrop(location);
  EXPECT_EQ(second.status().code(), ErrorCode::kInUse);
  // Still in use after a commit: the lock lasts as long as the Maildrop.
  EXPECT_TRUE(first->commit_update({}).is_ok());
  EXPECT_EQ(this->store().open_maildrop(location).status().code(), ErrorCode::kInUse);
  first.reset();
  MaildropPtr third = this->open_ok(location);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->messages().size(), samples().size());
}

TYPED_TEST_P(StoreConformanceTest, LocksArePerLocation) {
  std::string a = this->sample_location();
  std::string b = this->sample_location();
  MaildropPtr first = this->open_ok(a);
  MaildropPtr second = this->open_ok(b);
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

TYPED_TEST_P(StoreConformanceTest, CommitRemovesExactlyTheGivenMessages) {
  std::string location = this->sample_location();
  std::vector<Sample> all = samples();
  {
    MaildropPtr drop = this->open_ok(location);
    ASSERT_TRUE(drop);
    const size_t doomed[] = {1, 3, 5};
    ASSERT_TRUE(drop->commit_update(doomed).is_ok());
    // The snapshot stays numbered as it was for the rest of the session.
    EXPECT_EQ(drop->messages().size(), all.size());
  }
  std::vector<std::string> expected;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i != 1 && i != 3 && i != 5) {
      expected.push_back(all[i].bytes);
    }
  }
  EXPECT_EQ(this->contents(location), expected);
}

TYPED_TEST_P(StoreConformanceTest, CommitIsIdempotent) {
  std::string location = this->sample_location();
  std::vector<Info> before = this->infos(location);
  {
    MaildropPtr drop = this->open_ok(location);
    ASSERT_TRUE(drop);
    const size_t doomed[] = {0, 6, 0};  // a repeated index is harmless
    EXPECT_TRUE(drop->commit_update(doomed).is_ok());
    EXPECT_TRUE(drop->commit_update(doomed).is_ok());
    EXPECT_TRUE(drop->commit_update({}).is_ok());
  }
  std::vector<Info> after = this->infos(location);
  ASSERT_EQ(after.size(), before.size() - 2);
  EXPECT_EQ(after.front().uidl, before[1].uidl);
  EXPECT_EQ(after.back().uidl, before[5].uidl);
}

TYPED_TEST_P(StoreConformanceTest, EndingASessionWithoutCommitChangesNothing) {
  std::string location = this->sample_location();
  std::vector<std::string> before = this->contents(location);
  std::vector<Info> infos_before = this->infos(location);
  {
    MaildropPtr drop = this->open_ok(location);
    ASSERT_TRUE(drop);
    for (size_t i = 0; i < drop->messages().size(); ++i) {
      (void)this->read_all(*drop, i, 100);
    }
  }  // dropped connection: no commit_update()
  EXPECT_EQ(this->contents(location), before);
  std::vector<Info> infos_after = this->infos(location);
  ASSERT_EQ(infos_after.size(), infos_before.size());
  for (size_t i = 0; i < infos_before.size(); ++i) {
    EXPECT_EQ(infos_after[i].uidl, infos_before[i].uidl);
  }
}

TYPED_TEST_P(StoreConformanceTest, MailArrivingDuringASessionAppearsInTheNextOne) {
  std::string location = this->sample_location();
  {
    MaildropPtr drop = this->open_ok(location);
    ASSERT_TRUE(drop);
    this->backend_.deliver(location, "late arrival\n");
    EXPECT_EQ(drop->messages().size(), samples().size());
    const size_t first[] = {0};
    ASSERT_TRUE(drop->commit_update(first).is_ok());
  }
  std::vector<std::string> now = this->contents(location);
  ASSERT_EQ(now.size(), samples().size());
  EXPECT_EQ(now.back(), "late arrival\n");
}

TYPED_TEST_P(StoreConformanceTest, MessageRemovedBehindTheSessionsBackIsNotFound) {
  std::string location = this->sample_location();
  MaildropPtr drop = this->open_ok(location);
  ASSERT_TRUE(drop);
  this->backend_.remove_behind_the_back(location, std::string(drop->messages()[2].uidl));
  EXPECT_EQ(drop->open_message(2).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->read_all(*drop, 3, 4096), samples()[3].bytes);
  // Deleting a message that is already gone counts as done.
  const size_t doomed[] = {2};
  EXPECT_TRUE(drop->commit_update(doomed).is_ok());
}

TYPED_TEST_P(StoreConformanceTest, UidlViewsStayValidAndUnchangedForTheWholeSession) {
  std::string location = this->sample_location();
  MaildropPtr drop = this->open_ok(location);
  ASSERT_TRUE(drop);
  std::vector<std::string_view> views;
  std::vector<std::string> copies;
  for (const MessageInfo& m : drop->messages()) {
    views.push_back(m.uidl);
    copies.emplace_back(m.uidl);
  }
  auto expect_unchanged = [&](const char* after) {
    SCOPED_TRACE(after);
    ASSERT_EQ(drop->messages().size(), copies.size());
    for (size_t i = 0; i < copies.size(); ++i) {
      EXPECT_EQ(drop->messages()[i].uidl.data(), views[i].data()) << i;
      EXPECT_EQ(views[i], copies[i]) << i;
    }
  };
  // Everything a session and the world around it do must leave the snapshot's UIDLs alone.
  this->backend_.deliver(location, "delivered during the session\n");
  expect_unchanged("a delivery");
  this->backend_.remove_behind_the_back(location, copies[1]);
  EXPECT_EQ(drop->open_message(1).status().code(), ErrorCode::kNotFound);
  expect_unchanged("a removal behind the session's back");
  for (size_t i = 2; i < copies.size(); ++i) {
    (void)this->read_all(*drop, i, 4096);
  }
  expect_unchanged("reading every message");
  const size_t doomed[] = {0, 1, 3};
  EXPECT_TRUE(drop->commit_update(doomed).is_ok());
  expect_unchanged("commit_update");
  // A second session sees the survivors under the same UIDLs, with views of its own.
  drop.reset();
  std::vector<Info> next = this->infos(location);
  ASSERT_EQ(next.size(), copies.size() - 3 + 1);
  EXPECT_EQ(next[0].uidl, copies[2]);
  EXPECT_EQ(next[1].uidl, copies[4]);
}

REGISTER_TYPED_TEST_SUITE_P(StoreConformanceTest, NewLocationIsAnEmptyMaildrop,
                            ListsMessagesInDeliveryOrderWithExactWireSizes, SizesOfKnownMessages,
                            ReaderReturnsTheStoredBytesWhateverTheChunkSize, UidlsAreValidAndUnique,
                            UidlsAndSizesAreStableAcrossSessions,
                            UidlsAndSizesSurviveTheLossOfCaches,
                            UidlsOfKeptMessagesSurviveDeletionOfOthers,
                            SecondOpenIsInUseUntilTheFirstSessionEnds, LocksArePerLocation,
                            CommitRemovesExactlyTheGivenMessages, CommitIsIdempotent,
                            EndingASessionWithoutCommitChangesNothing,
                            MailArrivingDuringASessionAppearsInTheNextOne,
                            MessageRemovedBehindTheSessionsBackIsNotFound,
                            UidlViewsStayValidAndUnchangedForTheWholeSession);

INSTANTIATE_TYPED_TEST_SUITE_P(Store, StoreConformanceTest, AllBackends, BackendNames);

}  // namespace
}  // namespace poplar::conformance
