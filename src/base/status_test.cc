#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "base/result.h"

namespace poplar {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(StatusTest, ErrnoMapsToSemanticCodes) {
  EXPECT_EQ(Status::from_errno(ENOENT, "open x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(Status::from_errno(EACCES, "open x").code(), ErrorCode::kPermission);
  EXPECT_EQ(Status::from_errno(ENOSPC, "write x").code(), ErrorCode::kTemporary);
  EXPECT_EQ(Status::from_errno(EIO, "read x").code(), ErrorCode::kTemporary);
  EXPECT_NE(Status::from_errno(ENOENT, "open /a/b").message().find("/a/b"), std::string::npos);
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good(7);
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad(Status::in_use("locked"));
  EXPECT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInUse);
}

}  // namespace
}  // namespace poplar
