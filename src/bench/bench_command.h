// `poplar bench`: the load generator's command (docs/bench.md). It checks the options, reads
// the users file, raises the open-file limit, runs bench_runner and prints one result line on
// stdout (bench_report.h); diagnostics go to stderr.
//
// Exit codes (sysexits(3)): 0 no errors and no verify failures; 1 the run completed with
// errors or verify failures; 64 bad arguments; 65 a malformed users file; 66 the users file
// or CA file cannot be read; 69 nothing could connect (refused, unreachable, unknown host);
// 75 nothing could connect in time.
//
// Thread-safety: meant for the CLI's main thread.
#pragma once

#include <CLI/CLI.hpp>

#include "bench/bench_options.h"

namespace poplar::bench {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailures = 1;
inline constexpr int kExitUsage = 64;        // EX_USAGE
inline constexpr int kExitDataErr = 65;      // EX_DATAERR
inline constexpr int kExitNoInput = 66;      // EX_NOINPUT
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE
inline constexpr int kExitTempFail = 75;     // EX_TEMPFAIL

// Runs a whole benchmark; returns the exit code.
int run_bench_command(const BenchOptions& options);

// Registers `bench` on app.
void add_bench_command(CLI::App& app);

}  // namespace poplar::bench
