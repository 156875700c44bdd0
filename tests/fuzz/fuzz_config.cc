// Fuzzes the TOML configuration loader: any file must give a ServerConfig or an error Status
// naming a line, never a crash or an escaped toml++ exception.
#include <cstdint>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(bytes), size);
  auto config = poplar::config::parse_config(text, "fuzz.toml", "/srv/poplar");
  if (config.is_ok()) {
    (void)poplar::config::check_supported(*config);
    poplar::config::MailUser user{"alice@example.org", "/home/alice"};
    (void)poplar::config::expand_mail_location(config->mail.location, user);
  }
  return 0;
}
