// Tests of copying a message into a folder: a hard link that keeps flags, subdirectory and size
// fields under a fresh name; the copy through tmp/ where links are unavailable; idempotent retries
// with a caller's base name; refusals; and fault injection at every operation of the copy path
// (one failure, and a crash) leaving the target with nothing new or the complete message, and
// the source untouched.
// Must never: touch files outside its temp dirs. Single-threaded.
#include "store/maildir/folder_copy.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>

#include "store/fs/fault_injection_file_system.h"
#include "store/fs/file_system_wrapper.h"
#include "store/maildir/file_name.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::store::maildir {
namespace {

namespace stdfs = std::filesystem;
using Op = fs::FaultInjectionFileSystem::Op;

// A file system without hard links (FAT, some network file systems, or across devices).
class NoLinkFileSystem final : public fs::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Status link_file(const std::string&, const std::string&) override {
    return Status::error(ErrorCode::kUnavailable, "link: not supported here");
  }
};

std::string read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::map<std::string, std::string> files_in(const stdfs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : stdfs::directory_iterator(dir)) {
    out[entry.path().filename().string()] = read_file(entry.path());
  }
  return out;
}

ino_t inode_of(const stdfs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class FolderCopyTest : public ::testing::Test {
 protected:
  FolderCopyTest()
      : inbox_(dir_.path() / "Maildir"), folder_(dir_.path() / "Maildir" / ".Archive") {}

  CopyOptions options(std::string base = "") {
    return CopyOptions{.hostname = "copy.example", .pid = 42, .base_name = std::move(base)};
  }

  testing::TempDir dir_;
  testing::MaildirBuilder inbox_;
  testing::MaildirBuilder folder_;
  static constexpr std::string_view kBody = "Subject: x\n\nbody\n";
};

TEST_F(FolderCopyTest, LinksWithFlagsSubdirectoryAndSizes) {
  const std::string source =
      inbox_.add({.bytes = std::string(kBody), .in_cur = true, .flags = "RS", .size_fields = true});
  const stdfs::path source_path = inbox_.path() / source;
  Result<CopiedMessage> copied = copy_message_file(fs::posix_file_system(), source_path.string(),
                                                   folder_.path().string(), options());
  ASSERT_TRUE(copied.is_ok()) << copied.status().to_string();
  EXPECT_TRUE(copied->linked);
  EXPECT_TRUE(copied->path.starts_with("cur/")) << copied->path;
  EXPECT_TRUE(copied->path.ends_with(":2,RS")) << copied->path;
  EXPECT_NE(copied->base.find("P42C"), std::string::npos) << copied->base;
  EXPECT_TRUE(copied->base.ends_with(",S=17,W=20")) << copied->base;
  EXPECT_EQ(base_name(copied->path.substr(4)), copied->base);
  EXPECT_EQ(inode_of(folder_.path() / copied->path), inode_of(source_path));
  EXPECT_EQ(read_file(source_path), kBody);

  const std::string fresh = inbox_.add(std::string(kBody));
  Result<CopiedMessage> again =
      copy_message_file(fs::posix_file_system(), (inbox_.path() / fresh).string(),
                        folder_.path().string(), options());
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->path.starts_with("new/")) << again->path;
  EXPECT_EQ(again->path.find(':'), std::string::npos);
  EXPECT_TRUE(again->base.ends_with(",S=17")) << again->base;  // no W= to carry over
  EXPECT_NE(again->base, copied->base);
}

TEST_F(FolderCopyTest, InfoLettersGiveTheCopyExactlyThoseFlags) {
  const stdfs::path source =
      inbox_.path() / inbox_.add({.bytes = std::string(kBody), .in_cur = true, .flags = "RSx"});
  CopyOptions flagged = options();
  flagged.info_letters = "Fa";
  Result<CopiedMessage> copied =
      copy_message_file(fs::posix_file_system(), source.string(), folder_.path().string(), flagged);
  ASSERT_TRUE(copied.is_ok()) << copied.status().to_string();
  EXPECT_TRUE(copied->path.starts_with("cur/")) << copied->path;
  EXPECT_TRUE(copied->path.ends_with(":2,Fa")) << copied->path;
  // No flags: a new message, as delivered, even from cur/.
  CopyOptions none = options();
  none.info_letters = "";
  NoLinkFileSystem no_links(fs::posix_file_system());
  Result<CopiedMessage> plain =
      copy_message_file(no_links, source.string(), folder_.path().string(), none);
  ASSERT_TRUE(plain.is_ok()) << plain.status().to_string();
  EXPECT_TRUE(plain->path.starts_with("new/")) << plain->path;
  EXPECT_EQ(plain->path.find(':'), std::string::npos);
  EXPECT_EQ(read_file(folder_.path() / plain->path), kBody);
  EXPECT_TRUE(stdfs::exists(source));  // the source keeps its name
  CopyOptions bad = options();
  bad.info_letters = "S/x";
  EXPECT_EQ(
      copy_message_file(fs::posix_file_system(), source.string(), folder_.path().string(), bad)
          .status()
          .code(),
      ErrorCode::kInvalidInput);
}

