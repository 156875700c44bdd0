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

#include "base/sysexits.h"
#include "bench/bench_options.h"

namespace poplar::bench {

inline constexpr int kExitOk = sysexits::kOk;
inline constexpr int kExitFailures = 1;  // replies that failed verification
inline constexpr int kExitUsage = sysexits::kUsage;
inline constexpr int kExitDataErr = sysexits::kDataErr;
inline constexpr int kExitNoInput = sysexits::kNoInput;
inline constexpr int kExitUnavailable = sysexits::kUnavailable;
inline constexpr int kExitTempFail = sysexits::kTempFail;

// Runs a whole benchmark; returns the exit code.
int run_bench_command(const BenchOptions& options);

// Registers `bench` on app.
void add_bench_command(CLI::App& app);

}  // namespace poplar::bench
