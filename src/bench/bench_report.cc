// The result line. See bench_report.h.
//
// Thread-safety: see bench_report.h.
#include "bench/bench_report.h"

#include <cinttypes>
#include <cstdio>

namespace poplar::bench {
namespace {

void append_format(std::string& out, const char* format, auto... args) {
  char buffer[128];
  int n = std::snprintf(buffer, sizeof buffer, format, args...);
  if (n > 0) {
    out.append(buffer,
               static_cast<size_t>(n) < sizeof buffer ? static_cast<size_t>(n) : sizeof buffer - 1);
  }
}

double ms(uint64_t nanoseconds) { return static_cast<double>(nanoseconds) / 1e6; }

}  // namespace

std::string format_result_line(const RunReport& report) {
  const Counters& c = report.counters;
  const double elapsed = report.elapsed_s > 0 ? report.elapsed_s : 0;
  const double per_s = elapsed > 0 ? static_cast<double>(c.sessions) / elapsed : 0;
  // MB = 10^6 octets of message content after un-stuffing.
  const double mb_per_s = elapsed > 0 ? static_cast<double>(c.octets) / 1e6 / elapsed : 0;
  std::string out = "bench";
  out += " scenario=";
  out += scenario_name(report.scenario);
  out += " label=";
  out += report.label;
  append_format(out, " connections=%" PRIu32 " threads=%" PRIu32, report.connections,
                report.threads);
  out += " tls=";
  out += tls_mode_name(report.tls);
  append_format(out, " sessions=%" PRIu64 " errors=%" PRIu64 " verify_failures=%" PRIu64,
                c.sessions, c.errors, c.verify_failures);
  append_format(out, " elapsed_s=%.3f sessions_per_s=%.1f", elapsed, per_s);
  append_format(out, " messages=%" PRIu64 " octets=%" PRIu64 " mb_per_s=%.1f", c.messages, c.octets,
                mb_per_s);
  append_format(out, " latency_p50_ms=%.3f latency_p90_ms=%.3f latency_p99_ms=%.3f",
                ms(report.latency.percentile(0.50)), ms(report.latency.percentile(0.90)),
                ms(report.latency.percentile(0.99)));
  append_format(out, " latency_max_ms=%.3f", ms(report.latency.max()));
  return out;
}

}  // namespace poplar::bench
