// Option checks and the users-file parser. See bench_options.h.
//
// Thread-safety: see bench_options.h.
#include "bench/bench_options.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <memory>
#include <unordered_set>

namespace poplar::bench {
namespace {

// Limits that keep a typo from asking for the impossible; each is far above what one client
// machine can use (an idle run of 10,000 connections is the largest planned).
constexpr int64_t kMaxConnections = 1000000;
constexpr int64_t kMaxThreads = 1024;
constexpr double kMaxDurationS = 365.0 * 24 * 3600;
constexpr int64_t kMaxPasses = 1000000;
constexpr int64_t kMaxPipelineDepth = 1000000;
// A users file is read whole; a million users is about 50 MB.
constexpr size_t kMaxUsersFileOctets = 256u * 1024 * 1024;

Status usage(std::string message) { return Status::invalid_input(std::move(message)); }

bool has_control(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return true;
    }
  }
  return false;
}

std::string one_token(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      c = '_';
    }
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string_view scenario_name(Scenario scenario) {
  switch (scenario) {
    case Scenario::kLogin:
      return "login";
    case Scenario::kRetr:
      return "retr";
    case Scenario::kRetrPipelined:
      return "retr-pipelined";
    case Scenario::kUidl:
      return "uidl";
    case Scenario::kList:
      return "list";
    case Scenario::kIdle:
      return "idle";
  }
  return "?";
}

std::optional<Scenario> parse_scenario(std::string_view name) {
  for (Scenario s : {Scenario::kLogin, Scenario::kRetr, Scenario::kRetrPipelined, Scenario::kUidl,
                     Scenario::kList, Scenario::kIdle}) {
    if (name == scenario_name(s)) {
      return s;
    }
  }
  return std::nullopt;
}

std::string_view tls_mode_name(TlsMode mode) {
  switch (mode) {
    case TlsMode::kNone:
      return "none";
    case TlsMode::kStartTls:
      return "starttls";
    case TlsMode::kImplicit:
      return "implicit";
  }
  return "?";
}

std::optional<TlsMode> parse_tls_mode(std::string_view name) {
  for (TlsMode m : {TlsMode::kNone, TlsMode::kStartTls, TlsMode::kImplicit}) {
    if (name == tls_mode_name(m)) {
      return m;
    }
  }
  return std::nullopt;
}

bool is_timed(Scenario scenario) {
  return scenario == Scenario::kLogin || scenario == Scenario::kUidl || scenario == Scenario::kList;
}

bool is_retr(Scenario scenario) {
  return scenario == Scenario::kRetr || scenario == Scenario::kRetrPipelined;
}

