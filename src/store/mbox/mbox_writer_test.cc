// Tests of mbox delivery: the exact bytes appended (From_ line, mboxrd quoting, line ends,
// separator) whatever the chunking, the sender from Return-Path, appending to mboxes written by
// others, abandoned deliveries, the two locks, and fault injection at every file-system
// operation leaving the mbox with exactly the previous messages or those plus the complete new
// one.
// Must never: touch files outside its temp dirs, or sleep (every lock wait here is 0).
// Single-threaded.
#include "store/mbox/mbox_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "store/fs/fault_injection_file_system.h"
#include "store/mbox/mbox_lock.h"
#include "testing/temp_dir.h"

namespace poplar::store::mbox {
namespace {

using Op = fs::FaultInjectionFileSystem::Op;

// 2026-11-27T12:00:00Z
constexpr int64_t kTime = 1795780800;
constexpr std::string_view kDate = "Fri Nov 27 12:00:00 2026";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

MboxOptions options(std::string sender = "") {
  return MboxOptions{.envelope_sender = std::move(sender), .time_s = kTime, .lock_wait_ms = 0};
}

// Delivers wire in pieces of `chunk` octets (0: whole).
Result<std::string> deliver(fs::FileSystem& fs, const std::string& path, std::string_view wire,
                            size_t chunk = 0, MboxOptions opts = options()) {
  Result<MessageWriterPtr> writer = begin_mbox_delivery(fs, path, std::move(opts));
  if (!writer.is_ok()) {
    return writer.status();
  }
  size_t step = chunk == 0 ? std::max<size_t>(wire.size(), 1) : chunk;
  for (size_t pos = 0; pos < wire.size(); pos += step) {
    if (Status written = (*writer)->write(wire.substr(pos, step)); !written.is_ok()) {
      return written;
    }
  }
  return (*writer)->commit();
}

std::string from_(std::string_view sender) {
  return "From " + std::string(sender) + " " + std::string(kDate) + "\n";
}

class MboxWriterTest : public ::testing::Test {
 protected:
  std::string mbox() const { return (dir_.path() / "mbox").string(); }
  std::string content() const { return read_file(mbox()); }
  bool dotlock_exists() const { return std::filesystem::exists(mbox() + ".lock"); }

  testing::TempDir dir_;
  fs::FileSystem& fs_ = fs::posix_file_system();
};

struct Case {
  std::string_view name;
  std::string_view wire;
  std::string_view stored;  // what follows the From_ line, separator included
};

constexpr Case kCases[] = {
    {"crlf", "Subject: a\r\n\r\nbody\r\n", "Subject: a\n\nbody\n\n"},
    {"lf", "Subject: a\n\nbody\n", "Subject: a\n\nbody\n\n"},
    {"mixed", "Subject: a\r\n\nx\r\ny\n", "Subject: a\n\nx\ny\n\n"},
    {"bare cr", "Subject: a\r\n\r\nx\ry\r\n", "Subject: a\n\nx\ry\n\n"},
    {"no final newline", "Subject: a\r\n\r\nlast", "Subject: a\n\nlast\n\n"},
    {"ends in bare cr", "S: a\r\n\r\nlast\r", "S: a\n\nlast\r\n\n"},
    {"empty", "", "\n"},
    {"from lines",
     "From: alice@example.org\r\n\r\nFrom here\r\n>From there\r\n>>From  x\r\nFrom\r\nFrom:\r\n",
     "From: alice@example.org\n\n>From here\n>>From there\n>>>From  x\nFrom\nFrom:\n\n"},
    {"from as first line", "From someone\r\nX: y\r\n\r\n", ">From someone\nX: y\n\n\n"},
    {"header only", "Subject: only\r\n", "Subject: only\n\n"},
    {"dots stay", "S: a\r\n\r\n.\r\n..x\r\n", "S: a\n\n.\n..x\n\n"},
};

TEST_F(MboxWriterTest, WritesTheFromLineTheQuotedMessageAndTheSeparator) {
  for (const Case& c : kCases) {
    testing::TempDir dir;
    std::string path = (dir.path() / "mbox").string();
    Result<std::string> where = deliver(fs_, path, c.wire, 0, options("sender@example.org"));
    ASSERT_TRUE(where.is_ok()) << c.name << ": " << where.status().to_string();
    EXPECT_EQ(*where, path + "@0");
    EXPECT_EQ(read_file(path), from_("sender@example.org") + std::string(c.stored)) << c.name;
  }
}

TEST_F(MboxWriterTest, SameBytesFedByteByByteSplitAtEveryOffsetAndInRandomChunks) {
  std::mt19937 random(11);
  for (const Case& c : kCases) {
    const std::string expected = from_("s@x") + std::string(c.stored);
    // Byte by byte and a few small sizes (every size costs an fsync per case).
    for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{8}}) {
      testing::TempDir dir;
      std::string path = (dir.path() / "mbox").string();
      ASSERT_TRUE(deliver(fs_, path, c.wire, chunk, options("s@x")).is_ok());
      EXPECT_EQ(read_file(path), expected) << c.name << " chunk " << chunk;
    }
    for (size_t cut = 0; cut <= c.wire.size(); ++cut) {
      testing::TempDir dir;
      std::string path = (dir.path() / "mbox").string();
      Result<MessageWriterPtr> writer = begin_mbox_delivery(fs_, path, options("s@x"));
      ASSERT_TRUE(writer.is_ok());
      ASSERT_TRUE((*writer)->write(c.wire.substr(0, cut)).is_ok());
      ASSERT_TRUE((*writer)->write(c.wire.substr(cut)).is_ok());
      ASSERT_TRUE((*writer)->commit().is_ok());
      EXPECT_EQ(read_file(path), expected) << c.name << " cut " << cut;
    }
    for (int round = 0; round < 5; ++round) {
      testing::TempDir dir;
      std::string path = (dir.path() / "mbox").string();
      Result<MessageWriterPtr> writer = begin_mbox_delivery(fs_, path, options("s@x"));
      ASSERT_TRUE(writer.is_ok());
      size_t pos = 0;
      while (pos < c.wire.size()) {
        size_t n = std::min<size_t>(random() % 4, c.wire.size() - pos);
        ASSERT_TRUE((*writer)->write(c.wire.substr(pos, n)).is_ok());
        pos += n;
      }
      ASSERT_TRUE((*writer)->commit().is_ok());
      EXPECT_EQ(read_file(path), expected) << c.name;
    }
  }
}

