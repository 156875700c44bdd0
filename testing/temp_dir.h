// A unique temporary directory per test, removed when the object dies.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace poplar::testing {

class TempDir {
 public:
  // kTmpfsIfThere: under /dev/shm when it exists. For sweeps that run a store hundreds of
  // times: it fsyncs every file and directory it writes, and real fsyncs would take minutes.
  enum class Where { kTemp, kTmpfsIfThere };

  explicit TempDir(Where where = Where::kTemp) {
    std::error_code ec;
    const std::filesystem::path base =
        where == Where::kTmpfsIfThere && std::filesystem::is_directory("/dev/shm", ec)
            ? std::filesystem::path("/dev/shm")
            : std::filesystem::temp_directory_path();
    std::string tmpl = (base / "poplar-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (made == nullptr) {
      std::abort();
    }
    path_ = made;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace poplar::testing
