#include "auth/failure_throttle.h"

#include <algorithm>

namespace poplar::auth {
namespace {

// 2^20 × any sensible base delay is far above any cap; stops the shift from overflowing.
constexpr uint32_t kMaxDoublings = 20;

}  // namespace

FailureThrottle::FailureThrottle(const Clock& clock, FailureThrottleOptions options)
    : clock_(clock), options_(options) {}

Admission FailureThrottle::admit(std::string_view ip) {
  if (ip.empty()) {
    return {};
  }
  std::lock_guard lock(mutex_);
  auto it = ips_.entries.find(std::string(ip));
  if (it == ips_.entries.end()) {
    return {};  // no failures known: nothing to wait for, and no entry to hold
  }
  const auto now = clock_.now();
  Table::Entry& entry = it->second;
  const auto turn = std::max(now, entry.next_turn);
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(turn - now);
  if (wait > options_.max_wait) {
    return {Admission::Kind::kRefused, wait};
  }
  const uint32_t failures = now - entry.last_failure >= options_.decay ? 0 : entry.failures;
  if (failures == 0) {
    entry.next_turn = turn;  // decayed: nothing is owed any more
  } else {
    // The next turn is where it would be if this attempt and every one queued before it
    // failed (each failure pushes the next check its delay away, below). Counting only the
    // failures known now would space a queue filled after one failure a first delay apart,
    // and that queue would be checked at that pace long after the delay had grown.
    if (entry.next_turn <= now) {
      entry.projected_failures = failures;  // nothing queued
    }
    entry.projected_failures = std::max(entry.projected_failures, failures);
    if (entry.projected_failures < UINT32_MAX) {
      ++entry.projected_failures;
    }
    entry.next_turn = turn + delay_for(entry.projected_failures);
  }
  return {wait.count() > 0 ? Admission::Kind::kWait : Admission::Kind::kNow, wait};
}

std::chrono::milliseconds FailureThrottle::delay_after_failure(std::string_view ip,
                                                               std::string_view user) {
  std::lock_guard lock(mutex_);
  auto now = clock_.now();
  uint32_t failures = 1;
  if (!ip.empty()) {
    if (Table::Entry* entry = record(ips_, ip, now)) {
      failures = std::max(failures, entry->failures);
      // Whichever connection the address tries next, its check waits out this failure's delay
      // too (not only this connection's reply).
      entry->next_turn = std::max(entry->next_turn, now + delay_for(entry->failures));
    }
  }
  if (!user.empty()) {
    if (Table::Entry* entry = record(users_, user, now)) {
      failures = std::max(failures, entry->failures);
    }
  }
  return delay_for(failures);
}

void FailureThrottle::record_success(std::string_view /*ip*/, std::string_view user) {
  std::lock_guard lock(mutex_);
  auto it = users_.entries.find(std::string(user));
  if (it != users_.entries.end()) {
    users_.order.erase(it->second.position);
    users_.entries.erase(it);
  }
}

uint32_t FailureThrottle::ip_failures(std::string_view ip) const {
  std::lock_guard lock(mutex_);
  return count(ips_, ip, clock_.now());
}

uint32_t FailureThrottle::user_failures(std::string_view user) const {
  std::lock_guard lock(mutex_);
  return count(users_, user, clock_.now());
}

size_t FailureThrottle::tracked_entries_for_test() const {
  std::lock_guard lock(mutex_);
  return ips_.entries.size() + users_.entries.size();
}

FailureThrottle::Table::Entry* FailureThrottle::record(Table& table, std::string_view key,
                                                       std::chrono::steady_clock::time_point now) {
  auto it = table.entries.find(std::string(key));
  if (it == table.entries.end()) {
    if (options_.max_entries == 0) {
      return nullptr;
    }
    while (table.entries.size() >= options_.max_entries) {
      table.entries.erase(table.order.back());
      table.order.pop_back();
    }
    table.order.emplace_front(key);
    it = table.entries.emplace(std::string(key), Table::Entry{}).first;
    it->second.position = table.order.begin();
  } else {
    table.order.splice(table.order.begin(), table.order, it->second.position);
  }
  Table::Entry& entry = it->second;
  if (entry.failures > 0 && now - entry.last_failure >= options_.decay) {
    entry.failures = 0;
  }
  if (entry.failures < UINT32_MAX) {
    ++entry.failures;
  }
  entry.last_failure = now;
  return &entry;
}

uint32_t FailureThrottle::count(const Table& table, std::string_view key,
                                std::chrono::steady_clock::time_point now) const {
  auto it = table.entries.find(std::string(key));
  if (it == table.entries.end() || now - it->second.last_failure >= options_.decay) {
    return 0;
  }
  return it->second.failures;
}

std::chrono::milliseconds FailureThrottle::delay_for(uint32_t failures) const {
  if (failures == 0 || options_.base_delay.count() <= 0) {
    return std::chrono::milliseconds(0);
  }
  uint32_t doublings = std::min(failures - 1, kMaxDoublings);
  auto delay = options_.base_delay * (int64_t{1} << doublings);
  return std::min<std::chrono::milliseconds>(delay, options_.max_delay);
}

}  // namespace poplar::auth