TEST_F(MboxWriterTest, CountsReceivedAndStoredOctets) {
  Result<MessageWriterPtr> writer = begin_mbox_delivery(fs_, mbox(), options());
  ASSERT_TRUE(writer.is_ok());
  ASSERT_TRUE((*writer)->write("From x\r\n\r\nb\r").is_ok());
  ASSERT_TRUE((*writer)->write("\n").is_ok());
  ASSERT_TRUE((*writer)->commit().is_ok());
  EXPECT_EQ((*writer)->received_octets(), 13u);
  EXPECT_EQ((*writer)->stored_octets(), 10u);  // "From x\n\nb\n": quoting is not counted
}

TEST_F(MboxWriterTest, TakesTheSenderFromReturnPathElseMailerDaemon) {
  ASSERT_TRUE(
      deliver(fs_, mbox(), "Return-Path: <bob@example.org>\r\nS: 1\r\n\r\nx\r\n", 5).is_ok());
  ASSERT_TRUE(deliver(fs_, mbox(), "S: 2\r\n\r\nReturn-Path: <body@x>\r\n").is_ok());
  ASSERT_TRUE(deliver(fs_, mbox(), "Return-Path: <>\r\n\r\n").is_ok());
  EXPECT_EQ(content(), from_("bob@example.org") + "Return-Path: <bob@example.org>\nS: 1\n\nx\n\n" +
                           from_("MAILER-DAEMON") + "S: 2\n\nReturn-Path: <body@x>\n\n" +
                           from_("MAILER-DAEMON") + "Return-Path: <>\n\n\n");
}

