// ProgressLine: `poplar fetch`'s one status line on a terminal while accounts run in parallel,
// e.g. "work 12/40 3.1 MB | home 2/2 0.1 MB", redrawn in place (at most ten times a second, so
// a fast transfer does not spend its time on the terminal), with finished accounts' summary
// lines printed above it. Disabled (not a terminal, or -q), it prints the summaries only.
//
// Thread-safety: every member may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace poplar::fetch {

class ProgressLine {
 public:
  // One slot per account, named; `live` draws the line (stderr is a terminal and not -q).
  ProgressLine(std::vector<std::string> names, bool live);

  void update(size_t slot, uint32_t done, uint32_t total, uint64_t octets);
  void finish(size_t slot);
  // Prints a whole line to `stream` above the progress line (which is then redrawn).
  void print(std::FILE* stream, const std::string& line);
  // Clears the line for good.
  void close();

 private:
  struct Slot {
    std::string name;
    uint32_t done = 0;
    uint32_t total = 0;
    uint64_t octets = 0;
    bool running = true;
  };
  void clear_locked();
  void draw_locked();

  std::mutex mutex_;
  std::vector<Slot> slots_;
  bool live_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace poplar::fetch
