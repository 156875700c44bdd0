#include "admin/password_input.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <string_view>

namespace poplar::admin {
namespace {

// A pipe whose write end has been filled with `input` and closed.
class FilledPipe {
 public:
  explicit FilledPipe(std::string_view input) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read_fd_ = fds[0];
    EXPECT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    ::close(fds[1]);
  }
  ~FilledPipe() { ::close(read_fd_); }
  int fd() const { return read_fd_; }
  std::string rest() {
    std::string out;
    char c;
    while (::read(read_fd_, &c, 1) == 1) {
      out += c;
    }
    return out;
  }

 private:
  int read_fd_ = -1;
};

TEST(PasswordInputTest, ReadsOnlyTheFirstLine) {
  FilledPipe pipe("correct horse battery staple\nsecond line\n");
  Result<Secret> pw = read_password_line(pipe.fd());
  ASSERT_TRUE(pw.is_ok());
  EXPECT_EQ(pw->view(), "correct horse battery staple");  // inner spaces kept
  EXPECT_EQ(pipe.rest(), "second line\n");                // nothing read beyond the line
}

TEST(PasswordInputTest, DropsCrlfAndAcceptsAMissingLineEnd) {
  FilledPipe crlf("secret\r\n");
  EXPECT_EQ(read_password_line(crlf.fd())->view(), "secret");
  FilledPipe bare("secret");
  EXPECT_EQ(read_password_line(bare.fd())->view(), "secret");
}

TEST(PasswordInputTest, EmptyInputIsRefused) {
  FilledPipe nothing("");
  EXPECT_EQ(read_password_line(nothing.fd()).status().code(), ErrorCode::kUnavailable);
  FilledPipe empty_line("\n");
  EXPECT_EQ(read_password_line(empty_line.fd()).status().code(), ErrorCode::kInvalidInput);
  FilledPipe only_cr("\r\n");
  EXPECT_EQ(read_password_line(only_cr.fd()).status().code(), ErrorCode::kInvalidInput);
}

TEST(PasswordInputTest, OverlongInputIsRefusedNotCut) {
  FilledPipe exact(std::string(kMaxPasswordBytes, 'a') + "\n");
  Result<Secret> ok = read_password_line(exact.fd());
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->size(), kMaxPasswordBytes);
  FilledPipe over(std::string(kMaxPasswordBytes + 1, 'a') + "\nnext\n");
  Result<Secret> too_long = read_password_line(over.fd());
  EXPECT_EQ(too_long.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(over.rest(), "next\n");
}

}  // namespace
}  // namespace poplar::admin
