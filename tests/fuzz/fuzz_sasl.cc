// Fuzzes every server SASL mechanism step by step with arbitrary decoded client responses.
// Input: the first byte picks the mechanism (low 3 bits, modulo the known list, in
// registry order), whether the first response is sent as an initial response (0x80), and
// whether the connection has TLS channel bindings with -PLUS advertised (0x40); the rest is
// split at '\n' into successive responses. SCRAM lookups are answered with fixed fake
// credentials (1 iteration, so the fuzzer explores parsing, not PBKDF2). A mechanism must never
// crash, never succeed without a valid proof, and never put the password into a failure reason.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sasl/registry.h"
#include "sasl/scram.h"

namespace {

using poplar::sasl::ScramCredentials;
using poplar::sasl::ScramHash;
using poplar::sasl::ServerStep;

const ScramCredentials& fake_credentials(ScramHash hash) {
  static const ScramCredentials sha1 = *poplar::sasl::derive_scram_credentials(
      ScramHash::kSha1, poplar::Secret("pencil"), "salt", 1);
  static const ScramCredentials sha256 = *poplar::sasl::derive_scram_credentials(
      ScramHash::kSha256, poplar::Secret("pencil"), "salt", 1);
  return hash == ScramHash::kSha1 ? sha1 : sha256;
}

class FixedRandom final : public poplar::Random {
 public:
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      b = static_cast<uint8_t>(counter_++);
    }
  }

 private:
  unsigned counter_ = 0;
};

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto& names = poplar::sasl::known_mechanisms();
  uint8_t control = data[0];
  const std::string& name = names[(control & 0x07) % names.size()];
  bool initial_response = (control & 0x80) != 0;
  FixedRandom random;
  poplar::sasl::ServerContext context;
  context.hostname = "fuzz.example";
  context.random = &random;
  context.unix_time = 1;
  if ((control & 0x40) != 0) {
    context.bindings.tls_active = true;
    context.bindings.tls_exporter = std::string(32, 'e');
    context.bindings.tls_server_end_point = std::string(32, 's');
    context.plus_advertised = true;
  }
  auto mechanism = poplar::sasl::make_server_mechanism(name, context);
  if (!mechanism) {
    std::abort();
  }
  std::vector<std::string_view> responses =
      split(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  size_t next = 0;
  ServerStep step =
      initial_response ? mechanism->start(responses[next++]) : mechanism->start(std::nullopt);
  for (int guard = 0; guard < 64; ++guard) {
    if (step.kind == ServerStep::Kind::kLookupScram) {
      step = mechanism->on_scram_credentials(fake_credentials(step.scram_lookup.hash));
      continue;
    }
    if (step.kind == ServerStep::Kind::kSuccess && name.starts_with("SCRAM")) {
      // A SCRAM success needs a proof made from "pencil": the fuzzer finding one would mean
      // the proof check is broken (or SHA-2 is).
      std::abort();
    }
    if (step.kind == ServerStep::Kind::kFailure &&
        step.reason.find("pencil") != std::string::npos) {
      std::abort();
    }
    if (next >= responses.size()) {
      break;
    }
    // Every kind gets the next response: after the end a mechanism must refuse calmly.
    step = mechanism->step(responses[next++]);
  }
  return 0;
}
