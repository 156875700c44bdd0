// FailureThrottle: how long to wait before answering a failed login, so that password guessing
// gets slower the more it fails (DESIGN §3: "auth failures per IP with growing delay").
//
// Failures are counted per remote IP and per user name. The delay after a failure is
// base_delay × 2^(n−1), where n is the larger of the two counts, capped at max_delay. A count
// is forgotten after `decay` without a failure for it; a successful login clears the user's
// count (not the IP's: one success from a shared address says nothing about the other guesses
// coming from it). Pure logic over an injected Clock: the caller does the waiting.
//
// Memory is bounded: each table (IPs, users) holds at most max_entries; beyond that the entry
// that failed least recently is dropped. An attacker cycling through made-up user names thus
// evicts old user counters, but the per-IP counter still grows.
//
// Thread-safety: all methods may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"

namespace poplar::auth {

struct FailureThrottleOptions {
  // The delay after a first failure: [auth] failure_delay_s (default 2 s, Dovecot's
  // auth_failure_delay). Zero disables the delay (counters are still kept).
  std::chrono::milliseconds base_delay{2000};
  // Upper bound on any delay: long enough to make guessing slow, short enough that a user who
  // mistyped a few times is not locked out, and below clients' usual 30-60 s reply timeouts.
  std::chrono::milliseconds max_delay{15000};
  // A counter with no failure for this long starts again from zero.
  std::chrono::seconds decay{600};
  // Entries per table (IPs, users); a few MB at most.
  size_t max_entries = 65536;
};

class FailureThrottle {
 public:
  // `clock` must outlive this object.
  explicit FailureThrottle(const Clock& clock, FailureThrottleOptions options = {});

  // Records a failed login from `ip` for `user` (either may be empty, and is then not counted)
  // and returns how long to wait before sending the -ERR.
  std::chrono::milliseconds delay_after_failure(std::string_view ip, std::string_view user);

  // A successful login: forgets the user's failures.
  void record_success(std::string_view ip, std::string_view user);

  // Current failure counts (0 when unknown or decayed), for tests and diagnostics.
  uint32_t ip_failures(std::string_view ip) const;
  uint32_t user_failures(std::string_view user) const;
  size_t tracked_entries_for_test() const;

 private:
  // One table of counters with least-recently-failed eviction: `order` lists keys from the most
  // recent failure to the oldest; each entry points at its place in the list.
  struct Table {
    struct Entry {
      uint32_t failures = 0;
      std::chrono::steady_clock::time_point last_failure;
      std::list<std::string>::iterator position;
    };
    std::list<std::string> order;
    std::unordered_map<std::string, Entry> entries;
  };

  uint32_t record(Table& table, std::string_view key, std::chrono::steady_clock::time_point now);
  uint32_t count(const Table& table, std::string_view key,
                 std::chrono::steady_clock::time_point now) const;
  std::chrono::milliseconds delay_for(uint32_t failures) const;

  const Clock& clock_;
  const FailureThrottleOptions options_;
  mutable std::mutex mutex_;
  Table ips_;
  Table users_;
};

}  // namespace poplar::auth
