// Tests of SRV discovery: the DNS answer parser on hand-built messages (compression, CNAME
// chains, every kind of lie a message can tell), the RFC 2782 / RFC 8314 ordering with a scripted
// random source, and discover_pop_servers against a small UDP DNS responder on 127.0.0.1 (a
// thread): both services, one, none, ".", SERVFAIL, silence, garbage.
#include "fetch/srv_discovery.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace poplar::fetch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint16_t kSrv = 33;
constexpr uint16_t kCname = 5;
constexpr uint16_t kIn = 1;

// A DNS message written field by field (RFC 1035 §4.1), so every test can lie where it wants.
class Message {
 public:
  Message& u8(uint8_t v) {
    bytes.push_back(v);
    return *this;
  }
  Message& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Message& u32(uint32_t v) {
    return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v));
  }
  Message& label(std::string_view text) {
    u8(static_cast<uint8_t>(text.size()));
    bytes.insert(bytes.end(), text.begin(), text.end());
    return *this;
  }
  // Uncompressed; "" and "." are the root.
  Message& name(std::string_view dotted) {
    size_t start = 0;
    while (start < dotted.size()) {
      size_t dot = dotted.find('.', start);
      if (dot == std::string_view::npos) {
        dot = dotted.size();
      }
      label(dotted.substr(start, dot - start));
      start = dot + 1;
    }
    return u8(0);
  }
  Message& pointer(uint16_t offset) { return u16(static_cast<uint16_t>(0xC000 | offset)); }
  // Header of a response: QR, RD, RA, the given RCODE.
  Message& header(uint16_t answers, uint16_t questions = 1, uint8_t rcode = 0, uint16_t id = 7) {
    return u16(id)
        .u16(static_cast<uint16_t>(0x8180 | rcode))
        .u16(questions)
        .u16(answers)
        .u16(0)
        .u16(0);
  }
  Message& question(std::string_view qname, uint16_t type = kSrv) {
    return name(qname).u16(type).u16(kIn);
  }
  // TYPE CLASS TTL after an owner name already written, then RDLENGTH to be patched.
  Message& rr_fixed(uint16_t type, uint16_t rr_class = kIn) {
    u16(type).u16(rr_class).u32(300);
    rdlength_at_ = bytes.size();
    return u16(0);
  }
  Message& end_rdata() {
    size_t length = bytes.size() - rdlength_at_ - 2;
    bytes[rdlength_at_] = static_cast<uint8_t>(length >> 8);
    bytes[rdlength_at_ + 1] = static_cast<uint8_t>(length);
    return *this;
  }
  // An SRV record owned by the question's name (a pointer to offset 12), target uncompressed.
  Message& srv(uint16_t priority, uint16_t weight, uint16_t port, std::string_view target) {
    pointer(12).rr_fixed(kSrv).u16(priority).u16(weight).u16(port).name(target);
    return end_rdata();
  }
  std::span<const uint8_t> span() const { return bytes; }

  std::vector<uint8_t> bytes;

 private:
  size_t rdlength_at_ = 0;
};

constexpr std::string_view kQname = "_pop3s._tcp.example.test";

std::vector<SrvRecord> parse_ok(const Message& m, std::string_view qname = kQname) {
  auto records = parse_srv_answer(m.span(), qname);
  EXPECT_TRUE(records.is_ok()) << records.status().to_string();
  return records.is_ok() ? *records : std::vector<SrvRecord>{};
}

std::string refusal(const Message& m, std::string_view qname = kQname) {
  auto records = parse_srv_answer(m.span(), qname);
  EXPECT_FALSE(records.is_ok());
  if (records.is_ok()) {
    return "";
  }
  EXPECT_EQ(records.status().code(), ErrorCode::kInvalidInput);
  return records.status().message();
}

TEST(ParseSrvAnswerTest, ReadsEveryRecordInOrderWithTargetsLowerCased) {
  Message m;
  m.header(3).question(kQname);
  m.srv(0, 5, 995, "Mail.Example.TEST.").srv(10, 0, 1995, "backup.example.test").srv(0, 0, 0, "");
  EXPECT_THAT(parse_ok(m),
              ElementsAre(SrvRecord{0, 5, 995, "mail.example.test"},
                          SrvRecord{10, 0, 1995, "backup.example.test"}, SrvRecord{0, 0, 0, ""}));
}

