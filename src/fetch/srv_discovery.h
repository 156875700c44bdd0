// SRV discovery for `poplar fetch --discover` (RFC 6186): from the domain of the user's address,
// find the POP3 servers its administrator published, and the order to try them in.
//
//   _pop3s._tcp.DOMAIN  SRV  prio weight port target   -> implicit TLS (RFC 8314) to target:port
//   _pop3._tcp.DOMAIN   SRV  prio weight port target   -> STLS (RFC 2595) to target:port
//
// Three layers, each usable alone:
//  - parse_srv_answer: a strict parser of one DNS response message (RFC 1035 §4). Its input is
//    untrusted bytes from the network; it is fuzzed (tests/fuzz/fuzz_srv_answer.cc).
//  - order_srv_endpoints: RFC 2782 ordering of both services merged (pure; randomness injected).
//  - discover_pop_servers: the two lookups through glibc's resolver (res_nquery on a private
//    res_state), then the ordering.
//
// What the caller must do with the result (R6186-4-a, R7817-a): connect to each endpoint in turn,
// but check the server's certificate against the SOURCE DOMAIN (the domain looked up), never
// against SrvEndpoint::host. Poplar does not validate DNSSEC, so the SRV answer may be forged and
// its target is not a reference identity; a forged answer can then only send us to a server
// that still has to prove it is the source domain. Endpoints never carry plaintext: _pop3._tcp
// means STLS, which the caller must require.
//
// Choices where the RFCs leave room (documented in docs/fetch.md):
//  - A CNAME chain inside the answer is followed (at most kMaxCnameHops), as resolvers do.
//  - Records with target "." are dropped; a service whose every record is "." is "decidedly not
//    available" (RFC 2782, RFC 6186 §3/R6186-3-c). Port 0 with a real target is unusable and is
//    dropped too.
//  - Both services' records are merged by priority; at equal priority every _pop3s record comes
//    before any _pop3 one (RFC 8314 §5.1, R6186-3-b).
//  - A malformed answer, or one whose target is not a host name, is refused as a whole rather
//    than partly used: a resolver that sends garbage is not trusted for the rest of it.
//  - If either lookup fails temporarily, discovery fails temporarily (kTemporary) even when the
//    other answered: the failed service might hold the preferred servers, and silently trying
//    the others first would defeat the administrator's order; cron retries later.
//
// Must never: crash, hang, assert or read out of bounds on any DNS message; follow a compression
// pointer forwards or in a loop; use the process-wide resolver state (_res) or change it.
//
// Thread-safety: parse_srv_answer and order_srv_endpoints are pure. discover_pop_servers may run
// on many threads at once (each account of `poplar fetch` has its own): every call has its own
// res_state and sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "fetch/pop_url.h"

namespace poplar::fetch {

// One SRV resource record (RFC 2782), as published.
struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // lower case, no trailing dot; "" for the root "." (service not offered)

  bool operator==(const SrvRecord&) const = default;
};

// CNAME records followed inside one answer before giving up; real chains are one or two long.
inline constexpr int kMaxCnameHops = 8;

// Parses a whole DNS response (RFC 1035 §4) to an SRV query for `qname` ("_pop3s._tcp.example.com",
// with or without a trailing dot, any case) and returns every SRV record of class IN in the answer
// section whose owner is qname or a CNAME alias of it reached inside this answer, in message
// order. The header's RCODE is not judged here (the resolver has done it); an answer without
// such records is an empty list.
// Errors: kInvalidInput when the message is malformed (truncated, a bad name or compression
// pointer, an RDLENGTH that disagrees with the record, a question that is not qname/SRV/IN,
// not a response) or an SRV target is not a host name (letters, digits, '-', '_').
Result<std::vector<SrvRecord>> parse_srv_answer(std::span<const uint8_t> message,
                                                std::string_view qname);

// Where to connect, and how: kImplicit for _pop3s._tcp, kStartTls for _pop3._tcp.
struct SrvEndpoint {
  std::string host;
  uint16_t port = 0;
  PopUrl::TlsMode tls = PopUrl::TlsMode::kImplicit;

  bool operator==(const SrvEndpoint&) const = default;
};

// Returns a number in [0, bound); bound >= 1.
using RandomBelow = std::function<uint32_t(uint32_t bound)>;

// The order to try the endpoints in (RFC 2782 "Usage rules"): ascending priority across both
// services; at equal priority _pop3s before _pop3 (RFC 8314); within one priority of one service,
// the weighted random selection of RFC 2782: each pick takes a remaining record of weight w > 0
// with probability w / S, S being the sum of the remaining weights, plus 1 while a weight-0
// record remains; that 1 / S goes to the first weight-0 record (they keep their order). Records
// with target "" (".") or port 0 are dropped. random_below is called only when a choice is to be
// made, i.e. when two or more records remain and one has weight.
std::vector<SrvEndpoint> order_srv_endpoints(const std::vector<SrvRecord>& pop3s,
                                             const std::vector<SrvRecord>& pop3,
                                             const RandomBelow& random_below);

struct DnsOptions {
  // "127.0.0.1:5353" or "127.0.0.1" (port 53): ask only this IPv4 server. Empty: the system's
  // resolver configuration (/etc/resolv.conf). `poplar fetch` fills it from the environment
  // variable POPLAR_DNS_SERVER, a hook for tests.
  std::string nameserver;
  // Longest wait for each of the two lookups. The resolver counts in whole seconds: this is
  // rounded down to them, at least 1 s; from 2 s on, it is split over two tries (UDP may drop).
  std::chrono::milliseconds timeout{5000};
};

// Looks up _pop3s._tcp.DOMAIN and _pop3._tcp.DOMAIN and returns the endpoints in the order to
// try them (order_srv_endpoints with the system CSPRNG). `domain` is a DNS name (LDH labels,
// one trailing dot allowed, any case), not an address.
// Errors:
//  - kInvalidInput: domain is not a DNS name, or options.nameserver is not IPv4[:port];
//  - kNotFound "no _pop3s._tcp or _pop3._tcp SRV record for DOMAIN" (NXDOMAIN or no data for
//    both);
//  - kUnavailable "DOMAIN offers no POP3 service": every record found has target "." (or port
//    0), e.g. `_pop3s._tcp 0 0 0 .` with no _pop3._tcp record;
//  - kTemporary: the resolver failed (SERVFAIL, REFUSED, no answer within the timeout, no
//    usable configuration) or sent a malformed answer, for either lookup.
Result<std::vector<SrvEndpoint>> discover_pop_servers(std::string_view domain,
                                                      const DnsOptions& options);

}  // namespace poplar::fetch
