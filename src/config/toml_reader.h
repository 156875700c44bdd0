// TomlReader: what every Poplar TOML file parser shares (the server's config.cc and `poplar
// fetch`'s account file): typed reads of keys that report a wrong type or value instead of
// throwing, unknown-key checks, relative paths resolved against the file's directory, and all
// problems of a file collected into one Status, "NAME:LINE: [section] key: what is wrong",
// sorted by line, the way a compiler reports, so a file is fixed in one round.
//
// Internal to config/: it includes toml++, which must not leak into any other module (only
// config/*.cc include this header).
//
// Thread-safety: one reader per parse; no shared state.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace poplar::config {

// "a table", "an integer", ...: for "must be X, not Y" messages.
std::string_view type_name(const toml::node& node);
// Text from the file, quoted for a message: `"` and `\` escaped, control characters as \xNN, so
// the reader sees exactly what was written and nothing garbles a terminal or a log.
std::string quote(std::string_view text);
bool is_known(std::span<const std::string_view> known, std::string_view word);
// `"a", "b", "c"`
std::string join(std::span<const std::string_view> words);

// Parses TOML text into `root`, after config/toml_guard's check (which keeps toml++ 3.3 away
// from its undefined behaviour). Errors: kInvalidInput "NAME:LINE: what toml++ or the guard
// says".
Status parse_toml(std::string_view text, const std::string& name, toml::table& root);
// Reads a whole small file (a config file is a few KB; more than `max_bytes` is refused with
// kLimit so that "-c /dev/zero" cannot eat memory). Errors: kNotFound/kPermission/kTemporary
// from the OS, kLimit.
Result<std::string> read_small_file(const std::string& path, size_t max_bytes,
                                    std::string_view what);

class TomlReader {
 public:
  // `name` prefixes every message; `base_dir` (absolute) resolves relative paths.
  TomlReader(std::string name, std::filesystem::path base_dir);

  // "[limits] idle_timeout_s"
  static std::string prefix(std::string_view sect, std::string_view key);

  void add(const toml::source_region& where, std::string text);
  // "[limits] idle_timeout_s: must be at least 600 (...)"
  void add(const toml::node& node, std::string_view sect, std::string_view key,
           std::string_view what);
  void wrong_type(const toml::node& node, std::string_view sect, std::string_view key,
                  std::string_view wanted);
  // OK, or every problem so far as one kInvalidInput.
  Status result() const;
  size_t problem_count() const { return problems_.size(); }

  void check_keys(const toml::table& table, std::string_view sect,
                  std::span<const std::string_view> known);

  // Each read_* leaves `out` unchanged when the key is absent or wrong (reported), and returns
  // the node when it stored a value, for checks that need its line.
  const toml::node* read_string(const toml::table& t, std::string_view sect, std::string_view key,
                                std::string& out);
  const toml::node* read_bool(const toml::table& t, std::string_view sect, std::string_view key,
                              bool& out);
  // An integer in [min, max]; `why_min` explains the lower bound in the message.
  const toml::node* read_uint(const toml::table& t, std::string_view sect, std::string_view key,
                              uint64_t min, std::string_view why_min, uint64_t max, uint64_t& out);
  const toml::node* read_u32(const toml::table& t, std::string_view sect, std::string_view key,
                             uint32_t min, std::string_view why_min, uint32_t& out);
  // An array of strings, each checked against `known` (case-insensitively when `fold_case`, in
  // which case the stored spelling is upper case); duplicates are refused.
  void read_word_list(const toml::table& t, std::string_view sect, std::string_view key,
                      std::span<const std::string_view> known, bool fold_case,
                      std::vector<std::string>& out);
  // A path: non-empty, no NUL, made absolute against the file's directory; with `tilde`, a
  // leading "~/" is the user's home ($HOME).
  const toml::node* read_path(const toml::table& t, std::string_view sect, std::string_view key,
                              std::string& out, bool tilde = false);
  std::string resolve(const std::string& path) const;
  const std::filesystem::path& base_dir() const { return base_dir_; }
  const std::string& name() const { return name_; }

 private:
  struct Problem {
    toml::source_index line;
    std::string text;
  };
  std::string name_;
  std::filesystem::path base_dir_;
  std::vector<Problem> problems_;
};

// The absolute directory for relative paths: `dir` made absolute (empty: the current one).
std::filesystem::path absolute_dir(const std::string& dir);

}  // namespace poplar::config