TEST(ParseSrvAnswerTest, QueryNameMatchesWithoutCaseAndWithATrailingDot) {
  Message m;
  m.header(1).question("_POP3S._TCP.Example.Test").srv(1, 2, 3, "h");
  EXPECT_THAT(parse_ok(m, "_pop3s._tcp.example.test."), ElementsAre(SrvRecord{1, 2, 3, "h"}));
}

TEST(ParseSrvAnswerTest, NoAnswersIsAnEmptyList) {
  Message m;
  m.header(0).question(kQname);
  EXPECT_TRUE(parse_ok(m).empty());
  Message nxdomain;
  nxdomain.header(0, 1, 3).question(kQname);
  EXPECT_TRUE(parse_ok(nxdomain).empty());
}

TEST(ParseSrvAnswerTest, RecordsOfOtherOwnersTypesAndClassesAreSkipped) {
  Message m;
  m.header(4).question(kQname);
  m.name("_pop3._tcp.example.test").rr_fixed(kSrv).u16(0).u16(0).u16(110).name("other").end_rdata();
  m.pointer(12).rr_fixed(16).u8(3).bytes.insert(m.bytes.end(), {'t', 'x', 't'});  // TXT
  m.end_rdata();
  m.pointer(12).rr_fixed(kSrv, 3).u16(0).u16(0).u16(995).name("chaos").end_rdata();  // class CH
  m.srv(0, 0, 995, "mail.example.test");
  EXPECT_THAT(parse_ok(m), ElementsAre(SrvRecord{0, 0, 995, "mail.example.test"}));
}

TEST(ParseSrvAnswerTest, CompressedOwnersAndTargetsAreFollowedBackwards) {
  Message m;
  m.header(2).question(kQname);
  size_t first_target = 0;
  m.pointer(12).rr_fixed(kSrv).u16(0).u16(0).u16(995);
  first_target = m.bytes.size();
  m.label("pop").pointer(12 + 1 + 6 + 1 + 4);  // "pop" + "example.test" from the question
  m.end_rdata();
  m.pointer(12).rr_fixed(kSrv).u16(1).u16(0).u16(995).label("b").pointer(
      static_cast<uint16_t>(first_target));
  m.end_rdata();
  EXPECT_THAT(parse_ok(m), ElementsAre(SrvRecord{0, 0, 995, "pop.example.test"},
                                       SrvRecord{1, 0, 995, "b.pop.example.test"}));
}

TEST(ParseSrvAnswerTest, CnameChainInsideTheAnswerIsFollowed) {
  Message m;
  m.header(4).question(kQname);
  m.pointer(12).rr_fixed(kCname).name("_pop3s._tcp.hoster.test").end_rdata();
  m.name("_pop3s._tcp.hoster.test").rr_fixed(kCname).name("srv.hoster.test").end_rdata();
  m.name("SRV.hoster.test").rr_fixed(kSrv).u16(0).u16(0).u16(995).name("pop.hoster.test");
  m.end_rdata();
  m.name("unrelated.test").rr_fixed(kSrv).u16(0).u16(0).u16(995).name("evil.test").end_rdata();
  EXPECT_THAT(parse_ok(m), ElementsAre(SrvRecord{0, 0, 995, "pop.hoster.test"}));
}

TEST(ParseSrvAnswerTest, CnameLoopEndsWithoutRecords) {
  Message m;
  m.header(2).question(kQname);
  m.pointer(12).rr_fixed(kCname).name("a.test").end_rdata();
  m.name("a.test").rr_fixed(kCname).name(kQname).end_rdata();
  EXPECT_TRUE(parse_ok(m).empty());
}

TEST(ParseSrvAnswerTest, CnameWhoseRdataIsNotOneNameIsRefused) {
  Message m;
  m.header(1).question(kQname);
  m.pointer(12).rr_fixed(kCname).name("a.test").u8(0).end_rdata();
  EXPECT_THAT(refusal(m), HasSubstr("CNAME"));
}

