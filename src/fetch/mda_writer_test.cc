// Tests of delivery to a command: exact LF content on stdin, exit statuses mapped to temporary
// and permanent failures, a command that stops reading, and giving up mid-message killing the
// command before it can see an end of input.
#include "fetch/mda_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "testing/temp_dir.h"

namespace poplar::fetch {
namespace {

using ::testing::HasSubstr;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class MdaWriterTest : public ::testing::Test {
 protected:
  std::string out() const { return (dir_.path() / "out").string(); }
  testing::TempDir dir_;
};

TEST_F(MdaWriterTest, TheCommandGetsTheMessageWithLfLineEnds) {
  auto writer = begin_mda_delivery("cat > '" + out() + "'");
  ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
  // Split everywhere, also between CR and LF; a bare CR is kept.
  const std::string wire = "Subject: hi\r\n\r\nline one\r\nbare\rcr\r\nlast\r\n";
  for (char c : wire) {
    ASSERT_TRUE((*writer)->write(std::string_view(&c, 1)).is_ok());
  }
  Result<std::string> where = (*writer)->commit();
  ASSERT_TRUE(where.is_ok()) << where.status().to_string();
  EXPECT_EQ(*where, "mda:cat > '" + out() + "'");
  EXPECT_EQ(slurp(out()), "Subject: hi\n\nline one\nbare\rcr\nlast\n");
  EXPECT_EQ((*writer)->received_octets(), wire.size());
  EXPECT_EQ((*writer)->stored_octets(), slurp(out()).size());
}

TEST_F(MdaWriterTest, ExitStatusesSayTemporaryOrPermanent) {
  struct Case {
    const char* command;
    ErrorCode code;
    const char* text;
  };
  for (const Case& c :
       {Case{"cat >/dev/null; exit 75", ErrorCode::kTemporary, "exit 75"},
        Case{"cat >/dev/null; exit 3", ErrorCode::kPermanent, "exit 3"},
        Case{"cat >/dev/null; kill -TERM $$", ErrorCode::kTemporary, "signal 15"}}) {
    auto writer = begin_mda_delivery(c.command);
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->write("Subject: x\r\n\r\nbody\r\n").is_ok());
    Result<std::string> where = (*writer)->commit();
    ASSERT_FALSE(where.is_ok()) << c.command;
    EXPECT_EQ(where.status().code(), c.code) << c.command;
    EXPECT_THAT(where.status().message(), HasSubstr(c.text));
  }
}

TEST_F(MdaWriterTest, ACommandThatStopsReadingFailsTheDelivery) {
  // `exit 0` without reading: the message would be lost if this counted as delivered.
  auto writer = begin_mda_delivery("exit 0");
  ASSERT_TRUE(writer.is_ok());
  const std::string big(1 << 20, 'x');  // more than a pipe holds
  Status s = (*writer)->write(big + "\r\n");
  Result<std::string> where = (*writer)->commit();
  EXPECT_FALSE(where.is_ok());
  EXPECT_FALSE(s.is_ok() && where.is_ok());
  EXPECT_THAT(where.status().message(), HasSubstr("before reading the whole message"));
}

TEST_F(MdaWriterTest, GivingUpKillsTheCommandBeforeItSeesTheEnd) {
  // This MDA delivers only after reading to the end, as real ones do.
  {
    auto writer = begin_mda_delivery("m=$(cat; echo x); printf %s \"$m\" > '" + out() + "'");
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE((*writer)->write("Subject: half\r\n\r\nfirst half").is_ok());
  }  // destroyed without commit(): the connection broke mid-RETR
  EXPECT_FALSE(std::filesystem::exists(out()));
}

TEST_F(MdaWriterTest, EmptyCommandIsRefused) {
  EXPECT_EQ(begin_mda_delivery("").status().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace poplar::fetch
