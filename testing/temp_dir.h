// A unique temporary directory per test, removed when the object dies.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace poplar::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "poplar-test-XXXXXX").string();
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
