// Mechanism names → factories and the advertised list; see registry.h. No I/O, no state beyond
// a constant table. Thread-safety: every function may be called from any thread.
#include "sasl/registry.h"

#include "base/ascii.h"

#include <algorithm>

#include "sasl/cram_md5.h"
#include "sasl/login.h"
#include "sasl/plain.h"
#include "sasl/scram.h"

namespace poplar::sasl {
namespace {

struct ScramName {
  ScramHash hash;
  bool plus;
};

std::optional<ScramName> parse_scram_name(std::string_view upper) {
  for (ScramHash hash : {ScramHash::kSha256, ScramHash::kSha1}) {
    for (bool plus : {true, false}) {
      if (upper == scram_mechanism_name(hash, plus)) {
        return ScramName{hash, plus};
      }
    }
  }
  return std::nullopt;
}

bool has_binding(const ChannelBindings& bindings) {
  return bindings.tls_active &&
         (!bindings.tls_exporter.empty() || !bindings.tls_server_end_point.empty());
}

}  // namespace

const std::vector<std::string>& known_mechanisms() {
  static const std::vector<std::string> names = {
      "SCRAM-SHA-256-PLUS",
      "SCRAM-SHA-256",
      "SCRAM-SHA-1-PLUS",
      "SCRAM-SHA-1",
      "CRAM-MD5",
      "PLAIN",
      "LOGIN",
  };
  return names;
}

bool sends_plaintext_password(std::string_view mechanism) {
  std::string upper = ascii_upper(mechanism);
  return upper == "PLAIN" || upper == "LOGIN";
}

std::vector<std::string> advertised_mechanisms(const std::vector<std::string>& configured,
                                               bool plaintext_allowed,
                                               const ChannelBindings& bindings) {
  std::vector<std::string> wanted;
  for (const std::string& name : configured) {
    wanted.push_back(ascii_upper(name));
  }
  auto is_configured = [&](std::string_view name) {
    return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
  };
  std::vector<std::string> out;
  for (const std::string& name : known_mechanisms()) {
    if (sends_plaintext_password(name) && !plaintext_allowed) {
      continue;
    }
    std::optional<ScramName> scram = parse_scram_name(name);
    if (scram && scram->plus) {
      // -PLUS rides on its base mechanism's configuration, and needs binding data now.
      bool base_configured =
          is_configured(scram_mechanism_name(scram->hash, false)) || is_configured(name);
      if (base_configured && has_binding(bindings)) {
        out.push_back(name);
      }
      continue;
    }
    if (is_configured(name)) {
      out.push_back(name);
    }
  }
  return out;
}

ServerMechanismPtr make_server_mechanism(std::string_view name, const ServerContext& context) {
  std::string upper = ascii_upper(name);
  if (upper == "PLAIN") {
    return make_plain_server();
  }
  if (upper == "LOGIN") {
    return make_login_server();
  }
  if (upper == "CRAM-MD5") {
    return make_cram_md5_server(context);
  }
  if (std::optional<ScramName> scram = parse_scram_name(upper)) {
    return make_scram_server(scram->hash, scram->plus, context);
  }
  return nullptr;
}

ClientMechanismPtr make_client_mechanism(std::string_view name, ClientCredentials credentials,
                                         Random& random, const ChannelBindings& bindings) {
  std::string upper = ascii_upper(name);
  if (upper == "PLAIN") {
    return make_plain_client(std::move(credentials));
  }
  if (upper == "LOGIN") {
    return make_login_client(std::move(credentials));
  }
  if (upper == "CRAM-MD5") {
    return make_cram_md5_client(std::move(credentials));
  }
  if (std::optional<ScramName> scram = parse_scram_name(upper)) {
    return make_scram_client(scram->hash, scram->plus, std::move(credentials), random, bindings);
  }
  return nullptr;
}

}  // namespace poplar::sasl
