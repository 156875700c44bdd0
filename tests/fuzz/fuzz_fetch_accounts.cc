// Fuzzes `poplar fetch`'s account file with the real validators: any file must give accounts or
// an error naming a line, never a crash or an escaped toml++ exception; and every account the
// parser accepts must also be accepted by prepare_account (the parser's checks and the
// preparation's must agree, or a file that "loads" would fail at run time).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/fetch_accounts.h"
#include "fetch/account_setup.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(bytes), size);
  static const poplar::config::FetchAccountValidators validators =
      poplar::fetch::account_validators();
  auto file =
      poplar::config::parse_fetch_config(text, "fetch.toml", "/home/u/.config/poplar", validators);
  if (!file.is_ok()) {
    return 0;
  }
  for (const auto& account : file->accounts) {
    if (account.name.empty() || account.url.empty() || account.target.empty()) {
      std::abort();
    }
    auto prepared = poplar::fetch::prepare_account(account, account.name);
    // A URL without a user is the one thing only preparation can judge (with `user`).
    if (!prepared.is_ok() && prepared.status().message().find("no user") == std::string::npos &&
        prepared.status().message().find("discovery") == std::string::npos) {
      std::abort();
    }
  }
  return 0;
}
