// `poplar bench` options and inputs: the scenarios, the checks on the command line (a usage
// error is exit 64 with a message naming the option), and the users file ("user:password" per
// line). Pure functions over values, no I/O except load_users_file(); tested in
// bench_options_test.cc.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "base/status.h"

namespace poplar::bench {

enum class Scenario {
  kLogin,          // USER, PASS, STAT, QUIT per session
  kRetr,           // USER, PASS, STAT, LIST, RETR each message one at a time, QUIT
  kRetrPipelined,  // the same with RETRs pipelined (--pipeline-depth)
  kUidl,           // USER, PASS, UIDL, QUIT
  kList,           // USER, PASS, LIST, QUIT
  kIdle,           // log in once per connection and hold the session
};

enum class TlsMode { kNone, kStartTls, kImplicit };

std::string_view scenario_name(Scenario scenario);
std::optional<Scenario> parse_scenario(std::string_view name);
std::string_view tls_mode_name(TlsMode mode);
std::optional<TlsMode> parse_tls_mode(std::string_view name);

// Does the scenario run for a time (--duration, --sessions) rather than a number of passes?
bool is_timed(Scenario scenario);
bool is_retr(Scenario scenario);

// The command line as given (CLI11 fills it). Defaults are the contract in docs/bench.md.
struct BenchOptions {
  std::string host;
  int64_t port = 0;
  std::string scenario;
  std::string users_file;
  int64_t connections = 16;
  double duration_s = 10;
  bool duration_given = false;
  int64_t sessions = 0;  // 0: not given
  int64_t passes = 1;
  int64_t pipeline_depth = 0;  // 0: every message at once
  std::string tls = "none";
  std::string ca_file;
  bool insecure_tls = false;
  int64_t threads = 1;
  std::string label = "-";
};

// The options checked and typed.
struct BenchPlan {
  std::string host;
  uint16_t port = 0;
  Scenario scenario = Scenario::kLogin;
  std::string users_file;
  uint32_t connections = 16;
  uint32_t threads = 1;
  double duration_s = 10;
  bool has_deadline = true;  // timed scenarios: stop starting sessions after duration_s
  uint64_t sessions = 0;     // 0: no limit
  uint32_t passes = 1;
  uint32_t pipeline_depth = 0;
  TlsMode tls = TlsMode::kNone;
  std::string ca_file;
  bool insecure_tls = false;
  std::string label;  // whitespace and control octets replaced by '_' (one token in the output)
  // Options given that the scenario ignores, for a note on stderr.
  std::vector<std::string> notes;
};

// Checks every option. Error: kInvalidInput with a message for the user ("--port must be
// 1..65535").
Result<BenchPlan> make_plan(const BenchOptions& options);

// One line of the users file. The commands are built once, so a session sends them as they
// are; the password is a Secret and never printed.
struct Credential {
  std::string user;
  std::string user_command;  // "USER alice\r\n"
  Secret pass_command;       // "PASS secret\r\n"
};

// Parses a users file: "user:password" per line, split at the first ':' (the password may hold
// more); empty lines and lines starting with '#' are skipped; CRLF is allowed. Errors
// (kInvalidInput, naming the line, never the password): no ':', an empty user, a space or a
// control octet in the user, a control octet in the password, a user listed twice, no users.
Result<std::vector<Credential>> parse_users(std::string_view text);

// Reads and parses the file. Errors: Status::from_errno for the file, then parse_users'.
Result<std::vector<Credential>> load_users_file(const std::string& path);

}  // namespace poplar::bench
