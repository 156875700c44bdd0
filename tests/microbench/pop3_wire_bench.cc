// Micro-benchmarks of the POP3 hot paths on the server side (issue 4): RETR's DotStuffer over
// LF-stored and CRLF-stored mail with short lines, and command-line parsing.
//
// Must never: run in `make test` (tests/microbench is built only with POPLAR_BUILD_MICROBENCH).
// Single-threaded.
#include <benchmark/benchmark.h>

#include <string>

#include "pop3/command.h"
#include "pop3/dot_stuffer.h"

namespace poplar::microbench {
namespace {

// ~32 KB of mail text with 72-character lines, one line in 64 starting with ".".
std::string mail_text(bool crlf) {
  std::string text = "From: a@example.org\nSubject: benchmark\n\n";
  for (int i = 0; text.size() < 32 * 1024; ++i) {
    text += (i % 64 == 0) ? "." : "x";
    text.append(70, 'a' + static_cast<char>(i % 26));
    text += '\n';
  }
  if (crlf) {
    std::string out;
    for (char c : text) {
      if (c == '\n') {
        out += '\r';
      }
      out += c;
    }
    return out;
  }
  return text;
}

void stuff(benchmark::State& state, bool crlf) {
  const std::string stored = mail_text(crlf);
  std::string out;
  out.reserve(3 * stored.size());
  for (auto _ : state) {
    out.clear();
    pop3::DotStuffer stuffer;
    stuffer.feed(stored, out);
    stuffer.finish(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stored.size()));
}

void BM_DotStuffLfMail(benchmark::State& state) { stuff(state, false); }
void BM_DotStuffCrlfMail(benchmark::State& state) { stuff(state, true); }
BENCHMARK(BM_DotStuffLfMail);
BENCHMARK(BM_DotStuffCrlfMail);

void BM_ParseCommandLine(benchmark::State& state) {
  const char* lines[] = {"USER alice", "PASS secret", "STAT", "RETR 12",
                         "TOP 3 10",   "UIDL",        "QUIT"};
  size_t i = 0;
  for (auto _ : state) {
    pop3::ParsedCommand parsed = pop3::parse_command_line(lines[i++ % 7]);
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_ParseCommandLine);

}  // namespace
}  // namespace poplar::microbench