TEST(ParseSrvAnswerTest, CompressionPointerLoopsAndForwardPointersAreRefused) {
  // The owner name points at itself.
  Message self;
  self.header(1).question(kQname);
  self.pointer(static_cast<uint16_t>(self.bytes.size()));
  self.rr_fixed(kSrv).u16(0).u16(0).u16(995).name("h").end_rdata();
  EXPECT_THAT(refusal(self), HasSubstr("pointer"));

  // A label, then a pointer back to that label: a loop inside one name.
  Message inner;
  inner.header(1).question(kQname);
  size_t start = inner.bytes.size();
  inner.label("x").pointer(static_cast<uint16_t>(start));
  inner.rr_fixed(kSrv).u16(0).u16(0).u16(995).name("h").end_rdata();
  EXPECT_THAT(refusal(inner), HasSubstr("pointer"));

  // Two names pointing at each other: the first points forwards.
  Message pair;
  pair.header(1).question(kQname);
  size_t a = pair.bytes.size();
  pair.pointer(static_cast<uint16_t>(a + 2 + 10 + 6));
  pair.rr_fixed(kSrv).u16(0).u16(0).u16(995).pointer(static_cast<uint16_t>(a)).end_rdata();
  EXPECT_THAT(refusal(pair), HasSubstr("pointer"));

  // A forward pointer to a perfectly good name later in the message.
  Message forward;
  forward.header(1).question(kQname);
  forward.pointer(12).rr_fixed(kSrv).u16(0).u16(0).u16(995);
  forward.pointer(static_cast<uint16_t>(forward.bytes.size() + 2));
  forward.end_rdata();
  forward.name("h");
  EXPECT_THAT(refusal(forward), HasSubstr("pointer"));

  // A pointer beyond the end of the message (and so forwards).
  Message beyond;
  beyond.header(1).question(kQname).pointer(0x3FFF);
  EXPECT_FALSE(parse_srv_answer(beyond.span(), kQname).is_ok());
}

TEST(ParseSrvAnswerTest, EveryTruncationIsRefused) {
  Message m;
  m.header(2).question(kQname).srv(0, 1, 995, "a.example.test").srv(1, 1, 110, "b.example.test");
  ASSERT_EQ(parse_ok(m).size(), 2u);
  for (size_t length = 0; length < m.bytes.size(); ++length) {
    auto records = parse_srv_answer(m.span().first(length), kQname);
    EXPECT_FALSE(records.is_ok()) << "accepted " << length << " of " << m.bytes.size() << " octets";
  }
}

TEST(ParseSrvAnswerTest, RdlengthThatDisagreesWithTheRecordIsRefused) {
  auto with_rdlength = [](uint16_t rdlength) {
    Message m;
    m.header(1).question(kQname).srv(0, 0, 995, "mail.example.test");
    size_t at = m.bytes.size() - (6 + 1 + 4 + 1 + 7 + 1 + 4 + 1) - 2;
    m.bytes[at] = static_cast<uint8_t>(rdlength >> 8);
    m.bytes[at + 1] = static_cast<uint8_t>(rdlength);
    return m;
  };
  const uint16_t honest = 6 + 19;
  EXPECT_EQ(parse_ok(with_rdlength(honest)).size(), 1u);
  EXPECT_THAT(refusal(with_rdlength(honest - 1)), HasSubstr("RDLENGTH"));
  EXPECT_THAT(refusal(with_rdlength(honest + 1)), HasSubstr("past the end"));
  EXPECT_THAT(refusal(with_rdlength(4)), HasSubstr("too short"));
  EXPECT_THAT(refusal(with_rdlength(0xFFFF)), HasSubstr("past the end"));

  // Room to spare inside the message: the RDATA holds more than one target.
  Message extra;
  extra.header(1).question(kQname);
  extra.pointer(12).rr_fixed(kSrv).u16(0).u16(0).u16(995).name("h").u8(0xAB).end_rdata();
  EXPECT_THAT(refusal(extra), HasSubstr("RDLENGTH"));
}

TEST(ParseSrvAnswerTest, HeaderAndQuestionMustBeThoseOfOurQuery) {
  Message query;
  query.u16(7).u16(0x0100).u16(1).u16(0).u16(0).u16(0).question(kQname);
  EXPECT_THAT(refusal(query), HasSubstr("query"));

  Message notify;  // opcode NOTIFY (4)
  notify.u16(7).u16(0x8000 | (4 << 11)).u16(1).u16(0).u16(0).u16(0).question(kQname);
  EXPECT_THAT(refusal(notify), HasSubstr("standard query"));

  Message no_question;
  no_question.header(0, 0);
  EXPECT_THAT(refusal(no_question), HasSubstr("question"));

  Message other_name;
  other_name.header(1).question("_pop3._tcp.example.test").srv(0, 0, 110, "h");
  EXPECT_THAT(refusal(other_name), HasSubstr("another question"));

  Message other_type;
  other_type.header(0).question(kQname, 1);
  EXPECT_THAT(refusal(other_type), HasSubstr("another question"));

  EXPECT_THAT(refusal(Message().header(0).question(kQname), "a..b"), HasSubstr("query name"));
}

