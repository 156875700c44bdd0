// Unit tests for error_mapping.h: ErrorCode -> RFC 2449/3206 code and generic text.
// Tests only; no I/O.
#include "pop3/error_mapping.h"

#include <gtest/gtest.h>

namespace poplar::pop3 {
namespace {

TEST(ErrorMappingTest, LockAndDelayCodes) {
  EXPECT_EQ(map_error(ErrorCode::kInUse, Operation::kOpenMaildrop).code, ResponseCode::kInUse);
  EXPECT_EQ(map_error(ErrorCode::kLoginDelay, Operation::kOpenMaildrop).code,
            ResponseCode::kLoginDelay);
  EXPECT_EQ(map_error(ErrorCode::kAuthFailed, Operation::kAuthenticate).code, ResponseCode::kAuth);
}

TEST(ErrorMappingTest, TemporaryAndPermanentSystemErrors) {
  for (Operation op :
       {Operation::kOpenMaildrop, Operation::kReadMessage, Operation::kCommitUpdate}) {
    for (ErrorCode c : {ErrorCode::kTemporary, ErrorCode::kNotFound, ErrorCode::kLimit}) {
      EXPECT_EQ(map_error(c, op).code, ResponseCode::kSysTemp);
    }
    for (ErrorCode c : {ErrorCode::kPermanent, ErrorCode::kCorrupt, ErrorCode::kPermission,
                        ErrorCode::kUnavailable, ErrorCode::kInvalidInput}) {
      EXPECT_EQ(map_error(c, op).code, ResponseCode::kSysPerm);
    }
  }
  EXPECT_EQ(map_error(ErrorCode::kTemporary, Operation::kAuthenticate).code,
            ResponseCode::kSysTemp);
}

TEST(ErrorMappingTest, UnknownUserLooksLikeWrongPassword) {
  WireError wrong = map_error(ErrorCode::kAuthFailed, Operation::kAuthenticate);
  for (ErrorCode c : {ErrorCode::kNotFound, ErrorCode::kInvalidInput}) {
    WireError e = map_error(c, Operation::kAuthenticate);
    EXPECT_EQ(e.code, wrong.code);
    EXPECT_EQ(e.text, wrong.text);
  }
}

TEST(ErrorMappingTest, TextsAreGenericAndNeverStartWithBracket) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::kLoginDelay); ++c) {
    for (Operation op : {Operation::kAuthenticate, Operation::kOpenMaildrop,
                         Operation::kReadMessage, Operation::kCommitUpdate}) {
      WireError e = map_error(static_cast<ErrorCode>(c), op);
      EXPECT_FALSE(e.text.empty());
      EXPECT_NE(e.text.front(), '[');
      EXPECT_NE(e.code, ResponseCode::kNone);
    }
  }
}

TEST(ErrorMappingTest, FolderCommandsExplainTheClientsMistakes) {
  WireError bad_name = map_error(ErrorCode::kInvalidInput, Operation::kFolder);
  EXPECT_EQ(bad_name.code, ResponseCode::kNone);
  EXPECT_TRUE(bad_name.text.empty());  // the store's message is sent
  WireError keywords = map_error(ErrorCode::kLimit, Operation::kFolder);
  EXPECT_EQ(keywords.code, ResponseCode::kSysPerm);
  EXPECT_TRUE(keywords.text.empty());
  EXPECT_EQ(map_error(ErrorCode::kNotFound, Operation::kFolder).text, "No such folder.");
  EXPECT_EQ(map_error(ErrorCode::kInUse, Operation::kFolder).code, ResponseCode::kInUse);
  // System trouble stays generic.
  for (ErrorCode c : {ErrorCode::kTemporary, ErrorCode::kPermission, ErrorCode::kCorrupt}) {
    EXPECT_FALSE(map_error(c, Operation::kFolder).text.empty());
    EXPECT_NE(map_error(c, Operation::kFolder).code, ResponseCode::kNone);
  }
}

}  // namespace
}  // namespace poplar::pop3