TEST_F(FolderCopyTest, CopiesThroughTmpWhereThereAreNoLinks) {
  NoLinkFileSystem no_links(fs::posix_file_system());
  const stdfs::path source =
      inbox_.path() / inbox_.add({.bytes = std::string(kBody), .in_cur = true, .flags = "S"});
  Result<CopiedMessage> copied =
      copy_message_file(no_links, source.string(), folder_.path().string(), options());
  ASSERT_TRUE(copied.is_ok()) << copied.status().to_string();
  EXPECT_FALSE(copied->linked);
  EXPECT_EQ(read_file(folder_.path() / copied->path), kBody);
  EXPECT_NE(inode_of(folder_.path() / copied->path), inode_of(source));
  EXPECT_TRUE(files_in(folder_.path() / "tmp").empty());
  EXPECT_EQ(read_file(source), kBody);
}

TEST_F(FolderCopyTest, RetryWithTheSameBaseNameCopiesOnce) {
  NoLinkFileSystem no_links(fs::posix_file_system());
  const stdfs::path source = inbox_.path() / inbox_.add(std::string(kBody));
  for (fs::FileSystem* fs : {static_cast<fs::FileSystem*>(&fs::posix_file_system()),
                             static_cast<fs::FileSystem*>(&no_links)}) {
    const std::string base = fs == &no_links ? "1700000000.retry2" : "1700000000.retry1";
    for (int round = 0; round < 2; ++round) {
      Result<CopiedMessage> copied =
          copy_message_file(*fs, source.string(), folder_.path().string(), options(base));
      ASSERT_TRUE(copied.is_ok()) << copied.status().to_string();
      EXPECT_EQ(copied->path, "new/" + base);
    }
  }
  EXPECT_EQ(files_in(folder_.path() / "new").size(), 2u);
  // Another file under that name is not an earlier attempt.
  std::ofstream(folder_.path() / "new" / "1700000000.other") << "different";
  EXPECT_EQ(copy_message_file(fs::posix_file_system(), source.string(), folder_.path().string(),
                              options("1700000000.other"))
                .status()
                .code(),
            ErrorCode::kInUse);
}

TEST_F(FolderCopyTest, RefusesWhatIsNotAMessage) {
  const std::string target = folder_.path().string();
  fs::FileSystem& posix = fs::posix_file_system();
  EXPECT_EQ(copy_message_file(posix, (inbox_.path() / "new" / "missing").string(), target)
                .status()
                .code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(copy_message_file(posix, (inbox_.path() / "new" / ".hidden").string(), target)
                .status()
                .code(),
            ErrorCode::kInvalidInput);
  stdfs::create_directory(inbox_.path() / "new" / "adir");
  EXPECT_EQ(
      copy_message_file(posix, (inbox_.path() / "new" / "adir").string(), target).status().code(),
      ErrorCode::kPermanent);
  const std::string source = (inbox_.path() / inbox_.add(std::string(kBody))).string();
  for (std::string bad : {"a/b", "a:2,S", ".dot"}) {
    EXPECT_EQ(copy_message_file(posix, source, target, options(bad)).status().code(),
              ErrorCode::kInvalidInput)
        << bad;
  }
  EXPECT_EQ(copy_message_file(posix, source, (dir_.path() / "nowhere").string()).status().code(),
            ErrorCode::kNotFound);
}

TEST_F(FolderCopyTest, AtEveryFaultTheTargetHasNothingNewOrTheWholeMessage) {
  NoLinkFileSystem no_links(fs::posix_file_system());
  const std::string body(200000, 'x');  // several blocks
  const stdfs::path source =
      inbox_.path() / inbox_.add({.bytes = body, .in_cur = true, .flags = "F"});
  // The copy path, then the link path.
  for (fs::FileSystem* target : {static_cast<fs::FileSystem*>(&no_links),
                                 static_cast<fs::FileSystem*>(&fs::posix_file_system())}) {
    fs::FaultInjectionFileSystem faults(*target);
    const auto run = [&] {
      return copy_message_file(faults, source.string(), folder_.path().string(), options());
    };
    ASSERT_TRUE(run().is_ok());
    const uint64_t count = faults.operation_count();
    ASSERT_GE(count, 3u);
    for (bool crash : {false, true}) {
      for (uint64_t n = 1; n <= count; ++n) {
        stdfs::remove_all(folder_.path() / "cur");
        stdfs::create_directory(folder_.path() / "cur");
        stdfs::remove_all(folder_.path() / "tmp");
        stdfs::create_directory(folder_.path() / "tmp");
        faults.reset();
        if (crash) {
          faults.fail_from(n, EIO);
        } else {
          faults.fail_at(n, EIO);
        }
        Result<CopiedMessage> copied = run();
        faults.reset();
        const auto in_cur = files_in(folder_.path() / "cur");
        EXPECT_LE(in_cur.size(), 1u) << n;
        for (const auto& [file, content] : in_cur) {
          EXPECT_EQ(content, body) << file << " at " << n;
          EXPECT_TRUE(file.ends_with(":2,F")) << n;
        }
        if (copied.is_ok()) {
          EXPECT_EQ(in_cur.size(), 1u) << n;
        } else if (!crash) {
          // One failure is cleaned up: nothing new anywhere (a crash may leave the complete
          // message, unreported, or a tmp/ file).
          EXPECT_TRUE(in_cur.empty()) << n;
          EXPECT_TRUE(files_in(folder_.path() / "tmp").empty()) << n;
        }
        EXPECT_EQ(read_file(source), body) << n;
      }
    }
  }
}

}  // namespace
}  // namespace poplar::store::maildir