TEST_F(MboxWriterTest, AHugeHeaderBlockIsNotHeldWhole) {
  std::string wire = "Return-Path: <early@x>\r\n";
  while (wire.size() < 200'000) {
    wire += "X-Filler: 0123456789012345678901234567890123456789\r\n";
  }
  wire += "\r\nbody\r\n";
  Result<MessageWriterPtr> writer = begin_mbox_delivery(fs_, mbox(), options());
  ASSERT_TRUE(writer.is_ok());
  for (size_t pos = 0; pos < wire.size(); pos += 1000) {
    ASSERT_TRUE((*writer)->write(std::string_view(wire).substr(pos, 1000)).is_ok());
  }
  // The From_ line went out once 64 KiB of header was held.
  EXPECT_GT(std::filesystem::file_size(mbox()), 60'000u);
  ASSERT_TRUE((*writer)->commit().is_ok());
  EXPECT_TRUE(content().starts_with(from_("early@x") + "Return-Path: <early@x>\n"));
}

TEST_F(MboxWriterTest, RefusesAnEnvelopeSenderThatWouldBreakTheFromLine) {
  for (const std::string& bad : std::vector<std::string>{"a b@x", "a\n@x", std::string(300, 'a')}) {
    EXPECT_EQ(begin_mbox_delivery(fs_, mbox(), options(bad)).status().code(),
              ErrorCode::kInvalidInput);
  }
  EXPECT_FALSE(dotlock_exists());
}

TEST_F(MboxWriterTest, AppendsAfterExistingMailAndRepairsAMissingSeparator) {
  ASSERT_TRUE(deliver(fs_, mbox(), "one\r\n", 0, options("a@x")).is_ok());
  const std::string first = content();
  Result<std::string> where = deliver(fs_, mbox(), "two\r\n", 0, options("a@x"));
  ASSERT_TRUE(where.is_ok());
  EXPECT_EQ(*where, mbox() + "@" + std::to_string(first.size()));
  EXPECT_EQ(content(), first + from_("a@x") + "two\n\n");

  // Written by someone else without the blank line, or without even the final LF.
  for (auto [before, separator] : {std::pair<std::string, std::string>{"From a x\nm\n", "\n"},
                                   {"From a x\nm", "\n\n"},
                                   {"x", "\n\n"},
                                   {"\n", ""}}) {
    write_file(mbox(), before);
    Result<std::string> at = deliver(fs_, mbox(), "new\r\n", 0, options("a@x"));
    ASSERT_TRUE(at.is_ok());
    EXPECT_EQ(content(), before + separator + from_("a@x") + "new\n\n") << before;
    EXPECT_EQ(*at, mbox() + "@" + std::to_string(before.size() + separator.size()));
  }
}

TEST_F(MboxWriterTest, CreatesTheMboxPrivate) {
  ASSERT_TRUE(deliver(fs_, mbox(), "x\r\n").is_ok());
  struct stat st {};
  ASSERT_EQ(::stat(mbox().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(dotlock_exists());
  EXPECT_EQ(deliver(fs_, (dir_.path() / "no" / "mbox").string(), "x").status().code(),
            ErrorCode::kNotFound);
}

TEST_F(MboxWriterTest, AbandonedDeliveryTruncatesBackAndUnlocks) {
  ASSERT_TRUE(deliver(fs_, mbox(), "kept\r\n").is_ok());
  const std::string before = content();
  {
    Result<MessageWriterPtr> writer = begin_mbox_delivery(fs_, mbox(), options());
    ASSERT_TRUE(writer.is_ok());
    EXPECT_TRUE(dotlock_exists());
    ASSERT_TRUE((*writer)->write("S: x\r\n\r\n" + std::string(300'000, 'y')).is_ok());
    EXPECT_GT(content().size(), before.size());  // appended in part already
  }
  EXPECT_EQ(content(), before);
  EXPECT_FALSE(dotlock_exists());
  EXPECT_TRUE(deliver(fs_, mbox(), "next\r\n").is_ok());
}

TEST_F(MboxWriterTest, ASecondWriterIsRefusedWhileTheFirstHoldsTheLocks) {
  Result<MessageWriterPtr> first = begin_mbox_delivery(fs_, mbox(), options());
  ASSERT_TRUE(first.is_ok());
  Result<MessageWriterPtr> second = begin_mbox_delivery(fs_, mbox(), options());
  EXPECT_EQ(second.status().code(), ErrorCode::kInUse);
  EXPECT_NE(second.status().message().find(".lock"), std::string::npos);
  EXPECT_TRUE(dotlock_exists());  // the refused writer did not remove the first one's lock
  ASSERT_TRUE((*first)->write("a\r\n").is_ok());
  ASSERT_TRUE((*first)->commit().is_ok());
  EXPECT_FALSE(dotlock_exists());
  EXPECT_TRUE(deliver(fs_, mbox(), "b\r\n").is_ok());
}

TEST_F(MboxWriterTest, TheFcntlLockAloneAlsoRefuses) {
  // Another program that takes only the fcntl lock (no dotlock).
  Result<fs::AppendableFilePtr> other = fs_.open_for_append(mbox(), 0600);
  ASSERT_TRUE(other.is_ok());
  ASSERT_TRUE((*other)->lock().is_ok());
  EXPECT_EQ(deliver(fs_, mbox(), "x\r\n").status().code(), ErrorCode::kInUse);
  EXPECT_FALSE(dotlock_exists());  // given back on failure
  ASSERT_TRUE((*other)->close().is_ok());
  EXPECT_TRUE(deliver(fs_, mbox(), "x\r\n").is_ok());
}

TEST_F(MboxWriterTest, AStaleDotlockIsBrokenAFreshOneIsNot) {
  write_file(mbox() + ".lock", "");
  EXPECT_EQ(deliver(fs_, mbox(), "x\r\n").status().code(), ErrorCode::kInUse);
  EXPECT_TRUE(dotlock_exists());
  // Six minutes old.
  struct timespec times[2];
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= 6 * 60;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, (mbox() + ".lock").c_str(), times, 0), 0);
  EXPECT_TRUE(deliver(fs_, mbox(), "x\r\n").is_ok());
  EXPECT_FALSE(dotlock_exists());
}

// The mbox holds exactly the previous messages, or those plus the complete new one. (Compared
// without printing: the mboxes are large.)
void expect_previous_or_complete(const std::string& before, const std::string& after,
                                 const std::string& added, const std::string& what) {
  EXPECT_TRUE(after == before || after == before + added)
      << what << ": partial message in the mbox (" << before.size() << " octets before, "
      << after.size() << " after, a complete delivery adds " << added.size() << ")";
}

TEST_F(MboxWriterTest, AFailureAtAnyOperationLeavesThePreviousMessagesOrTheCompleteNewOne) {
  std::string wire = "Return-Path: <r@x>\r\nSubject: big\r\n\r\n";
  for (int i = 0; i < 20000; ++i) {
    wire += (i % 100 == 0 ? "From the line " : "line ") + std::to_string(i) + "\r\n";
  }
  fs::FaultInjectionFileSystem faulty(fs_);
  ASSERT_TRUE(deliver(faulty, mbox(), "old\r\n").is_ok());
  const std::string old = content();
  faulty.reset();
  ASSERT_TRUE(deliver(faulty, mbox(), wire, 10'000).is_ok());
  const std::string added = content().substr(old.size());
  const std::vector<fs::FaultInjectionFileSystem::Record> operations = faulty.operations();
  EXPECT_GE(faulty.count(Op::kAppend, "/mbox"), 3u);
  EXPECT_EQ(faulty.count(Op::kLockFileRange), 1u);
  EXPECT_EQ(faulty.count(Op::kCreateNewFile, "mbox.lock"), 1u);
  EXPECT_EQ(faulty.count(Op::kSync), 1u);
  write_file(mbox(), old);

  for (int err : {ENOSPC, EIO}) {
    for (const auto& op : operations) {
      const std::string what = "fail at op " + std::to_string(op.number) + " (" +
                               std::string(fs::FaultInjectionFileSystem::op_name(op.op)) + " " +
                               op.path + ") errno " + std::to_string(err);
      const std::string before = content();
      faulty.reset();
      faulty.fail_at(op.number, err);
      Result<std::string> result = deliver(faulty, mbox(), wire, 10'000);
      faulty.reset();
      const std::string after = content();
      expect_previous_or_complete(before, after, added, what);
      if (result.is_ok()) {
        EXPECT_TRUE(after == before + added) << what << ": OK but not delivered";
      } else {
        EXPECT_TRUE(after == before) << what << ": failed, yet the message is there";
      }
      if (op.op == Op::kUnlink && op.path.ends_with(".lock")) {
        // The one thing a failure can leave: a dotlock that could not be removed. It goes stale
        // in 5 minutes; the delivery itself is complete.
        EXPECT_TRUE(result.is_ok()) << what;
        std::filesystem::remove(mbox() + ".lock");
      }
      // Never a lock left behind: the next delivery gets both at once.
      EXPECT_FALSE(dotlock_exists()) << what;
      Result<std::string> next = deliver(fs_, mbox(), "probe\r\n");
      EXPECT_TRUE(next.is_ok()) << what << ": " << next.status().to_string();
      write_file(mbox(), old);
    }
  }
}

}  // namespace
}  // namespace poplar::store::mbox
