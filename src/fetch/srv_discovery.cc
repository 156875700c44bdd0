// SRV discovery (RFC 6186): the DNS answer parser, the RFC 2782 ordering and the lookups through
// glibc's resolver. See srv_discovery.h for the contract.
#include "fetch/srv_discovery.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "base/random.h"
#include "base/strict_number.h"

namespace poplar::fetch {
namespace {

constexpr uint16_t kTypeCname = 5;    // RFC 1035 §3.2.2
constexpr uint16_t kTypeSrv = 33;     // RFC 2782
constexpr uint16_t kClassIn = 1;      // RFC 1035 §3.2.4
constexpr size_t kHeaderSize = 12;    // RFC 1035 §4.1.1
constexpr size_t kMaxNameWire = 255;  // RFC 1035 §2.3.4: a name is at most 255 octets on the wire
constexpr size_t kMaxLabel = 63;      // RFC 1035 §2.3.4
// A whole UDP or TCP DNS message fits (RFC 1035 §4.2.2: a 16-bit length).
constexpr size_t kMaxMessage = 65535;

// A domain name in wire form without the final root octet, labels ASCII-lower-cased: the key
// under which names compare (RFC 4343: case-insensitive for ASCII). "" is the root. Comparing
// these rather than dotted text keeps a label holding a "." apart from two labels.
using NameKey = std::string;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

uint16_t read_u16(std::span<const uint8_t> m, size_t at) {
  return static_cast<uint16_t>((m[at] << 8) | m[at + 1]);
}

struct NameRead {
  NameKey key;
  size_t next = 0;  // offset just after the name where it was written (after its pointer, if any)
};

// Reads the (possibly compressed, RFC 1035 §4.1.4) name at `offset`. Every pointer must point
// before the start of the labels being read, so the offsets fall strictly and a loop or a
// forward pointer cannot occur.
Result<NameRead> read_name(std::span<const uint8_t> m, size_t offset) {
  NameRead out;
  std::optional<size_t> next;
  size_t pos = offset;
  size_t segment_start = offset;
  size_t wire_length = 1;  // the root octet
  for (;;) {
    if (pos >= m.size()) {
      return Status::invalid_input("a name runs past the end of the message");
    }
    uint8_t length = m[pos];
    if ((length & 0xC0) == 0xC0) {
      if (pos + 1 >= m.size()) {
        return Status::invalid_input("a compression pointer is cut off");
      }
      size_t target = static_cast<size_t>(((length & 0x3F) << 8) | m[pos + 1]);
      if (target >= segment_start) {
        return Status::invalid_input("a compression pointer points forwards or loops");
      }
      if (!next) {
        next = pos + 2;
      }
      pos = segment_start = target;
      continue;
    }
    if ((length & 0xC0) != 0) {
      return Status::invalid_input("a name uses an unknown label type");  // RFC 6891 §5
    }
    if (length == 0) {
      out.next = next ? *next : pos + 1;
      return out;
    }
    wire_length += 1 + length;
    if (wire_length > kMaxNameWire) {
      return Status::invalid_input("a name is longer than 255 octets");
    }
    if (pos + 1 + length > m.size()) {
      return Status::invalid_input("a label runs past the end of the message");
    }
    out.key.push_back(static_cast<char>(length));
    for (size_t i = 0; i < length; ++i) {
      out.key.push_back(ascii_lower(static_cast<char>(m[pos + 1 + i])));
    }
    pos += 1 + length;
  }
}

bool is_host_name_octet(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// "mail.example.com" from its key; nullopt when a label holds anything but host-name octets
// (the target is handed to getaddrinfo and printed; a NUL or a "." inside a label must not be).
std::optional<std::string> host_name_of(const NameKey& key) {
  std::string text;
  size_t pos = 0;
  while (pos < key.size()) {
    size_t length = static_cast<uint8_t>(key[pos]);
    if (!text.empty()) {
      text.push_back('.');
    }
    for (size_t i = 0; i < length; ++i) {
      char c = key[pos + 1 + i];
      if (!is_host_name_octet(c)) {
        return std::nullopt;
      }
      text.push_back(c);
    }
    pos += 1 + length;
  }
  return text;
}

// The key of a dotted name ("a.b.c" or "a.b.c."); nullopt for an empty label or a name too long.
std::optional<NameKey> key_of_text(std::string_view text) {
  if (!text.empty() && text.back() == '.') {
    text.remove_suffix(1);
  }
  NameKey key;
  if (text.empty()) {
    return key;
  }
  size_t start = 0;
  for (;;) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > kMaxLabel) {
      return std::nullopt;
    }
    key.push_back(static_cast<char>(label.size()));
    for (char c : label) {
      key.push_back(ascii_lower(c));
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (key.size() + 1 > kMaxNameWire) {
    return std::nullopt;
  }
  return key;
}

// One resource record of the answer section, located but not yet interpreted.
struct AnswerRecord {
  NameKey owner;
  uint16_t type = 0;
  uint16_t rr_class = 0;
  size_t rdata = 0;  // offset of RDATA in the message
  size_t rdlength = 0;
};

// The owner names that count as qname: qname and the CNAME chain from it inside this answer.
std::vector<NameKey> aliases_of(const NameKey& qname, const std::vector<AnswerRecord>& records,
                                std::span<const uint8_t> m, Status* error) {
  std::vector<NameKey> names{qname};
  for (int hop = 0; hop < kMaxCnameHops; ++hop) {
    const AnswerRecord* cname = nullptr;
    for (const AnswerRecord& r : records) {
      if (r.type == kTypeCname && r.rr_class == kClassIn && r.owner == names.back()) {
        cname = &r;
        break;
      }
    }
    if (cname == nullptr) {
      break;
    }
    auto target = read_name(m, cname->rdata);
    if (!target.is_ok() || target->next != cname->rdata + cname->rdlength) {
      *error = Status::invalid_input("a CNAME record's RDATA is not one name");
      return names;
    }
    if (std::find(names.begin(), names.end(), target->key) != names.end()) {
      break;  // a CNAME loop: nothing more to find
    }
    names.push_back(std::move(target->key));
  }
  return names;
}

// RFC 2782 "Usage rules": the weighted random order of records of one priority (and service).
void append_weighted(std::vector<const SrvRecord*> group, PopUrl::TlsMode tls,
                     const RandomBelow& random_below, std::vector<SrvEndpoint>* out) {
  // Weight-0 records go first in the running sum, so they are chosen only when the draw is 0.
  std::stable_partition(group.begin(), group.end(),
                        [](const SrvRecord* r) { return r->weight == 0; });
  while (!group.empty()) {
    uint64_t sum = 0;
    for (const SrvRecord* r : group) {
      sum += r->weight;
    }
    size_t chosen = 0;
    if (group.size() > 1 && sum > 0) {
      // RFC 2782 draws from [0, sum]. A draw of 0 picks the first weight-0 record: the "very
      // small chance" the RFC gives them. Without weight-0 records the draw is from [1, sum]
      // instead, or 0 would favour the first record by one unit (weights 1 and 1 would go 2:1).
      // A message holds fewer than 65536 records, so sum + 1 <= 65535 * 65535 + 1 fits in 32
      // bits; the cap only keeps a caller's longer list from wrapping the bound to 0.
      bool has_zero = group.front()->weight == 0;
      uint32_t bound =
          static_cast<uint32_t>(std::min<uint64_t>(has_zero ? sum + 1 : sum, UINT32_MAX));
      uint64_t draw = std::min<uint64_t>(random_below(bound), bound - 1) + (has_zero ? 0 : 1);
      uint64_t running = 0;
      for (chosen = 0; chosen < group.size(); ++chosen) {
        running += group[chosen]->weight;
        if (running >= draw) {
          break;
        }
      }
    }
    out->push_back(SrvEndpoint{group[chosen]->target, group[chosen]->port, tls});
    group.erase(group.begin() + static_cast<std::ptrdiff_t>(chosen));
  }
}

bool usable(const SrvRecord& r) { return !r.target.empty() && r.port != 0; }

// A draw from the OS CSPRNG. A 64-bit draw reduced modulo a 32-bit bound is uniform to within
// 2^-32, far below anything the weights can express.
uint32_t system_random_below(uint32_t bound) {
  return static_cast<uint32_t>(SystemRandom::instance().next_u64() % bound);
}

Result<sockaddr_in> parse_nameserver(const std::string& text) {
  std::string address = text;
  uint16_t port = NAMESERVER_PORT;
  size_t colon = text.find(':');
  if (colon != std::string::npos) {
    address = text.substr(0, colon);
    auto parsed = parse_u32(std::string_view(text).substr(colon + 1));
    if (!parsed || *parsed == 0 || *parsed > 65535) {
      return Status::invalid_input("DNS server \"" + text + "\" has no valid port");
    }
    port = static_cast<uint16_t>(*parsed);
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    return Status::invalid_input("DNS server \"" + text + "\" is not an IPv4 address[:port]");
  }
  return sa;
}

// A private resolver state (never the process-wide _res), closed on every path.
class Resolver {
 public:
  static Result<std::unique_ptr<Resolver>> open(const DnsOptions& options) {
    std::optional<sockaddr_in> server;
    if (!options.nameserver.empty()) {
      auto parsed = parse_nameserver(options.nameserver);
      if (!parsed.is_ok()) {
        return parsed.status();
      }
      server = *parsed;
    }
    auto resolver = std::unique_ptr<Resolver>(new Resolver());
    if (::res_ninit(&resolver->state_) != 0) {
      return Status::temporary("cannot initialise the DNS resolver (/etc/resolv.conf)");
    }
    resolver->open_ = true;
    if (server) {
      resolver->state_.nsaddr_list[0] = *server;
      resolver->state_.nscount = 1;
    }
    // The resolver counts in whole seconds per try; two tries when the budget allows, since a
    // UDP datagram may be lost.
    long seconds = std::max<long>(1, static_cast<long>(options.timeout.count() / 1000));
    int tries = seconds >= 2 ? 2 : 1;
    resolver->state_.retry = tries;
    resolver->state_.retrans = static_cast<int>(std::min<long>(seconds / tries, RES_MAXRETRANS));
    return resolver;
  }
  ~Resolver() {
    if (open_) {
      ::res_nclose(&state_);
    }
  }
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The SRV records of `qname`; an empty list for NXDOMAIN or no data.
  Result<std::vector<SrvRecord>> lookup_srv(const std::string& qname) {
    std::vector<uint8_t> answer(kMaxMessage);
    int n = ::res_nquery(&state_, qname.c_str(), ns_c_in, ns_t_srv, answer.data(),
                         static_cast<int>(answer.size()));
    if (n < 0) {
      switch (state_.res_h_errno) {
        case HOST_NOT_FOUND:  // NXDOMAIN
        case NO_DATA:         // the name exists, without SRV records
          return std::vector<SrvRecord>{};
        case TRY_AGAIN:
          return Status::temporary("DNS lookup of " + qname +
                                   " failed: the server failed (SERVFAIL) or did not answer");
        case NO_RECOVERY:
          return Status::temporary("DNS lookup of " + qname +
                                   " failed: the server refused it or sent an error");
        default:
          return Status::temporary("DNS lookup of " + qname +
                                   " failed: " + std::string(std::strerror(errno)));
      }
    }
    size_t length = std::min(static_cast<size_t>(n), answer.size());
    auto records = parse_srv_answer(std::span<const uint8_t>(answer.data(), length), qname);
    if (!records.is_ok()) {
      return Status::temporary("malformed DNS answer for " + qname + ": " +
                               records.status().message());
    }
    return records;
  }

 private:
  Resolver() { std::memset(&state_, 0, sizeof state_); }

  struct __res_state state_;
  bool open_ = false;
};

// The domain in lower case without a trailing dot, or kInvalidInput.
Result<std::string> normalize_domain(std::string_view domain) {
  auto refuse = [&] {
    return Status::invalid_input("\"" + std::string(domain.substr(0, 300)) +
                                 "\" is not a DNS domain name");
  };
  auto key = key_of_text(domain);
  if (!key || key->empty()) {
    return refuse();
  }
  // The longest service prefix must still fit in a name.
  if (key->size() + 1 + std::string_view("\6_pop3s\4_tcp").size() > kMaxNameWire) {
    return refuse();
  }
  std::string text;
  bool last_label_numeric = true;
  for (size_t pos = 0; pos < key->size();) {
    size_t length = static_cast<uint8_t>((*key)[pos]);
    std::string_view label(key->data() + pos + 1, length);
    // RFC 1123 §2.1 host-name labels: letters, digits, hyphens, not at either end.
    if (label.front() == '-' || label.back() == '-') {
      return refuse();
    }
    last_label_numeric = true;
    for (char c : label) {
      bool letter = c >= 'a' && c <= 'z';
      bool digit = c >= '0' && c <= '9';
      if (!letter && !digit && c != '-') {
        return refuse();
      }
      last_label_numeric = last_label_numeric && digit;
    }
    if (!text.empty()) {
      text.push_back('.');
    }
    text.append(label);
    pos += 1 + length;
  }
  if (last_label_numeric) {
    return refuse();  // an IPv4 address: there is no domain to look up
  }
  return text;
}

}  // namespace

Result<std::vector<SrvRecord>> parse_srv_answer(std::span<const uint8_t> message,
                                                std::string_view qname) {
  auto qname_key = key_of_text(qname);
  if (!qname_key) {
    return Status::invalid_input("the query name is not a DNS name");
  }
  const auto& m = message;
  if (m.size() < kHeaderSize) {
    return Status::invalid_input("the message is shorter than a DNS header");
  }
  if ((m[2] & 0x80) == 0) {
    return Status::invalid_input("the message is a query, not a response");
  }
  if (((m[2] >> 3) & 0x0F) != 0) {
    return Status::invalid_input("the message is not a standard query's response");
  }
  uint16_t questions = read_u16(m, 4);
  uint16_t answers = read_u16(m, 6);
  if (questions != 1) {
    return Status::invalid_input("the response does not repeat exactly one question");
  }
  auto question = read_name(m, kHeaderSize);
  if (!question.is_ok()) {
    return question.status();
  }
  size_t pos = question->next;
  if (pos + 4 > m.size()) {
    return Status::invalid_input("the question is cut off");
  }
  if (question->key != *qname_key || read_u16(m, pos) != kTypeSrv ||
      read_u16(m, pos + 2) != kClassIn) {
    return Status::invalid_input("the response answers another question");
  }
  pos += 4;

  std::vector<AnswerRecord> records;
  for (uint16_t i = 0; i < answers; ++i) {
    auto owner = read_name(m, pos);
    if (!owner.is_ok()) {
      return owner.status();
    }
    pos = owner->next;
    if (pos + 10 > m.size()) {  // type, class, TTL, RDLENGTH (RFC 1035 §4.1.3)
      return Status::invalid_input("a resource record is cut off");
    }
    AnswerRecord r;
    r.owner = std::move(owner->key);
    r.type = read_u16(m, pos);
    r.rr_class = read_u16(m, pos + 2);
    r.rdlength = read_u16(m, pos + 8);
    r.rdata = pos + 10;
    if (r.rdata + r.rdlength > m.size()) {
      return Status::invalid_input("a resource record's RDATA runs past the end of the message");
    }
    pos = r.rdata + r.rdlength;
    records.push_back(std::move(r));
  }

  Status alias_error;
  std::vector<NameKey> owners = aliases_of(*qname_key, records, m, &alias_error);
  if (!alias_error.is_ok()) {
    return alias_error;
  }
  std::vector<SrvRecord> out;
  for (const AnswerRecord& r : records) {
    if (r.type != kTypeSrv || r.rr_class != kClassIn ||
        std::find(owners.begin(), owners.end(), r.owner) == owners.end()) {
      continue;
    }
    // RFC 2782: priority, weight, port (16 bits each), then the target name. RFC 2782 forbids
    // compressing the target, but RFC 3597 §4 asks receivers to accept it anyway.
    if (r.rdlength < 7) {
      return Status::invalid_input("an SRV record's RDATA is too short");
    }
    auto target = read_name(m, r.rdata + 6);
    if (!target.is_ok()) {
      return target.status();
    }
    if (target->next != r.rdata + r.rdlength) {
      return Status::invalid_input("an SRV record's RDLENGTH disagrees with its target");
    }
    auto host = host_name_of(target->key);
    if (!host) {
      return Status::invalid_input("an SRV record's target is not a host name");
    }
    out.push_back(SrvRecord{read_u16(m, r.rdata), read_u16(m, r.rdata + 2),
                            read_u16(m, r.rdata + 4), std::move(*host)});
  }
  return out;
}

std::vector<SrvEndpoint> order_srv_endpoints(const std::vector<SrvRecord>& pop3s,
                                             const std::vector<SrvRecord>& pop3,
                                             const RandomBelow& random_below) {
  struct Candidate {
    const SrvRecord* record;
    PopUrl::TlsMode tls;
  };
  std::vector<Candidate> candidates;
  for (const SrvRecord& r : pop3s) {
    if (usable(r)) {
      candidates.push_back({&r, PopUrl::TlsMode::kImplicit});
    }
  }
  for (const SrvRecord& r : pop3) {
    if (usable(r)) {
      candidates.push_back({&r, PopUrl::TlsMode::kStartTls});
    }
  }
  // kImplicit is declared before kStartTls, so at equal priority _pop3s sorts first.
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    if (a.record->priority != b.record->priority) {
      return a.record->priority < b.record->priority;
    }
    return a.tls == PopUrl::TlsMode::kImplicit && b.tls != PopUrl::TlsMode::kImplicit;
  });
  std::vector<SrvEndpoint> out;
  for (size_t begin = 0; begin < candidates.size();) {
    size_t end = begin;
    std::vector<const SrvRecord*> group;
    while (end < candidates.size() &&
           candidates[end].record->priority == candidates[begin].record->priority &&
           candidates[end].tls == candidates[begin].tls) {
      group.push_back(candidates[end].record);
      ++end;
    }
    append_weighted(std::move(group), candidates[begin].tls, random_below, &out);
    begin = end;
  }
  return out;
}

Result<std::vector<SrvEndpoint>> discover_pop_servers(std::string_view domain,
                                                      const DnsOptions& options) {
  auto name = normalize_domain(domain);
  if (!name.is_ok()) {
    return name.status();
  }
  auto resolver = Resolver::open(options);
  if (!resolver.is_ok()) {
    return resolver.status();
  }
  auto pop3s = (*resolver)->lookup_srv("_pop3s._tcp." + *name);
  if (!pop3s.is_ok()) {
    return pop3s.status();
  }
  auto pop3 = (*resolver)->lookup_srv("_pop3._tcp." + *name);
  if (!pop3.is_ok()) {
    return pop3.status();
  }
  std::vector<SrvEndpoint> endpoints = order_srv_endpoints(*pop3s, *pop3, system_random_below);
  if (!endpoints.empty()) {
    return endpoints;
  }
  if (pop3s->empty() && pop3->empty()) {
    return Status::not_found("no _pop3s._tcp or _pop3._tcp SRV record for " + *name);
  }
  return Status::error(ErrorCode::kUnavailable, *name + " offers no POP3 service");
}

}  // namespace poplar::fetch
