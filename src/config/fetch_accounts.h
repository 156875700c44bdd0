// The account file of `poplar fetch -c FILE` (DESIGN §6, docs/fetch.md "Accounts file"): TOML
// with an optional [defaults] table and one [[account]] table per account, read into plain
// values. The keys mirror the command line's options (url, target, keep, keep_days, ...), and
// every problem is reported like the server's config: "FILE:LINE: [[account]] key: what is
// wrong", all problems at once, sorted by line.
//
// URLs, targets and fingerprints are checked by the caller's validators (their parsers live in
// fetch/, above this module), so a bad URL is still reported with its line.
//
// Passwords never live in this file: a `password` key is refused with a message that says
// where they go (password_file, password_command, or $POPLAR_PASSWORD).
//
// Thread-safety: plain values and stateless functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace poplar::config {

struct FetchAccountConfig {
  std::string name;              // [A-Za-z0-9._-], 1-64 characters, unique in the file
  std::string url;               // pop:// or pops:// (RFC 2384), checked by the url validator
  std::string user;              // for a URL without a user (RFC 2384 §3: "the configured user")
  std::string password_file;     // absolute; its first line is the password
  std::string password_command;  // run by /bin/sh -c; the first line it prints is the password
  std::string target;            // "maildir:DIR", "mbox:FILE" (paths absolute) or "mda:COMMAND"
  bool keep = true;              // false: delete from the server once delivered
  std::optional<uint32_t> keep_days;  // keep, but delete what was first seen this many days ago
  std::optional<uint64_t> max_size;   // skip messages larger than this (octets)
  std::optional<uint32_t> limit;      // at most this many new messages per run
  std::string ca_file;                // absolute
  std::string fingerprint;            // SHA-256 pin, checked by the fingerprint validator
  bool insecure_plaintext = false;
  bool discover = false;  // look the server up by SRV records (RFC 6186)
  std::string state;      // absolute; empty: the default state file
  uint32_t timeout_s = 120;
  std::string folder;   // POP4: fetch from this folder (checked by the folder validator)
  std::string move_to;  // POP4: move instead of delete (checked by the folder validator)
  uint32_t line = 0;    // where the [[account]] table starts, for messages
};

struct FetchConfig {
  std::vector<FetchAccountConfig> accounts;  // in file order
  std::string source_path;
};

// Each returns OK or kInvalidInput with a message (without the value, which the parser quotes).
struct FetchAccountValidators {
  std::function<Status(std::string_view)> url;
  std::function<Status(std::string_view)> target;
  std::function<Status(std::string_view)> fingerprint;
  std::function<Status(std::string_view)> folder;  // folder and move_to
};

// Parses TOML text; relative paths resolve against base_dir (empty: the current directory) and
// "~/" against $HOME. Errors: kInvalidInput naming file, line, table and key.
Result<FetchConfig> parse_fetch_config(std::string_view toml_text, const std::string& name,
                                       const std::string& base_dir,
                                       const FetchAccountValidators& validators);
// Reads and parses a file (at most 1 MiB). Errors: those of parse_fetch_config, plus
// kNotFound/kPermission/kTemporary (cannot read) and kLimit.
Result<FetchConfig> load_fetch_config(const std::string& path,
                                      const FetchAccountValidators& validators);

}  // namespace poplar::config
