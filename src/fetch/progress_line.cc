// The terminal progress line; see progress_line.h.
#include "fetch/progress_line.h"

namespace poplar::fetch {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

}  // namespace

ProgressLine::ProgressLine(std::vector<std::string> names, bool live) : live_(live) {
  for (std::string& name : names) {
    slots_.push_back(Slot{std::move(name)});
  }
}

void ProgressLine::clear_locked() {
  if (drawn_) {
    // Carriage return, erase to the end of the line (ECMA-48 EL).
    std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }
}

void ProgressLine::draw_locked() {
  std::string line;
  for (const Slot& s : slots_) {
    if (!s.running) {
      continue;
    }
    if (!line.empty()) {
      line += " | ";
    }
    char figures[96];
    std::snprintf(figures, sizeof figures, " %u/%u %.1f MB", s.done, s.total,
                  static_cast<double>(s.octets) / 1e6);
    line += s.name;
    line += figures;
  }
  clear_locked();
  if (!line.empty()) {
    std::fputs(line.c_str(), stderr);
    drawn_ = true;
  }
  std::fflush(stderr);
  last_draw_ = std::chrono::steady_clock::now();
}

void ProgressLine::update(size_t slot, uint32_t done, uint32_t total, uint64_t octets) {
  std::lock_guard lock(mutex_);
  if (slot >= slots_.size()) {
    return;
  }
  slots_[slot].done = done;
  slots_[slot].total = total;
  slots_[slot].octets = octets;
  const bool last = done == total;
  if (live_ && (last || std::chrono::steady_clock::now() - last_draw_ >= kRedrawInterval)) {
    draw_locked();
  }
}

void ProgressLine::finish(size_t slot) {
  std::lock_guard lock(mutex_);
  if (slot < slots_.size()) {
    slots_[slot].running = false;
  }
  if (live_) {
    draw_locked();
  }
}

void ProgressLine::print(std::FILE* stream, const std::string& line) {
  std::lock_guard lock(mutex_);
  if (live_) {
    clear_locked();
    std::fflush(stderr);
  }
  std::fputs(line.c_str(), stream);
  std::fputc('\n', stream);
  std::fflush(stream);
  if (live_) {
    draw_locked();
  }
}

void ProgressLine::close() {
  std::lock_guard lock(mutex_);
  if (live_) {
    clear_locked();
    std::fflush(stderr);
  }
  live_ = false;
}

}  // namespace poplar::fetch
