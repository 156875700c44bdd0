// Tests of folder names: the Maildir++ directory of a wire name (Dovecot's layout and modified
// UTF-7, RFC 3501 §5.1.3 examples), every refusal of bad input (issue 6 "Bad input"), and the
// round trip both ways, also over random names.
// Must never: touch the file system. Single-threaded.
#include "store/maildir/folder_name.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace poplar::store::maildir {
namespace {

std::string directory_of(std::string_view wire) {
  Result<FolderName> name = parse_folder_name(wire);
  EXPECT_TRUE(name.is_ok()) << name.status().to_string();
  return name.is_ok() ? name->directory : "<error>";
}

// The message of the refusal, or "" when the name was accepted.
std::string refusal_of(std::string_view wire) {
  Result<FolderName> name = parse_folder_name(wire);
  if (name.is_ok()) {
    return "";
  }
  EXPECT_EQ(name.status().code(), ErrorCode::kInvalidInput);
  return name.status().message();
}

TEST(FolderNameTest, MapsWireNamesToMaildirPlusPlusDirectories) {
  EXPECT_EQ(directory_of("Archive"), ".Archive");
  EXPECT_EQ(directory_of("Sent Items"), ".Sent Items");
  EXPECT_EQ(directory_of("Work/2024/Q1"), ".Work.2024.Q1");
  EXPECT_EQ(directory_of("a&b"), ".a&-b");
  EXPECT_EQ(directory_of("Entwürfe"), ".Entw&APw-rfe");
  Result<FolderName> name = parse_folder_name("Work/2024");
  ASSERT_TRUE(name.is_ok());
  EXPECT_EQ(name->levels, 2u);
  EXPECT_FALSE(name->is_inbox());
}

TEST(FolderNameTest, InboxInAnyCaseIsTheRoot) {
  for (std::string_view spelling : {"INBOX", "inbox", "InBoX"}) {
    Result<FolderName> name = parse_folder_name(spelling);
    ASSERT_TRUE(name.is_ok());
    EXPECT_TRUE(name->is_inbox());
    EXPECT_EQ(name->wire, "INBOX");
    EXPECT_EQ(name->directory, "");
  }
  EXPECT_NE(refusal_of("INBOX/Sub"), "");
  EXPECT_NE(refusal_of("inbox/Sub"), "");
  EXPECT_EQ(directory_of("Sub/INBOX"), ".Sub.INBOX");
  EXPECT_EQ(directory_of("INBOXES"), ".INBOXES");
}

TEST(FolderNameTest, ModifiedUtf7FollowsRfc3501) {
  // RFC 3501 §5.1.3's example: "~peter/mail/台北/日本語".
  EXPECT_EQ(encode_modified_utf7("台北"), "&U,BTFw-");
  EXPECT_EQ(encode_modified_utf7("日本語"), "&ZeVnLIqe-");
  EXPECT_EQ(encode_modified_utf7("&"), "&-");
  EXPECT_EQ(encode_modified_utf7("a b~"), "a b~");
  EXPECT_EQ(encode_modified_utf7("😀"), "&2D3eAA-");  // a surrogate pair
  EXPECT_EQ(*decode_modified_utf7("&U,BTFw-"), "台北");
  EXPECT_EQ(*decode_modified_utf7("&2D3eAA-x&-"), "😀x&");
}

TEST(FolderNameTest, DecodingIsStrict) {
  for (std::string_view bad : {"&U,BTFw", "&U,BTF-", "&AGE-", "&ZeV!-", "&2D0-", "&3gA-", "\x7f",
                               "a\tb", "&U,BTFx-", "&APw-&APw-"}) {
    EXPECT_FALSE(decode_modified_utf7(bad).is_ok()) << bad;
  }
}

TEST(FolderNameTest, RefusesEveryBadName) {
  EXPECT_NE(refusal_of(""), "");
  EXPECT_NE(refusal_of("/Archive"), "");
  EXPECT_NE(refusal_of("Archive/"), "");
  EXPECT_NE(refusal_of("/"), "");
  EXPECT_NE(refusal_of("a//b"), "");
  EXPECT_NE(refusal_of("a/../b"), "");
  EXPECT_NE(refusal_of(".."), "");
  EXPECT_NE(refusal_of("a/."), "");
  EXPECT_NE(refusal_of(std::string("a\0b", 3)), "");
  EXPECT_NE(refusal_of("a\tb"), "");
  EXPECT_NE(refusal_of("a\x7f"), "");
  EXPECT_NE(refusal_of("a\xc2\x85"), "");         // U+0085, a C1 control
  EXPECT_NE(refusal_of("a\xc3"), "");             // cut UTF-8
  EXPECT_NE(refusal_of("\xc0\xaf"), "");          // overlong '/'
  EXPECT_NE(refusal_of("\xed\xa0\x80"), "");      // a surrogate
  EXPECT_NE(refusal_of("\xf4\x90\x80\x80"), "");  // beyond U+10FFFF
  EXPECT_NE(refusal_of("a.b"), "");
  EXPECT_NE(refusal_of(".hidden"), "");
  EXPECT_NE(refusal_of("~user"), "");
  EXPECT_EQ(refusal_of("a/~b"), "");
}

TEST(FolderNameTest, RefusalsSayWhatIsWrongWithoutEchoingTheName) {
  EXPECT_NE(refusal_of("a.b").find("'.'"), std::string::npos);
  EXPECT_NE(refusal_of("a//b").find("empty level"), std::string::npos);
  const std::string nul_name("secret\0", 7);
  EXPECT_EQ(refusal_of(nul_name).find("secret"), std::string::npos);
}

TEST(FolderNameTest, LimitsLevelsAndLength) {
  std::string deep = "a";
  for (size_t i = 1; i < kMaxFolderLevels; ++i) {
    deep += "/a";
  }
  EXPECT_EQ(refusal_of(deep), "");
  EXPECT_NE(refusal_of(deep + "/a").find("levels"), std::string::npos);
  std::string thousand = "a";
  for (int i = 1; i < 1000; ++i) {
    thousand += "/a";
  }
  EXPECT_NE(refusal_of(thousand), "");
  // 254 octets + the leading '.' is exactly NAME_MAX.
  EXPECT_EQ(refusal_of(std::string(254, 'x')), "");
  EXPECT_NE(refusal_of(std::string(255, 'x')).find("too long"), std::string::npos);
  EXPECT_NE(refusal_of(std::string(1 << 20, 'x')), "");
  // The limit counts encoded octets: 100 'ü' are 200 octets of UTF-8 but 270 encoded.
  std::string umlauts;
  for (int i = 0; i < 100; ++i) {
    umlauts += "ü";
  }
  EXPECT_NE(refusal_of(umlauts), "");
}

TEST(FolderNameTest, DirectoriesParseBackOnlyInCanonicalForm) {
  Result<FolderName> name = parse_folder_directory(".Work.Entw&APw-rfe");
  ASSERT_TRUE(name.is_ok());
  EXPECT_EQ(name->wire, "Work/Entwürfe");
  EXPECT_EQ(name->levels, 2u);
  for (std::string_view bad : {"", ".", "Archive", "..a", ".a.", ".a..b", ".INBOX", ".inbox.x",
                               ".&AGE-", ".&APw-&APw-", ".a/b", ".~x", ".a\tb"}) {
    EXPECT_FALSE(parse_folder_directory(bad).is_ok()) << bad;
  }
}

TEST(FolderNameTest, ParentAndLeaf) {
  EXPECT_EQ(folder_parent("a/b/c"), "a/b");
  EXPECT_EQ(folder_leaf("a/b/c"), "c");
  EXPECT_EQ(folder_parent("a"), "");
  EXPECT_EQ(folder_leaf("a"), "a");
}

TEST(FolderNameTest, RandomNamesRoundTrip) {
  std::mt19937 random(6);
  const std::string_view pieces[] = {"a",  "Z", " ", "&", "/", ".",    "~",    "ü",
                                     "台", "😀", "-", ",", "+", "\x01", "\xff", "INBOX"};
  size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string wire;
    const int length = 1 + static_cast<int>(random() % 12);
    for (int i = 0; i < length; ++i) {
      wire += pieces[random() % std::size(pieces)];
    }
    Result<FolderName> name = parse_folder_name(wire);
    if (!name.is_ok()) {
      continue;
    }
    ++accepted;
    if (name->is_inbox()) {
      continue;
    }
    EXPECT_EQ(name->wire, wire);
    Result<FolderName> back = parse_folder_directory(name->directory);
    ASSERT_TRUE(back.is_ok()) << name->directory << ": " << back.status().to_string();
    EXPECT_EQ(back->wire, wire);
    EXPECT_EQ(back->directory, name->directory);
  }
  EXPECT_GT(accepted, 1000u);
}

}  // namespace
}  // namespace poplar::store::maildir