TEST(ParseSrvAnswerTest, TargetThatIsNotAHostNameIsRefused) {
  for (std::string_view bad : {std::string_view("bad host.test"), std::string_view("nul\0x", 5),
                               std::string_view("caf\xc3\xa9.test")}) {
    Message m;
    m.header(1).question(kQname);
    m.pointer(12).rr_fixed(kSrv).u16(0).u16(0).u16(995).label(bad).u8(0).end_rdata();
    EXPECT_THAT(refusal(m), HasSubstr("not a host name"));
  }
  Message dotted;  // one label holding a "."
  dotted.header(1).question(kQname);
  dotted.pointer(12).rr_fixed(kSrv).u16(0).u16(0).u16(995).label("a.b").u8(0).end_rdata();
  EXPECT_THAT(refusal(dotted), HasSubstr("not a host name"));
}

TEST(ParseSrvAnswerTest, OverlongNamesAndUnknownLabelTypesAreRefused) {
  Message m;
  m.header(1).question(kQname);
  m.pointer(12).rr_fixed(kSrv).u16(0).u16(0).u16(995);
  for (int i = 0; i < 5; ++i) {
    m.label(std::string(60, 'a'));
  }
  m.u8(0).end_rdata();
  EXPECT_THAT(refusal(m), HasSubstr("255"));

  Message extended;
  extended.header(1).question(kQname);
  extended.pointer(12).rr_fixed(kSrv).u16(0).u16(0).u16(995).u8(0x41).u8(0).u8(0).end_rdata();
  EXPECT_THAT(refusal(extended), HasSubstr("label type"));
}

// ---- ordering ----

// Plays back scripted draws and records every bound asked for.
struct ScriptedRandom {
  std::deque<uint32_t> draws;
  std::vector<uint32_t> bounds;
  RandomBelow function() {
    return [this](uint32_t bound) {
      bounds.push_back(bound);
      uint32_t v = draws.empty() ? 0 : draws.front();
      if (!draws.empty()) {
        draws.pop_front();
      }
      return v;
    };
  }
};

SrvEndpoint pops(std::string host, uint16_t port) {
  return {std::move(host), port, PopUrl::TlsMode::kImplicit};
}
SrvEndpoint stls(std::string host, uint16_t port) {
  return {std::move(host), port, PopUrl::TlsMode::kStartTls};
}

TEST(OrderSrvEndpointsTest, LowerPriorityFirstAcrossServicesAndPop3sFirstWhenEqual) {
  ScriptedRandom random;
  auto order = order_srv_endpoints({{20, 0, 995, "c"}, {0, 0, 995, "a"}},
                                   {{0, 0, 110, "b"}, {10, 0, 110, "d"}}, random.function());
  EXPECT_THAT(order, ElementsAre(pops("a", 995), stls("b", 110), stls("d", 110), pops("c", 995)));
  EXPECT_TRUE(random.bounds.empty());  // weights 0: nothing to choose
}

TEST(OrderSrvEndpointsTest, DotTargetsAndPortZeroAreDropped) {
  ScriptedRandom random;
  EXPECT_TRUE(order_srv_endpoints({{0, 0, 0, ""}}, {{0, 0, 0, ""}}, random.function()).empty());
  EXPECT_THAT(order_srv_endpoints({{0, 0, 0, ""}}, {{5, 0, 110, "m"}}, random.function()),
              ElementsAre(stls("m", 110)));
  EXPECT_THAT(order_srv_endpoints({{0, 0, 0, "m"}, {1, 0, 995, "n"}}, {}, random.function()),
              ElementsAre(pops("n", 995)));
}

