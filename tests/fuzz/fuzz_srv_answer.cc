// Fuzzes the DNS answer parser of SRV discovery (fetch/srv_discovery.h) with arbitrary bytes, as
// `poplar fetch --discover` meets them from a resolver that may be broken or spoofed.
// Input: the whole DNS response message, parsed as the answer for _pop3s._tcp.example.test and
// for _pop3._tcp.example.test. No input may crash the parser; every refusal says why; every
// record it accepts has a target that is a lower-case host name (or "" for "."); and the ordering
// of what it accepted, with random draws taken from the input (out of range too), keeps exactly
// the usable records and never asks for a draw from an empty range. Aborts otherwise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "fetch/srv_discovery.h"

namespace {

using poplar::fetch::SrvEndpoint;
using poplar::fetch::SrvRecord;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_srv_answer: %s\n", what);
  std::abort();
}

void check_target(const std::string& target) {
  if (target.size() > 253 || (!target.empty() && (target.front() == '.' || target.back() == '.'))) {
    fail("a target is too long or has an empty label at an end");
  }
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              (c == '.' && target[i - 1] != '.');
    if (!ok) {
      fail("a target holds an octet that is not part of a host name");
    }
  }
}

std::vector<SrvRecord> parse(std::span<const uint8_t> message, const char* qname) {
  auto records = poplar::fetch::parse_srv_answer(message, qname);
  if (!records.is_ok()) {
    if (records.status().message().empty()) {
      fail("a refusal without a reason");
    }
    return {};
  }
  for (const SrvRecord& r : *records) {
    check_target(r.target);
  }
  return *records;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::span<const uint8_t> message(bytes, size);
  std::vector<SrvRecord> pop3s = parse(message, "_pop3s._tcp.example.test");
  std::vector<SrvRecord> pop3 = parse(message, "_pop3._tcp.example.test");

  size_t next_draw = 0;
  auto random_below = [&](uint32_t bound) -> uint32_t {
    if (bound < 1) {
      fail("asked for a draw from an empty range");
    }
    uint32_t v = size == 0 ? 0 : bytes[next_draw++ % size];
    return v;  // may be out of range on purpose: the ordering must clamp it
  };
  std::vector<SrvEndpoint> order = poplar::fetch::order_srv_endpoints(pop3s, pop3, random_below);

  size_t usable = 0;
  for (const auto* list : {&pop3s, &pop3}) {
    for (const SrvRecord& r : *list) {
      usable += (!r.target.empty() && r.port != 0) ? 1 : 0;
    }
  }
  if (order.size() != usable) {
    fail("the ordering lost or invented an endpoint");
  }
  for (const SrvEndpoint& e : order) {
    if (e.host.empty() || e.port == 0) {
      fail("an unusable endpoint was kept");
    }
  }
  return 0;
}
