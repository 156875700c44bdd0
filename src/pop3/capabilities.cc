// CAPA lines per state; see capabilities.h. No I/O.
#include "pop3/capabilities.h"

#include <string_view>
#include <utility>

#include "pop3/command_table.h"

namespace poplar::pop3 {
namespace {

bool condition_holds(CapaCondition when, const CapaState& now) {
  switch (when) {
    case CapaCondition::kNever:
      return false;
    case CapaCondition::kAlways:
      return true;
    case CapaCondition::kPlaintextAllowed:
      return now.plaintext_allowed;
    case CapaCondition::kSaslMechanisms:
      return !now.sasl_mechanisms.empty();  // RFC 2449 §6.3: list only what is usable now
    case CapaCondition::kTlsAvailable:
      return now.stls_available;
  }
  return false;
}

// POP4 abilities in the order POP4.md lists them ("X-POP4 FOLDERS FLAGS PARTS").
struct Pop4Ability {
  std::string_view name;
  bool Pop4Abilities::*on;
};
constexpr Pop4Ability kPop4Abilities[] = {
    {"FOLDERS", &Pop4Abilities::folders},
    {"FLAGS", &Pop4Abilities::flags},
    {"PARTS", &Pop4Abilities::parts},
};

}  // namespace

std::string pop4_capability(const Pop4Abilities& abilities) {
  std::string line;
  for (const Pop4Ability& ability : kPop4Abilities) {
    if (abilities.*ability.on) {
      line += line.empty() ? "X-POP4 " : " ";
      line += ability.name;
    }
  }
  return line;
}

std::vector<std::string> capabilities(const SessionConfig& config, const CapaState& now) {
  std::vector<std::string> lines;
  for (const CommandSpec& spec : command_table()) {
    if (spec.capa_tag.empty() || !condition_holds(spec.capa_when, now)) {
      continue;
    }
    std::string line(spec.capa_tag);
    if (spec.capa_when == CapaCondition::kSaslMechanisms) {
      for (const std::string& mechanism : now.sasl_mechanisms) {
        line += " " + mechanism;
      }
    }
    lines.push_back(std::move(line));
  }
  lines.emplace_back("RESP-CODES");      // RFC 2449 §6.4: every "[" after a status is a code
  lines.emplace_back("PIPELINING");      // RFC 2449 §6.6: replies strictly in command order
  lines.emplace_back("AUTH-RESP-CODE");  // RFC 3206 §6: every credential failure says [AUTH]
  // RFC 2449 §6.7: retention is one global setting, so AUTHORIZATION shows the same value as
  // TRANSACTION and needs no "USER" suffix.
  lines.push_back(config.expire_days ? "EXPIRE " + std::to_string(*config.expire_days)
                                     : std::string("EXPIRE NEVER"));
  if (config.login_delay_s > 0) {  // RFC 2449 §6.5; global too, hence no "USER" suffix
    lines.push_back("LOGIN-DELAY " + std::to_string(config.login_delay_s));
  }
  // POP4.md: in AUTHORIZATION and TRANSACTION alike; RFC 2449 §9: a private tag starts "X-".
  // No line at all when no ability is on: plain POP3 clients see no difference.
  if (std::string pop4 = pop4_capability(config.pop4); !pop4.empty()) {
    lines.push_back(std::move(pop4));
  }
  if (now.state == SessionState::kTransaction && !config.implementation.empty()) {
    lines.push_back("IMPLEMENTATION " + config.implementation);  // RFC 2449 §6.9
  }
  return lines;
}

}  // namespace poplar::pop3
