// Tests of the POP URL parser: the RFC 2384 §4 examples, every refusal with its message, and
// the round trip through the canonical form.
#include "fetch/pop_url.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace poplar::fetch {
namespace {

PopUrl parse_ok(std::string_view text) {
  auto url = parse_pop_url(text);
  EXPECT_TRUE(url.is_ok()) << text << ": " << url.status().to_string();
  return url.is_ok() ? *url : PopUrl{};
}

std::string refusal(std::string_view text) {
  auto url = parse_pop_url(text);
  EXPECT_FALSE(url.is_ok()) << text << " was accepted as " << (url.is_ok() ? to_string(*url) : "");
  if (url.is_ok()) {
    return "";
  }
  EXPECT_EQ(url.status().code(), ErrorCode::kInvalidInput);
  return url.status().message();
}

TEST(PopUrlTest, Rfc2384Section4Examples) {
  PopUrl a = parse_ok("pop://rg@mailsrv.qualcomm.com");
  EXPECT_EQ(a.tls, PopUrl::TlsMode::kStartTls);
  EXPECT_EQ(a.user, "rg");
  EXPECT_EQ(a.auth.kind, AuthChoice::Kind::kAny);
  EXPECT_EQ(a.host, "mailsrv.qualcomm.com");
  EXPECT_EQ(a.port, 110);
  EXPECT_FALSE(a.host_is_ipv6);

  PopUrl b = parse_ok("pop://rg;AUTH=+APOP@mail.eudora.com:8110");
  EXPECT_EQ(b.user, "rg");
  EXPECT_EQ(b.auth.kind, AuthChoice::Kind::kApop);
  EXPECT_EQ(b.host, "mail.eudora.com");
  EXPECT_EQ(b.port, 8110);

  PopUrl c = parse_ok("pop://baz;AUTH=SCRAM-MD5@foo.bar");
  EXPECT_EQ(c.user, "baz");
  EXPECT_EQ(c.auth.kind, AuthChoice::Kind::kMechanism);
  EXPECT_EQ(c.auth.mechanism, "SCRAM-MD5");
  EXPECT_EQ(c.host, "foo.bar");
}

TEST(PopUrlTest, PopsIsImplicitTlsOnPort995) {
  PopUrl u = parse_ok("pops://bob@example.org");
  EXPECT_EQ(u.tls, PopUrl::TlsMode::kImplicit);
  EXPECT_EQ(u.port, 995);
  EXPECT_EQ(to_string(u), "pops://bob@example.org");
  EXPECT_EQ(parse_ok("POP3S://bob@Example.ORG/"), u);
  EXPECT_EQ(parse_ok("pop3://bob@example.org").tls, PopUrl::TlsMode::kStartTls);
  EXPECT_EQ(to_string(parse_ok("pops://bob@example.org:110")), "pops://bob@example.org:110");
}

TEST(PopUrlTest, NoUserMeansTheUserComesFromElsewhere) {
  PopUrl u = parse_ok("pop://mail.example.com:1100/");
  EXPECT_EQ(u.user, "");
  EXPECT_EQ(u.port, 1100);
  EXPECT_EQ(to_string(u), "pop://mail.example.com:1100");
  PopUrl v = parse_ok("pop://;auth=cram-md5@mail.example.com");
  EXPECT_EQ(v.user, "");
  EXPECT_EQ(v.auth.mechanism, "CRAM-MD5");
  EXPECT_EQ(to_string(v), "pop://;AUTH=CRAM-MD5@mail.example.com");
}

TEST(PopUrlTest, AuthIsCaseInsensitiveAndStarMeansAny) {
  EXPECT_EQ(parse_ok("pop://u;auth=*@h").auth.kind, AuthChoice::Kind::kAny);
  EXPECT_EQ(parse_ok("pop://u;Auth=+apop@h").auth.kind, AuthChoice::Kind::kApop);
  PopUrl u = parse_ok("pop://u;AUTH=scram-sha-256-plus@h");
  EXPECT_EQ(u.auth.mechanism, "SCRAM-SHA-256-PLUS");
  EXPECT_EQ(parse_ok("pop://u;AUTH=X_Y-1@h").auth.mechanism, "X_Y-1");
  EXPECT_EQ(to_string(parse_ok("pop://u;AUTH=*@h")), "pop://u@h");
}

TEST(PopUrlTest, UserIsPercentDecoded) {
  PopUrl u = parse_ok("pop://fred%40example.com@mail.example.com");
  EXPECT_EQ(u.user, "fred@example.com");
  EXPECT_EQ(to_string(u), "pop://fred%40example.com@mail.example.com");
  EXPECT_EQ(parse_ok("pop://a%3bb%3Ac%2Fd%25e@h").user, "a;b:c/d%e");
  EXPECT_EQ(parse_ok("pop://j%C3%BCrgen@h").user, "j\xc3\xbcrgen");
  EXPECT_EQ(parse_ok("pop://a.b-c_d+e!f*g'h(i)j,k$l&m=n~o@h").user,
            "a.b-c_d+e!f*g'h(i)j,k$l&m=n~o");
}

TEST(PopUrlTest, HostsAreLowerCasedAndIpLiteralsAccepted) {
  EXPECT_EQ(parse_ok("pop://u@MAIL.Example.COM").host, "mail.example.com");
  PopUrl v4 = parse_ok("pop://u@192.0.2.7:2110");
  EXPECT_EQ(v4.host, "192.0.2.7");
  EXPECT_FALSE(v4.host_is_ipv6);
  PopUrl v6 = parse_ok("pops://u@[2001:DB8:0:0:0:0:0:1]:9950/");
  EXPECT_TRUE(v6.host_is_ipv6);
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(v6.port, 9950);
  EXPECT_EQ(to_string(v6), "pops://u@[2001:db8::1]:9950");
  EXPECT_EQ(parse_ok("pop://[::1]").host, "::1");
  EXPECT_EQ(parse_ok("pop://u@localhost").host, "localhost");
  EXPECT_EQ(parse_ok("pop://u@xn--bcher-kva.example").host, "xn--bcher-kva.example");
  EXPECT_EQ(parse_ok("pop://u@h:65535").port, 65535);
  EXPECT_EQ(parse_ok("pop://u@h:00110").port, 110);
}

struct Refusal {
  const char* url;
  const char* message_part;
};

TEST(PopUrlTest, RefusesWithAClearMessage) {
  const std::vector<Refusal> cases = {
      {"imap://u@h", "scheme must be pop://"},
      {"mail.example.com", "does not start with pop://"},
      {"pop://u@h/INBOX", "nothing may follow"},
      {"pop://u@h//", "nothing may follow"},
      {"pop://u@h?x=1", "nothing may follow"},
      {"pop://u@h#frag", "nothing may follow"},
      {"pop://@h", "empty user name"},
      {"pop://u;AUTH=@h", ";AUTH= needs a value"},
      {"pop://u;USER=x@h", "only ;AUTH=<type>"},
      {"pop://u;AUTH=PLAIN;AUTH=LOGIN@h", "only one ;AUTH="},
      {"pop://u;AUTH=+KERBEROS@h", "unknown '+' extension"},
      {"pop://u;AUTH=NOT.A.MECH@h", "not a SASL mechanism name"},
      {"pop://u;AUTH=ABCDEFGHIJKLMNOPQRSTU@h", "not a SASL mechanism name"},
      {"pop://fred@example.com@h", "literal '@': write it as %40"},
      {"pop://u%0D%0AQUIT@h", "encoded control character"},
      {"pop://u%00@h", "encoded control character"},
      {"pop://u%7f@h", "encoded control character"},
      {"pop://u%4@h", "two hex digits"},
      {"pop://u%@h", "two hex digits"},
      {"pop://u%zz@h", "two hex digits"},
      {"pop://u%C3@h", "not UTF-8"},
      {"pop://u%C0%AF@h", "not UTF-8"},
      {"pop://u\xc3\xbc@h", "must be %-encoded"},
      {"pop://u v@h", "must be %-encoded"},
      {"pop://u@", "no host name"},
      {"pop://u@h:", "port is not a number"},
      {"pop://u@h:0", "between 1 and 65535"},
      {"pop://u@h:65536", "between 1 and 65535"},
      {"pop://u@h:123456", "port is not a number"},
      {"pop://u@h:+1", "port is not a number"},
      {"pop://u@h:1:2", "must be written in brackets"},
      {"pop://u@h:1a", "port is not a number"},
      {"pop://u@a..b", "empty label"},
      {"pop://u@a.b.", "empty label"},
      {"pop://u@-a.b", "starts or ends with '-'"},
      {"pop://u@a_b.c", "other than letters"},
      {"pop://u@b\xc3\xbc"
       "cher.example",
       "A-label"},
      {"pop://u@h%41", "may not be %-encoded"},
      {"pop://u@300.1.2.3", "not a valid dotted quad"},
      {"pop://u@1.2.3", "not a valid dotted quad"},
      {"pop://u@[::1", "no closing ']'"},
      {"pop://u@[fe80::1%25eth0]", "zone ids"},
      {"pop://u@[not:an:address]", "not an IPv6 address"},
      {"pop://u@[]", "not an IPv6 address"},
      {"pop://u@[::1]x", "only ':port' may follow"},
      {"pop://u@::1", "must be written in brackets"},
      {"pop://u@h]", "']' without a '['"},
  };
  for (const auto& c : cases) {
    std::string message = refusal(c.url);
    EXPECT_NE(message.find(c.message_part), std::string::npos)
        << c.url << " gave: " << message << "\nexpected: " << c.message_part;
    EXPECT_TRUE(message.starts_with("POP URL: ")) << message;
  }
  EXPECT_NE(refusal(std::string(kMaxPopUrlLength + 1, 'a')).find("longer than"), std::string::npos);
}

TEST(PopUrlTest, PasswordInTheUrlIsRefusedWithoutQuotingIt) {
  for (const char* url : {"pop://bob:s3cr3tpw@h", "pop://bob:s3cr3tpw;AUTH=PLAIN@h",
                          "pops://bob:s3cr3tpw@[::1]:995/"}) {
    std::string message = refusal(url);
    EXPECT_NE(message.find("--password-file or POPLAR_PASSWORD"), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cr3tpw"), std::string::npos) << message;
  }
}

TEST(PopUrlTest, CanonicalFormRoundTrips) {
  const std::vector<std::string> urls = {
      "pop://rg@mailsrv.qualcomm.com",
      "pop://rg;AUTH=+APOP@mail.eudora.com:8110",
      "POP://Baz;auth=scram-md5@FOO.bar/",
      "pops://a%25b%20c%3Bd%3Ae%2F@[2001:db8::a:1]:1",
      "pop3s://j%C3%BCrgen;AUTH=*@192.0.2.1:995",
      "pop://;AUTH=+APOP@h",
      "pop://h",
      "pops://%F0%9F%93%AC@h.example:110",
  };
  for (const auto& text : urls) {
    PopUrl first = parse_ok(text);
    std::string canonical = to_string(first);
    PopUrl second = parse_ok(canonical);
    EXPECT_EQ(first, second) << text << " -> " << canonical;
    EXPECT_EQ(to_string(second), canonical);
  }
}

}  // namespace
}  // namespace poplar::fetch
