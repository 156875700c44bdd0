// FetchState: the record, per (server, user), of the UIDLs already fetched and when each was
// first seen (SPEC PR-C-1, PR-C-2), kept in a crash-safe text file. Format and durability rules:
// docs/formats/fetch-state.md. In short:
//
//   poplar-fetch-state 1 <canonical url>\n
//   <first_seen_unix_seconds> <uidl>\n      (one line per UIDL)
//
// open() locks "<path>.lock" for the whole run, loads the file and at once writes a compacted
// copy (temp file, fsync, rename over the old one, fsync of the directory) whose descriptor it
// keeps. From then on record() is ONE append of one line and one fsync on that open file:
// O(1) per message, and durable when it returns OK; append() + sync() split it so that one
// fsync covers a batch of messages (group commit).
// A crash at any point leaves either the old or the new file complete, plus at most one torn
// last line, which load ignores: at worst a message is fetched twice, never lost.
//
// Must never: write anywhere but through the given fs::FileSystem; report a UIDL as recorded
// before its line is synced; keep appending after a failed write (the file could then hold a
// torn line in its middle, so every later call fails instead).
//
// Thread-safety: one FetchState is used by one thread at a time. The lock file keeps other
// processes, and other FetchStates in this process, off the same state file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/result.h"
#include "base/status.h"
#include "store/fs/file_system.h"

namespace poplar::fetch {

// The first line's magic word and the format version it announces.
inline constexpr std::string_view kFetchStateMagic = "poplar-fetch-state";
inline constexpr int kFetchStateVersion = 1;
// A state file is read whole; 100,000 UIDLs take about 6 MB, so this is far beyond any real
// maildrop while still bounding memory on a wrong --state.
inline constexpr uint64_t kMaxFetchStateBytes = 512ull << 20;

class FetchState {
 public:
  // Locks path + ".lock", loads path (a missing file is an empty state), then writes a fresh
  // compacted copy and keeps it open for record(). Missing parent directories are created
  // (mode 0700). `key` is the account's canonical URL (fetch/pop_url.h); it must have no
  // white space or control characters.
  // Errors: kInUse (another fetch of this account holds the lock; the message says so),
  // kInvalidInput (bad key, or the file belongs to another account), kCorrupt (a malformed
  // line; the message names the file and the line number), kLimit (file too large),
  // kNotFound, kPermission, kTemporary (I/O, ENOSPC).
  static Result<FetchState> open(store::fs::FileSystem& fs, std::string path, std::string key);

  FetchState(FetchState&&) noexcept;
  FetchState& operator=(FetchState&&) noexcept;
  FetchState(const FetchState&) = delete;
  FetchState& operator=(const FetchState&) = delete;
  ~FetchState();

  // When `uidl` was first recorded, or nullopt if never.
  std::optional<int64_t> first_seen(std::string_view uidl) const;
  size_t size() const { return seen_.size(); }

  // Records that `uidl` was fetched and its delivery is durable; returns OK only once the line
  // is synced. Recording a UIDL already known changes nothing (the earliest time stays).
  // REQUIRES: first_seen_unix_seconds >= 0.
  // Errors: kInvalidInput (not an RFC 1939 §7 UIDL: 1-70 octets 0x21-0x7E; nothing written),
  // kTemporary (the write or the fsync failed; this and every later record() fail, and the
  // caller must not delete the message from the server).
  Status record(std::string_view uidl, int64_t first_seen_unix_seconds);
  // record() in two halves, for group commit: append() writes the line without syncing (the
  // UIDL counts as known at once; a crash may lose the line, which costs a duplicate, never a
  // loss, as long as the delivery was durable before the append); sync() makes every line
  // appended so far durable with one fsync. close() syncs what is left. Errors: as record().
  Status append(std::string_view uidl, int64_t first_seen_unix_seconds);
  Status sync();

  // Forgets every UIDL for which `on_server` returns false (they have disappeared from the
  // server, PR-C-2), in memory at once and in the file at the next compact() or close().
  // Returns how many were forgotten.
  size_t forget_all_except(const std::function<bool(const std::string& uidl)>& on_server);

  // Rewrites the file with exactly the UIDLs in memory (temp file, fsync, rename, fsync of the
  // directory) and appends to the new file from then on. On an error before the rename the old
  // file stays in use; after it, every later call fails.
  // Errors: kTemporary, kPermission, kNotFound; kTemporary after an earlier failure.
  Status compact();

  // Compacts if UIDLs were forgotten, then closes the file. Safe to call twice. The lock is
  // released when the object is destroyed.
  Status close();

  // Every (uidl, first seen) held in memory, for tests.
  const std::unordered_map<std::string, int64_t>& entries_for_test() const { return seen_; }

  // Parses the bytes of a state file into `out`. Tolerates a torn last line (no final "\n")
  // and duplicate UIDLs (the earliest time wins). `name` names the file in messages.
  // Errors: kCorrupt (with the line number), kInvalidInput (key mismatch).
  static Status parse(std::string_view text, std::string_view key, std::string_view name,
                      std::unordered_map<std::string, int64_t>& out);

 private:
  FetchState(store::fs::FileSystem& fs, std::string path, std::string key,
             store::fs::FileLockPtr lock);
  std::string directory() const;
  std::string header() const;

  store::fs::FileSystem* fs_;
  std::string path_;
  std::string key_;
  store::fs::FileLockPtr lock_;
  store::fs::WritableFilePtr file_;  // the current file, at path_, open for appending
  std::unordered_map<std::string, int64_t> seen_;
  bool failed_ = false;     // a write failed: the file may end in a torn line
  bool forgotten_ = false;  // forget_all_except() removed UIDLs not yet compacted away
  bool unsynced_ = false;   // append() wrote lines that are not synced yet
};

}  // namespace poplar::fetch
