// Preparing and running one account; see account_setup.h.
#include "fetch/account_setup.h"

#include "tls/tls_context.h"

namespace poplar::fetch {
namespace {

FetchSummary failed_before_fetch(Status status, int exit_code) {
  FetchSummary summary;
  summary.status = std::move(status);
  summary.exit_code = exit_code;
  return summary;
}

}  // namespace

config::FetchAccountValidators account_validators() {
  config::FetchAccountValidators v;
  v.url = [](std::string_view url) { return parse_pop_url(url).status(); };
  v.target = [](std::string_view target) {
    Result<Target> parsed = parse_target(target);
    return parsed.status();
  };
  v.fingerprint = [](std::string_view pin) { return tls::parse_fingerprint(pin).status(); };
  v.folder = [](std::string_view name) { return pop3::check_folder_name(name); };
  return v;
}

Result<PreparedAccount> prepare_account(const config::FetchAccountConfig& c,
                                        const std::string& name, bool list_folders) {
  PreparedAccount p;
  p.name = name;
  FetchAccount& a = p.account;
  Result<PopUrl> url = parse_pop_url(c.url);
  if (!url.is_ok()) {
    return url.status();
  }
  a.url = *url;
  if (a.url.user.empty()) {
    // RFC 2384 §3: a URL without a user means "the configured user".
    if (c.user.empty()) {
      return Status::invalid_input("the URL names no user (pop://USER@HOST), and no user is set");
    }
    a.url.user = c.user;
  }
  a.list_folders = list_folders;
  if (!list_folders) {
    Result<Target> target = parse_target(c.target);
    if (!target.is_ok()) {
      return target.status();
    }
    a.target = *target;
  }
  if (!c.keep) {
    a.policy.keep = FetchPolicy::Keep::kDelete;
  } else if (c.keep_days) {
    a.policy.keep = FetchPolicy::Keep::kKeepDays;
    a.policy.keep_days = *c.keep_days;
  }
  a.policy.max_octets = c.max_size;
  a.policy.limit = c.limit;
  a.ca_file = c.ca_file;
  if (!c.fingerprint.empty()) {
    Result<std::string> pin = tls::parse_fingerprint(c.fingerprint);
    if (!pin.is_ok()) {
      return Status::invalid_input("fingerprint: " + pin.status().message());
    }
    a.fingerprint_sha256 = *pin;
  }
  a.insecure_plaintext = c.insecure_plaintext;
  a.state_path = c.state;
  a.timeouts.io = std::chrono::seconds(c.timeout_s);
  a.timeouts.connect = std::chrono::seconds(std::min<uint32_t>(c.timeout_s, 30));
  if (!c.password_file.empty()) {
    p.password = {PasswordSource::Kind::kFile, c.password_file};
  } else if (!c.password_command.empty()) {
    p.password = {PasswordSource::Kind::kCommand, c.password_command};
  }
  a.folder = c.folder;
  a.move_to = c.move_to;
  if (Status folders = check_folder_options(a); !folders.is_ok()) {
    return folders;
  }
  p.discover = c.discover;
  if (p.discover && a.url.host_is_ipv6) {
    return Status::invalid_input("discovery needs a domain name, not an address");
  }
  return p;
}

int discovery_exit_code(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kTemporary:
      return kExTempFail;
    case ErrorCode::kUnavailable:
      return kExUnavailable;
    default:
      return kExConfig;
  }
}

FetchSummary run_account(const PreparedAccount& prepared, int64_t now_unix, const DnsOptions& dns,
                         const ProgressFn& progress) {
  FetchAccount account = prepared.account;
  Result<Secret> password = read_password(prepared.password, account.timeouts.io);
  if (!password.is_ok()) {
    return failed_before_fetch(password.status(), password.status().code() == ErrorCode::kTemporary
                                                      ? kExTempFail
                                                      : kExConfig);
  }
  account.password = std::move(password).value();
  if (prepared.discover) {
    Result<std::vector<SrvEndpoint>> found = discover_pop_servers(account.url.host, dns);
    if (!found.is_ok()) {
      return failed_before_fetch(found.status(), discovery_exit_code(found.status()));
    }
    for (const SrvEndpoint& e : *found) {
      account.endpoints.push_back({e.host, e.port, e.tls});
    }
  }
  return run_fetch(account, now_unix, progress);
}

}  // namespace poplar::fetch
