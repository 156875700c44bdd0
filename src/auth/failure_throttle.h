// FailureThrottle: how long to wait before answering a failed login, so that password guessing
// gets slower the more it fails (DESIGN §3: "auth failures per IP with growing delay").
//
// Failures are counted per remote IP and per user name. The delay after a failure is
// base_delay × 2^(n−1), where n is the larger of the two counts, capped at max_delay. A count
// is forgotten after `decay` without a failure for it; a successful login clears the user's
// count (not the IP's: one success from a shared address says nothing about the other guesses
// coming from it). Pure logic over an injected Clock: the caller does the waiting.
//
// Turns (admit()): the delay alone slows only the connection that failed, so an address
// holding 50 connections could still try about 3 passwords a second. So an address that owes a
// delay (has failures) also gets its password checks one at a time, like Dovecot's auth_penalty
// but serialized: each attempt from it, on any connection and by any mechanism, takes the next
// turn (turn = max(now, next); next = turn + the delay the address would have if this attempt
// and those queued before it failed) and its password is not checked before its turn. After
// each failure the next turn is at least the failure's delay away. So N connections guessing at
// once get the pace of one connection guessing alone. An attempt whose turn is more than
// max_wait away is refused without a check. Addresses without failures pass at once and hold no
// entry, so attempts from one that arrive at the same moment are not serialized (nothing is
// known against it yet): with a cheap scheme checked on the I/O thread, at most one per thread;
// with a slow hash checked on the pool, all that arrive within one hash time.
//
// Memory is bounded: each table (IPs, users) holds at most max_entries; beyond that the entry
// that failed least recently is dropped. An attacker cycling through made-up user names thus
// evicts old user counters, but the per-IP counter still grows.
//
// Thread-safety: all methods may be called from any thread (one mutex). Must never: block or
// sleep (the caller waits, on a timer), or see anything of a password.
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
  // An attempt whose turn is further away than this is refused at once: waiting longer holds
  // a connection slot for nothing, and clients time out after 30-60 s anyway. Twice max_delay
  // lets an attempt queue behind one other at the capped delay.
  std::chrono::milliseconds max_wait{30000};
};

// What admit() decided for one password check.
struct Admission {
  enum class Kind {
    kNow,      // check the password now
    kWait,     // check it after `wait` (the address's turn)
    kRefused,  // do not check it; the turn was `wait` away, more than max_wait
  };
  Kind kind = Kind::kNow;
  std::chrono::milliseconds wait{0};

  bool operator==(const Admission&) const = default;
};

class FailureThrottle {
 public:
  // `clock` must outlive this object.
  explicit FailureThrottle(const Clock& clock, FailureThrottleOptions options = {});

  // Takes the next turn of `ip` for one password check (see "Turns" above). A refused attempt
  // takes no turn. Call once per check, before it; the empty address always passes.
  Admission admit(std::string_view ip);

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
      // IP table only: the earliest moment the address's next password check may run, and
      // the failures it would have by then if every attempt queued before it failed.
      std::chrono::steady_clock::time_point next_turn;
      uint32_t projected_failures = 0;
      std::list<std::string>::iterator position;
    };
    std::list<std::string> order;
    std::unordered_map<std::string, Entry> entries;
  };

  // Counts one failure for `key` and returns its entry (nullptr when max_entries is 0).
  Table::Entry* record(Table& table, std::string_view key,
                       std::chrono::steady_clock::time_point now);
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
