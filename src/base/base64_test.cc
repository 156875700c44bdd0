// Tests for strict base64: RFC 4648 §10 vectors both ways, and every way decoding must refuse.
#include "base/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace poplar {
namespace {

TEST(Base64, Rfc4648Section10Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64, BinaryRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }
  for (size_t n = 0; n <= all.size(); ++n) {
    std::string part = all.substr(0, n);
    auto decoded = base64_decode(base64_encode(part));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, part);
  }
}

TEST(Base64, RejectsBadCharacters) {
  EXPECT_FALSE(base64_decode("Zm9v!A=="));
  EXPECT_FALSE(base64_decode("Zm-v"));
  EXPECT_FALSE(base64_decode("Zm_v"));
  EXPECT_FALSE(base64_decode(std::string("Zm9\0", 4)));
  EXPECT_FALSE(base64_decode("Zm9v\xc3\xa9"));
}

TEST(Base64, RejectsWhitespace) {
  EXPECT_FALSE(base64_decode("Zm9v YmFy"));
  EXPECT_FALSE(base64_decode("Zm9v\r\nYmFy"));
  EXPECT_FALSE(base64_decode(" Zm9v"));
  EXPECT_FALSE(base64_decode("Zm9v\n"));
}

TEST(Base64, RejectsBadPadding) {
  EXPECT_FALSE(base64_decode("Zg"));     // missing padding
  EXPECT_FALSE(base64_decode("Zg="));    // short padding
  EXPECT_FALSE(base64_decode("Zg==="));  // excess padding
  EXPECT_FALSE(base64_decode("Z==="));   // three pad characters
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode("Zg==Zm9v"));  // padding in the middle
  EXPECT_FALSE(base64_decode("Zm=v"));
  EXPECT_FALSE(base64_decode("="));
  EXPECT_FALSE(base64_decode("Zm9vY"));  // length not a multiple of 4
}

TEST(Base64, RejectsNonCanonicalTrailingBits) {
  EXPECT_TRUE(base64_decode("Zg=="));
  EXPECT_FALSE(base64_decode("Zh=="));  // "f" with a stray bit
  EXPECT_TRUE(base64_decode("Zm8="));
  EXPECT_FALSE(base64_decode("Zm9="));  // "fo" with a stray bit
}

}  // namespace
}  // namespace poplar
