// QuietLog: while it lives, log lines go nowhere (fault sweeps provoke thousands of expected
// error lines that would drown a failure's output). Restores the normal sink when it dies.
// Thread-safety: as base/log.h's set_sink_for_test; one at a time per process.
#pragma once

#include <string_view>

#include "base/log.h"

namespace poplar::testing {

class QuietLog {
 public:
  QuietLog() {
    log::set_sink_for_test([](log::Level, std::string_view) {});
  }
  QuietLog(const QuietLog&) = delete;
  QuietLog& operator=(const QuietLog&) = delete;
  ~QuietLog() { log::reset_sink(); }
};

}  // namespace poplar::testing
