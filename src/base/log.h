// One line per event, key=value, fail2ban-friendly:
//   2026-11-27T03:44:01Z poplar[123]: auth-failed user=bob rip=203.0.113.9 reason=password
// Values from peers are untrusted: control characters, spaces and quotes are escaped so a
// client cannot forge a log line. Never add a secret: base::Secret has no conversion for it.
//
// Usage: log::info("login").kv("user", name).kv("rip", ip);  // written when the temporary dies
//
// Thread-safety: every line is written with one write(2); safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace poplar::log {

enum class Level { kDebug = 0, kInfo, kWarning, kError };

class Event {
 public:
  Event(Level level, std::string_view name);
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event();

  Event& kv(std::string_view key, std::string_view value);
  Event& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Event& kv(std::string_view key, const std::string& value) {
    return kv(key, std::string_view(value));
  }
  Event& kv(std::string_view key, int64_t value);
  Event& kv(std::string_view key, uint64_t value);
  Event& kv(std::string_view key, int value) { return kv(key, static_cast<int64_t>(value)); }
  Event& kv(std::string_view key, unsigned value) { return kv(key, static_cast<uint64_t>(value)); }
  Event& kv(std::string_view key, bool value) { return kv(key, value ? "yes" : "no"); }

 private:
  Level level_;
  std::string line_;
};

inline Event debug(std::string_view name) { return Event(Level::kDebug, name); }
inline Event info(std::string_view name) { return Event(Level::kInfo, name); }
inline Event warning(std::string_view name) { return Event(Level::kWarning, name); }
inline Event error(std::string_view name) { return Event(Level::kError, name); }

// Lines below this level are dropped. Default: kInfo.
void set_min_level(Level level);
// Replaces the sink (default: stderr with a timestamp). Tests capture lines with this.
// The sink receives the line without timestamp and without the trailing newline.
void set_sink_for_test(std::function<void(Level, std::string_view)> sink);
void reset_sink();

// Escapes a value for a log line: printable ASCII without spaces, quotes or backslashes passes
// through; anything else is quoted, with \" \\ and \xNN escapes.
std::string escape_value(std::string_view value);

}  // namespace poplar::log
