// Unit tests for bench_report.h: the result line's keys, order and number formats (a contract
// for scripts/bench). Tests only; no I/O.
#include "bench/bench_report.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

namespace poplar::bench {
namespace {

TEST(BenchReportTest, LineHasEveryKeyInOrder) {
  RunReport report;
  report.scenario = Scenario::kRetrPipelined;
  report.label = "poplar-rel";
  report.connections = 16;
  report.threads = 2;
  report.tls = TlsMode::kStartTls;
  report.counters.sessions = 32;
  report.counters.errors = 1;
  report.counters.verify_failures = 2;
  report.counters.messages = 6400;
  report.counters.octets = 2000000000;
  report.elapsed_s = 2.0;
  report.latency.record(1'000'000);   // 1 ms
  report.latency.record(3'000'000);   // 3 ms
  report.latency.record(20'000'000);  // 20 ms
  EXPECT_EQ(format_result_line(report),
            "bench scenario=retr-pipelined label=poplar-rel connections=16 threads=2 "
            "tls=starttls sessions=32 errors=1 verify_failures=2 elapsed_s=2.000 "
            "sessions_per_s=16.0 messages=6400 octets=2000000000 mb_per_s=1000.0 "
            "latency_p50_ms=3.015 latency_p90_ms=20.000 latency_p99_ms=20.000 "
            "latency_max_ms=20.000");
}

TEST(BenchReportTest, EmptyRunPrintsZerosNotNan) {
  RunReport report;
  std::string line = format_result_line(report);
  EXPECT_EQ(line.find("nan"), std::string::npos) << line;
  EXPECT_EQ(line.find("inf"), std::string::npos) << line;
  std::istringstream words(line);
  std::string word;
  words >> word;
  EXPECT_EQ(word, "bench");
  std::map<std::string, std::string> kv;
  while (words >> word) {
    auto eq = word.find('=');
    ASSERT_NE(eq, std::string::npos) << word;
    kv[word.substr(0, eq)] = word.substr(eq + 1);
  }
  EXPECT_EQ(kv.size(), 17u);
  EXPECT_EQ(kv["sessions_per_s"], "0.0");
  EXPECT_EQ(kv["latency_max_ms"], "0.000");
}

}  // namespace
}  // namespace poplar::bench
