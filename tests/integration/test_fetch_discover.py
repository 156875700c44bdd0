"""`poplar fetch --discover` (RFC 6186) against a real `poplar serve`, with the SRV records served
by dns_stub.py on loopback (POPLAR_DNS_SERVER, a test hook). The URL's host, example.test, is the
mail domain; the SRV targets point at localhost. Checked: mail arrives over _pop3s (implicit TLS)
and over _pop3 (STLS); the targets are tried in priority order and a dead one is passed over;
the certificate must name the source domain, not the SRV target (R6186-4-a, R7817-a: a server
whose certificate names only the target fails with 76); "." for every service is exit 69, no
records exit 78, a DNS failure exit 75, each with a clear message."""

import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from dns_stub import DnsStub
from harness import MSG_CRLF, MSG_LF_DOTS, POPLAR_BIN, require
from test_tls import TlsServer

DOMAIN = "example.test"
POP3S = "_pop3s._tcp." + DOMAIN
POP3 = "_pop3._tcp." + DOMAIN


def write_certificate(cert_path, key_path, names):
    """A self-signed EC P-256 certificate whose subjectAltName holds exactly `names` (DNS)."""
    require("openssl")
    san = ",".join("DNS:" + n for n in names)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-keyout", key_path,
                    "-out", cert_path, "-subj", "/CN=" + names[0], "-addext",
                    "subjectAltName=" + san],
                   check=True, capture_output=True, timeout=60)


def closed_port():
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DiscoverCase(unittest.TestCase):
    # The names the server's certificate carries; None: the harness's (localhost, 127.0.0.1).
    CERT_NAMES = [DOMAIN]

    @classmethod
    def setUpClass(cls):
        cls.server = TlsServer(mailboxes={"alice": [MSG_CRLF, MSG_LF_DOTS]})
        if cls.CERT_NAMES:
            write_certificate(cls.server.cert, cls.server.key, cls.CERT_NAMES)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poplar-discover-")
        self.password_file = os.path.join(self.dir, "password")
        with open(self.password_file, "w") as f:
            f.write("secret\n")
        self.dns = DnsStub().start()

    def tearDown(self):
        self.dns.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def fetch(self, box="Mail"):
        cmd = [POPLAR_BIN, "fetch", "pop://alice@" + DOMAIN, "--discover", "--to",
               "maildir:" + os.path.join(self.dir, box), "--password-file", self.password_file,
               "--state", os.path.join(self.dir, "state-" + box), "--ca-file", self.server.cert,
               "--timeout", "30"]
        env = dict(os.environ, POPLAR_DNS_SERVER=self.dns.address)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)

    def fetched(self, box="Mail"):
        new = os.path.join(self.dir, box, "new")
        return os.listdir(new) if os.path.isdir(new) else []


class DiscoverTest(DiscoverCase):
    def test_pop3s_record_leads_to_the_server_and_mail_arrives(self):
        # The certificate names only example.test: the check used the source domain.
        self.dns.set(POP3S, [(0, 1, self.server.tls_port, "localhost")])
        result = self.fetch()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(self.fetched()), 2)
        self.assertIn((POP3S, 33), self.dns.queries)

    def test_pop3_record_means_stls(self):
        self.dns.set(POP3, [(0, 0, self.server.stls_port, "localhost")])
        result = self.fetch()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(self.fetched()), 2)

    def test_targets_are_tried_in_priority_order_past_a_dead_one(self):
        # _pop3s at priority 0 answers nothing; _pop3 at priority 10 is the server (STLS).
        self.dns.set(POP3S, [(0, 0, closed_port(), "localhost")])
        self.dns.set(POP3, [(10, 0, self.server.stls_port, "localhost")])
        result = self.fetch()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(self.fetched()), 2)

    def test_dot_for_every_service_is_unavailable(self):
        self.dns.set(POP3S, [(0, 0, 0, ".")])
        self.dns.set(POP3, [(0, 0, 0, ".")])
        result = self.fetch()
        self.assertEqual(result.returncode, 69, result.stderr)
        self.assertIn("example.test offers no POP3 service", result.stderr)
        self.assertEqual(self.fetched(), [])

    def test_dot_for_one_service_leaves_the_other(self):
        self.dns.set(POP3S, [(0, 0, 0, ".")])
        self.dns.set(POP3, [(5, 0, self.server.stls_port, "localhost")])
        result = self.fetch()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(self.fetched()), 2)

    def test_no_records_is_a_configuration_error(self):
        result = self.fetch()  # NXDOMAIN for both names
        self.assertEqual(result.returncode, 78, result.stderr)
        self.assertIn("no _pop3s._tcp or _pop3._tcp SRV record for example.test", result.stderr)
        self.assertEqual(sorted(n for n, _ in self.dns.queries), [POP3, POP3S])

    def test_dns_failure_is_temporary(self):
        self.dns.set(POP3S, DnsStub.SERVFAIL)
        result = self.fetch()
        self.assertEqual(result.returncode, 75, result.stderr)
        self.assertIn(POP3S, result.stderr)
        self.assertEqual(self.fetched(), [])


class DiscoverCertificateTest(DiscoverCase):
    # The server's certificate names the SRV target (localhost), not the mail domain.
    CERT_NAMES = None

    def test_certificate_must_name_the_source_domain_not_the_srv_target(self):
        self.dns.set(POP3S, [(0, 1, self.server.tls_port, "localhost")])
        result = self.fetch()
        self.assertEqual(result.returncode, 76, result.stderr)
        self.assertIn("certificate of example.test", result.stderr)
        self.assertIn("hostname mismatch", result.stderr)
        self.assertEqual(self.fetched(), [])


if __name__ == "__main__":
    unittest.main()