TEST(OrderSrvEndpointsTest, WeightsChooseByRunningSumWithWeightZeroFirst) {
  // Arranged as z(0), a(10), c(30): S = 40 + 1 (a weight-0 record remains), draws in [0, 40].
  std::vector<SrvRecord> records{{0, 10, 995, "a"}, {0, 0, 995, "z"}, {0, 30, 995, "c"}};
  auto order_with = [&](std::deque<uint32_t> draws) {
    ScriptedRandom random{std::move(draws), {}};
    auto order = order_srv_endpoints(records, {}, random.function());
    return std::make_pair(order, random.bounds);
  };
  // 11 > 10: c first; then z(0), a(10) with S = 11: 0 picks z; then a alone.
  auto [order, bounds] = order_with({11, 0});
  EXPECT_THAT(order, ElementsAre(pops("c", 995), pops("z", 995), pops("a", 995)));
  EXPECT_THAT(bounds, ElementsAre(41u, 11u));
  // 0: the weight-0 record first; then a(10), c(30) without weight 0: draws 1 + [0, 40).
  std::tie(order, bounds) = order_with({0, 9});
  EXPECT_THAT(order, ElementsAre(pops("z", 995), pops("a", 995), pops("c", 995)));
  EXPECT_THAT(bounds, ElementsAre(41u, 40u));
  std::tie(order, bounds) = order_with({10, 10});
  EXPECT_THAT(order, ElementsAre(pops("a", 995), pops("c", 995), pops("z", 995)));
  EXPECT_THAT(bounds, ElementsAre(41u, 31u));
}

TEST(OrderSrvEndpointsTest, EveryDrawGivesEachRecordItsShare) {
  // Weights 1 and 3 without weight 0: of the 4 possible draws, 1 picks a and 3 pick b.
  std::map<std::string, int> first;
  for (uint32_t draw = 0; draw < 4; ++draw) {
    ScriptedRandom random{{draw}, {}};
    auto order = order_srv_endpoints({{0, 1, 995, "a"}, {0, 3, 995, "b"}}, {}, random.function());
    ASSERT_EQ(order.size(), 2u);
    ++first[order[0].host];
    EXPECT_THAT(random.bounds, ElementsAre(4u));
  }
  EXPECT_EQ(first["a"], 1);
  EXPECT_EQ(first["b"], 3);
}

TEST(OrderSrvEndpointsTest, AnOutOfRangeDrawIsClampedNotTrusted) {
  ScriptedRandom random{{1000000}, {}};
  auto order = order_srv_endpoints({{0, 1, 995, "a"}, {0, 1, 995, "b"}}, {}, random.function());
  EXPECT_THAT(order, ElementsAre(pops("b", 995), pops("a", 995)));
}

TEST(OrderSrvEndpointsTest, EqualPriorityWeightsStayWithinTheirService) {
  ScriptedRandom random{{0, 0}, {}};
  auto order = order_srv_endpoints({{0, 1, 995, "s1"}, {0, 1, 995, "s2"}},
                                   {{0, 50, 110, "p1"}, {0, 50, 110, "p2"}}, random.function());
  EXPECT_THAT(order,
              ElementsAre(pops("s1", 995), pops("s2", 995), stls("p1", 110), stls("p2", 110)));
  EXPECT_THAT(random.bounds, ElementsAre(2u, 100u));
}

// ---- discovery against a DNS responder ----

// A DNS server on 127.0.0.1 (UDP, a free port, a thread) that answers SRV queries from a table;
// NXDOMAIN for names not in it.
class DnsResponder {
 public:
  struct Answer {
    enum class Kind { kRecords, kServFail, kRefused, kSilent };
    Kind kind = Kind::kRecords;
    std::vector<SrvRecord> records;  // a target may be anything, to send garbage
  };