Result<BenchPlan> make_plan(const BenchOptions& options) {
  BenchPlan plan;
  if (options.host.empty()) {
    return usage("--host is required");
  }
  plan.host = options.host;
  if (options.port < 1 || options.port > 65535) {
    return usage(options.port == 0 ? "--port is required" : "--port must be 1..65535");
  }
  plan.port = static_cast<uint16_t>(options.port);
  if (options.scenario.empty()) {
    return usage("--scenario is required (login, retr, retr-pipelined, uidl, list, idle)");
  }
  auto scenario = parse_scenario(options.scenario);
  if (!scenario) {
    return usage("unknown --scenario \"" + one_token(options.scenario) +
                 "\" (login, retr, retr-pipelined, uidl, list, idle)");
  }
  plan.scenario = *scenario;
  if (options.users_file.empty()) {
    return usage("--users-file is required");
  }
  plan.users_file = options.users_file;
  if (options.connections < 1 || options.connections > kMaxConnections) {
    return usage("--connections must be 1.." + std::to_string(kMaxConnections));
  }
  plan.connections = static_cast<uint32_t>(options.connections);
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return usage("--threads must be 1.." + std::to_string(kMaxThreads));
  }
  plan.threads = static_cast<uint32_t>(options.threads);
  if (!std::isfinite(options.duration_s) || options.duration_s <= 0 ||
      options.duration_s > kMaxDurationS) {
    return usage("--duration must be a number of seconds above 0");
  }
  plan.duration_s = options.duration_s;
  if (options.sessions < 0) {
    return usage("--sessions must be at least 1");
  }
  plan.sessions = static_cast<uint64_t>(options.sessions);
  if (options.passes < 1 || options.passes > kMaxPasses) {
    return usage("--passes must be 1.." + std::to_string(kMaxPasses));
  }
  plan.passes = static_cast<uint32_t>(options.passes);
  if (options.pipeline_depth < 0 || options.pipeline_depth > kMaxPipelineDepth) {
    return usage("--pipeline-depth must be 0 (all at once) .. " +
                 std::to_string(kMaxPipelineDepth));
  }
  plan.pipeline_depth = static_cast<uint32_t>(options.pipeline_depth);
  auto tls = parse_tls_mode(options.tls);
  if (!tls) {
    return usage("--tls must be none, starttls or implicit");
  }
  plan.tls = *tls;
  if (options.insecure_tls && !options.ca_file.empty()) {
    return usage("--ca-file and --insecure-tls exclude each other");
  }
  plan.ca_file = options.ca_file;
  plan.insecure_tls = options.insecure_tls;
  plan.label = one_token(options.label);

  // Options that do not apply are noted, not refused, so that one script can pass the same
  // options to every scenario.
  const std::string name(scenario_name(plan.scenario));
  if (is_timed(plan.scenario)) {
    // --sessions alone runs until that many sessions are done; with --duration, whichever
    // comes first.
    plan.has_deadline = plan.sessions == 0 || options.duration_given;
  } else {
    plan.has_deadline = plan.scenario == Scenario::kIdle;
    if (options.sessions != 0) {
      plan.notes.push_back("--sessions does not apply to " + name + "; ignored");
      plan.sessions = 0;
    }
  }
  if (is_retr(plan.scenario)) {
    if (options.duration_given) {
      plan.notes.push_back("--duration does not apply to " + name +
                           " (it ends when every pass is done); ignored");
    }
  } else if (options.passes != 1) {
    plan.notes.push_back("--passes applies to retr and retr-pipelined only; ignored");
  }
  if (plan.scenario != Scenario::kRetrPipelined && options.pipeline_depth != 0) {
    plan.notes.push_back("--pipeline-depth applies to retr-pipelined only; ignored");
  }
  if (plan.tls == TlsMode::kNone && (options.insecure_tls || !options.ca_file.empty())) {
    plan.notes.push_back("--ca-file and --insecure-tls need --tls starttls or implicit; ignored");
  }
  return plan;
}

Result<std::vector<Credential>> parse_users(std::string_view text) {
  std::vector<Credential> users;
  std::unordered_set<std::string_view> seen;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const std::string where = "users file line " + std::to_string(line_number);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Status::invalid_input(where + ": expected user:password");
    }
    std::string_view user = line.substr(0, colon);
    std::string_view password = line.substr(colon + 1);
    if (user.empty()) {
      return Status::invalid_input(where + ": empty user name");
    }
    if (has_control(user) || user.find(' ') != std::string_view::npos) {
      return Status::invalid_input(where + ": a space or control character in the user name");
    }
    if (has_control(password)) {
      return Status::invalid_input(where + ": a control character in the password");
    }
    if (!seen.insert(user).second) {
      return Status::invalid_input(where + ": user " + std::string(user) + " is listed twice");
    }
    Credential credential;
    credential.user = std::string(user);
    credential.user_command = "USER " + credential.user + "\r\n";
    std::string pass = "PASS ";
    pass.append(password);
    pass.append("\r\n");
    credential.pass_command = Secret(pass);
    secure_wipe(pass.data(), pass.size());
    users.push_back(std::move(credential));
  }
  if (users.empty()) {
    return Status::invalid_input("the users file lists no user:password line");
  }
  return users;
}

Result<std::vector<Credential>> load_users_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    return Status::from_errno(errno, "open " + path);
  }
  std::string text;
  char chunk[65536];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) {
    text.append(chunk, n);
    if (text.size() > kMaxUsersFileOctets) {
      secure_wipe(text.data(), text.size());
      return Status::invalid_input(path + " is too large for a users file");
    }
  }
  if (std::ferror(file.get())) {
    int err = errno;
    secure_wipe(text.data(), text.size());
    return Status::from_errno(err, "read " + path);
  }
  auto users = parse_users(text);
  secure_wipe(text.data(), text.size());
  secure_wipe(chunk, sizeof chunk);
  return users;
}

}  // namespace poplar::bench
