// What a `poplar bench` run counted, and the one machine-readable line it prints:
//   bench scenario=login label=X connections=16 threads=1 tls=none sessions=12345 errors=0
//   verify_failures=0 elapsed_s=10.001 sessions_per_s=1234.4 messages=0 octets=0 mb_per_s=0.0
//   latency_p50_ms=1.234 latency_p90_ms=... latency_p99_ms=... latency_max_ms=...
// (one line). The keys and their order are a contract (docs/bench.md; scripts/bench parses
// them); values never contain spaces.
//
// No I/O. Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "bench/bench_options.h"
#include "bench/latency_histogram.h"

namespace poplar::bench {

// Counted per connection, added up per thread and then for the run.
struct Counters {
  uint64_t sessions = 0;         // sessions that ended with QUIT's +OK (idle: held and quit)
  uint64_t errors = 0;           // -ERR, I/O errors, protocol errors, failed connects
  uint64_t verify_failures = 0;  // replies that parsed but did not check out
  uint64_t messages = 0;         // RETR bodies received
  uint64_t octets = 0;           // their octets after un-stuffing

  void add(const Counters& other) {
    sessions += other.sessions;
    errors += other.errors;
    verify_failures += other.verify_failures;
    messages += other.messages;
    octets += other.octets;
  }
};

struct RunReport {
  Scenario scenario = Scenario::kLogin;
  std::string label = "-";
  uint32_t connections = 0;
  uint32_t threads = 0;
  TlsMode tls = TlsMode::kNone;
  Counters counters;
  double elapsed_s = 0;
  LatencyHistogram latency;
};

// The final line, without its newline.
std::string format_result_line(const RunReport& report);

}  // namespace poplar::bench
