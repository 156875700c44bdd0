#include "auth/failure_throttle.h"

#include <algorithm>

namespace poplar::auth {
namespace {

// 2^20 × any sensible base delay is far above any cap; stops the shift from overflowing.
constexpr uint32_t kMaxDoublings = 20;

}  // namespace

FailureThrottle::FailureThrottle(const Clock& clock, FailureThrottleOptions options)
    : clock_(clock), options_(options) {}

std::chrono::milliseconds FailureThrottle::delay_after_failure(std::string_view ip,
                                                               std::string_view user) {
  std::lock_guard lock(mutex_);
  auto now = clock_.now();
  uint32_t failures = 0;
  if (!ip.empty()) {
    failures = std::max(failures, record(ips_, ip, now));
  }
  if (!user.empty()) {
    failures = std::max(failures, record(users_, user, now));
  }
  return delay_for(std::max<uint32_t>(failures, 1));
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

uint32_t FailureThrottle::record(Table& table, std::string_view key,
                                 std::chrono::steady_clock::time_point now) {
  auto it = table.entries.find(std::string(key));
  if (it == table.entries.end()) {
    if (options_.max_entries == 0) {
      return 1;
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
  return entry.failures;
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
  if (options_.base_delay.count() <= 0) {
    return std::chrono::milliseconds(0);
  }
  uint32_t doublings = std::min(failures - 1, kMaxDoublings);
  auto delay = options_.base_delay * (int64_t{1} << doublings);
  return std::min<std::chrono::milliseconds>(delay, options_.max_delay);
}

}  // namespace poplar::auth