  explicit DnsResponder(std::map<std::string, Answer> zone) : zone_(std::move(zone)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    socklen_t length = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length);
    port_ = ntohs(a.sin_port);
    if (ok_) {
      thread_ = std::thread([this] { serve(); });
    }
  }
  ~DnsResponder() {
    stop_ = true;
    // Wake the blocked recvfrom with one datagram to ourselves.
    int waker = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port_);
    ::sendto(waker, "", 0, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::close(waker);
    if (thread_.joinable()) {
      thread_.join();
    }
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  DnsOptions options(std::chrono::milliseconds timeout = std::chrono::seconds(2)) const {
    return DnsOptions{"127.0.0.1:" + std::to_string(port_), timeout};
  }
  int queries() const { return queries_; }

 private:
  void serve() {
    for (;;) {
      uint8_t query[512];
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      ssize_t n =
          ::recvfrom(fd_, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
      if (stop_) {
        return;
      }
      if (n < 12) {
        continue;
      }
      ++queries_;
      // The question: uncompressed labels from offset 12, then QTYPE and QCLASS.
      size_t pos = 12;
      std::string qname;
      while (pos < static_cast<size_t>(n) && query[pos] != 0) {
        size_t length = query[pos];
        if (!qname.empty()) {
          qname += '.';
        }
        for (size_t i = 1; i <= length && pos + i < static_cast<size_t>(n); ++i) {
          qname += static_cast<char>(std::tolower(query[pos + i]));
        }
        pos += 1 + length;
      }
      size_t question_end = std::min(pos + 5, static_cast<size_t>(n));
      auto found = zone_.find(qname);
      Message reply;
      uint8_t rcode = 0;
      if (found == zone_.end()) {
        rcode = 3;  // NXDOMAIN
      } else if (found->second.kind == Answer::Kind::kSilent) {
        continue;
      } else if (found->second.kind == Answer::Kind::kServFail) {
        rcode = 2;
      } else if (found->second.kind == Answer::Kind::kRefused) {
        rcode = 5;
      }
      size_t answers = rcode == 0 ? found->second.records.size() : 0;
      reply.header(static_cast<uint16_t>(answers), 1, rcode,
                   static_cast<uint16_t>((query[0] << 8) | query[1]));
      reply.bytes.insert(reply.bytes.end(), query + 12, query + question_end);
      for (size_t i = 0; i < answers; ++i) {
        const SrvRecord& r = found->second.records[i];
        reply.srv(r.priority, r.weight, r.port, r.target);
      }
      ::sendto(fd_, reply.bytes.data(), reply.bytes.size(), 0, reinterpret_cast<sockaddr*>(&from),
               from_length);
    }
  }

  std::map<std::string, Answer> zone_;
  int fd_ = -1;
  bool ok_ = false;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

using Kind = DnsResponder::Answer::Kind;
const std::string kPop3s = "_pop3s._tcp.example.test";
const std::string kPop3 = "_pop3._tcp.example.test";

TEST(DiscoverPopServersTest, BothServicesInPriorityOrder) {
  DnsResponder dns({{kPop3s, {Kind::kRecords, {{10, 0, 995, "pops.example.test"}}}},
                    {kPop3, {Kind::kRecords, {{0, 0, 110, "pop.example.test"}}}}});
  ASSERT_TRUE(dns.ok());
  auto found = discover_pop_servers("Example.TEST.", dns.options());
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_THAT(*found, ElementsAre(stls("pop.example.test", 110), pops("pops.example.test", 995)));
  EXPECT_EQ(dns.queries(), 2);
}

TEST(DiscoverPopServersTest, OnlyOneService) {
  DnsResponder dns({{kPop3, {Kind::kRecords, {{0, 0, 110, "pop.example.test"}}}}});
  auto found = discover_pop_servers("example.test", dns.options());
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_THAT(*found, ElementsAre(stls("pop.example.test", 110)));

  DnsResponder only_pops(
      {{kPop3s, {Kind::kRecords, {{0, 0, 995, "a.test"}, {1, 0, 995, "b.test"}}}},
       {kPop3, {Kind::kRecords, {}}}});
  found = discover_pop_servers("example.test", only_pops.options());
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_THAT(*found, ElementsAre(pops("a.test", 995), pops("b.test", 995)));
}

TEST(DiscoverPopServersTest, NeitherServiceIsNotFound) {
  DnsResponder dns({});  // NXDOMAIN for both
  auto found = discover_pop_servers("example.test", dns.options());
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(found.status().message(), "no _pop3s._tcp or _pop3._tcp SRV record for example.test");

  DnsResponder nodata({{kPop3s, {Kind::kRecords, {}}}, {kPop3, {Kind::kRecords, {}}}});
  found = discover_pop_servers("example.test", nodata.options());
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kNotFound);
}

TEST(DiscoverPopServersTest, DotTargetMeansTheServiceIsNotOffered) {
  DnsResponder both(
      {{kPop3s, {Kind::kRecords, {{0, 0, 0, ""}}}}, {kPop3, {Kind::kRecords, {{0, 0, 0, ""}}}}});
  auto found = discover_pop_servers("example.test", both.options());
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(found.status().message(), "example.test offers no POP3 service");

  DnsResponder dot_and_nothing({{kPop3s, {Kind::kRecords, {{0, 0, 0, ""}}}}});
  found = discover_pop_servers("example.test", dot_and_nothing.options());
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kUnavailable);

  DnsResponder dot_and_pop3({{kPop3s, {Kind::kRecords, {{0, 0, 0, ""}}}},
                             {kPop3, {Kind::kRecords, {{10, 0, 110, "pop.example.test"}}}}});
  found = discover_pop_servers("example.test", dot_and_pop3.options());
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_THAT(*found, ElementsAre(stls("pop.example.test", 110)));
}

TEST(DiscoverPopServersTest, ServerFailureIsTemporary) {
  DnsResponder dns({{kPop3s, {Kind::kServFail, {}}}});
  auto found = discover_pop_servers("example.test", dns.options());
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kTemporary);
  EXPECT_THAT(found.status().message(), HasSubstr("_pop3s._tcp.example.test"));

  DnsResponder refused(
      {{kPop3s, {Kind::kRecords, {{0, 0, 995, "a.test"}}}}, {kPop3, {Kind::kRefused, {}}}});
  found = discover_pop_servers("example.test", refused.options());
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kTemporary);
  EXPECT_THAT(found.status().message(), HasSubstr("_pop3._tcp.example.test"));
}

TEST(DiscoverPopServersTest, SilentServerTimesOut) {
  DnsResponder dns({{kPop3s, {Kind::kSilent, {}}}});
  auto started = std::chrono::steady_clock::now();
  auto found = discover_pop_servers("example.test", dns.options(std::chrono::milliseconds(1000)));
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kTemporary);
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST(DiscoverPopServersTest, MalformedAnswerIsTemporary) {
  DnsResponder dns({{kPop3s, {Kind::kRecords, {{0, 0, 995, "bad host"}}}}});
  auto found = discover_pop_servers("example.test", dns.options());
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kTemporary);
  EXPECT_THAT(found.status().message(), HasSubstr("malformed DNS answer"));
}

TEST(DiscoverPopServersTest, NoServerListeningIsTemporary) {
  uint16_t port = 0;
  {
    DnsResponder gone({});
    port = static_cast<uint16_t>(std::stoi(gone.options().nameserver.substr(10)));
  }
  auto found = discover_pop_servers(
      "example.test", DnsOptions{"127.0.0.1:" + std::to_string(port), std::chrono::seconds(1)});
  ASSERT_FALSE(found.is_ok());
  EXPECT_EQ(found.status().code(), ErrorCode::kTemporary);
}

TEST(DiscoverPopServersTest, DomainThatIsNotADnsNameIsRefusedWithoutALookup) {
  DnsResponder dns({});
  for (std::string_view bad : {"", ".", "exa mple.test", "-a.test", "a-.test", "a..test",
                               "192.0.2.1", "[::1]", "a_b.test", "user@example.test"}) {
    auto found = discover_pop_servers(bad, dns.options());
    ASSERT_FALSE(found.is_ok()) << bad;
    EXPECT_EQ(found.status().code(), ErrorCode::kInvalidInput) << bad;
  }
  std::string long_label(64, 'a');
  EXPECT_FALSE(discover_pop_servers(long_label + ".test", dns.options()).is_ok());
  std::string long_name;
  for (int i = 0; i < 4; ++i) {
    long_name += std::string(59, 'a') + ".";
  }
  long_name += "test";  // 240 octets: fine alone, too long under _pop3s._tcp.
  auto found = discover_pop_servers(long_name, dns.options());
  EXPECT_EQ(found.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(dns.queries(), 0);
}

TEST(DiscoverPopServersTest, NameserverMustBeIpv4WithAnOptionalPort) {
  for (std::string bad :
       {"localhost:53", "127.0.0.1:0", "127.0.0.1:x", "127.0.0.1:65536", "::1", "127.0.0.1:"}) {
    auto found = discover_pop_servers("example.test", DnsOptions{bad, std::chrono::seconds(1)});
    ASSERT_FALSE(found.is_ok()) << bad;
    EXPECT_EQ(found.status().code(), ErrorCode::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace poplar::fetch
