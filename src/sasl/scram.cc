// SCRAM-SHA-1/-256 (+PLUS) server and client (RFC 5802, RFC 7677). See scram.h.
// Never logs; wipes keys and salted passwords when done with them.
#include "sasl/scram.h"

#include <utility>
#include <vector>

#include "base/base64.h"
#include "base/strict_number.h"
#include "sasl/crypto.h"
#include "sasl/saslprep.h"
#include "sasl/steps.h"

namespace poplar::sasl {
namespace {

using internal::challenge;
using internal::Digest;
using internal::failure;

constexpr size_t kMaxNameOctets = 1024;
constexpr size_t kMaxNonceOctets = 1024;
constexpr std::string_view kTlsExporter = "tls-exporter";
constexpr std::string_view kTlsServerEndPoint = "tls-server-end-point";

void wipe(std::string& s) {
  if (!s.empty()) {
    secure_wipe(s.data(), s.size());
  }
  s.clear();
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
}

// RFC 5802 §7: attr-val = ALPHA "=" value.
bool is_attr(std::string_view field, char name) {
  return field.size() >= 2 && field[0] == name && field[1] == '=';
}

bool is_extension(std::string_view field) {
  return field.size() >= 2 &&
         ((field[0] >= 'a' && field[0] <= 'z') || (field[0] >= 'A' && field[0] <= 'Z')) &&
         field[1] == '=';
}

// RFC 5802 §7: printable = %x21-2B / %x2D-7E (no ',').
bool is_valid_nonce(std::string_view nonce) {
  if (nonce.empty() || nonce.size() > kMaxNonceOctets) {
    return false;
  }
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') {
      return false;
    }
  }
  return true;
}

// RFC 5802 §5.1: ',' and '=' travel as "=2C" and "=3D"; any other '=' escape MUST fail.
std::optional<std::string> decode_saslname(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\0') {
      return std::nullopt;
    }
    if (c != '=') {
      out += c;
      continue;
    }
    std::string_view escape = text.substr(i + 1, 2);
    if (escape == "2C") {
      out += ',';
    } else if (escape == "3D") {
      out += '=';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

std::string encode_saslname(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

std::string fresh_nonce(Random& random) {
  std::string bytes(kScramNonceRandomBytes, '\0');
  random.fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
  return base64_encode(bytes);
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    out[i] = static_cast<char>(a[i] ^ b[i]);
  }
  return out;
}

// The channel-binding data of `type` on this connection; "" when unknown or unavailable.
std::string_view binding_data(const ChannelBindings& bindings, std::string_view type) {
  if (!bindings.tls_active) {
    return {};
  }
  if (type == kTlsExporter) {
    return bindings.tls_exporter;
  }
  if (type == kTlsServerEndPoint) {
    return bindings.tls_server_end_point;
  }
  return {};
}

// ClientKey, StoredKey and ServerKey of RFC 5802 §3, from the password. Wiped on destruction.
struct Keys {
  std::string client_key;
  std::string stored_key;
  std::string server_key;
  ~Keys() {
    wipe(client_key);
    wipe(stored_key);
    wipe(server_key);
  }
};

// nullopt only when OpenSSL fails; the caller checks salt and iterations first.
std::optional<Keys> derive_keys(ScramHash hash, const Secret& password, std::string_view salt,
                                uint32_t iterations) {
  Digest digest = internal::digest_for(hash);
  Secret normalized = scram_normalize_password(password);
  // SaltedPassword = Hi(Normalize(password), salt, i)
  std::optional<std::string> salted = internal::pbkdf2(digest, normalized.view(), salt, iterations);
  if (!salted) {
    return std::nullopt;
  }
  std::optional<Keys> keys(std::in_place);
  std::optional<std::string> client_key = internal::hmac(digest, *salted, "Client Key");
  std::optional<std::string> server_key = internal::hmac(digest, *salted, "Server Key");
  wipe(*salted);
  if (!client_key || !server_key) {
    return std::nullopt;
  }
  keys->client_key = std::move(*client_key);
  keys->server_key = std::move(*server_key);
  std::optional<std::string> stored_key = internal::hash(digest, keys->client_key);
  if (!stored_key) {
    return std::nullopt;
  }
  keys->stored_key = std::move(*stored_key);
  return keys;
}

class ScramServer final : public ServerMechanism {
 public:
  ScramServer(ScramHash hash, bool plus, const ServerContext& context, std::string fixed_nonce)
      : hash_(hash),
        plus_(plus),
        plus_advertised_(context.plus_advertised),
        bindings_(context.bindings),
        random_(context.random != nullptr ? context.random : &SystemRandom::instance()),
        fixed_nonce_(std::move(fixed_nonce)) {}

  ~ScramServer() override { forget_keys(); }

  std::string_view name() const override { return scram_mechanism_name(hash_, plus_); }

  ServerStep start(std::optional<std::string_view> initial_response) override {
    if (!initial_response) {
      // Client-first mechanism without an initial response: empty challenge (RFC 5034 §4).
      state_ = State::kAwaitClientFirst;
      return challenge("");
    }
    return client_first(*initial_response);
  }

  ServerStep step(std::string_view response) override {
    switch (state_) {
      case State::kAwaitClientFirst:
        return client_first(response);
      case State::kAwaitClientFinal:
        return client_final(response);
      default:
        break;
    }
    return fail("SCRAM: unexpected response");
  }

  ServerStep on_scram_credentials(Result<ScramCredentials> credentials) override {
    if (state_ != State::kAwaitLookup) {
      return fail("SCRAM: unexpected credentials");
    }
    if (!credentials) {
      return fail("SCRAM: credential lookup failed");
    }
    credentials_ = std::move(*credentials);
    size_t size = internal::digest_size(internal::digest_for(hash_));
    if (credentials_.hash != hash_ || credentials_.salt.empty() || credentials_.iterations == 0 ||
        credentials_.stored_key.size() != size || credentials_.server_key.size() != size) {
      return fail("SCRAM: unusable credentials");
    }
    nonce_ = client_nonce_ + (fixed_nonce_.empty() ? fresh_nonce(*random_) : fixed_nonce_);
    server_first_ = "r=" + nonce_ + ",s=" + base64_encode(credentials_.salt) +
                    ",i=" + std::to_string(credentials_.iterations);
    state_ = State::kAwaitClientFinal;
    return challenge(server_first_);
  }

 private:
  enum class State { kInitial, kAwaitClientFirst, kAwaitLookup, kAwaitClientFinal, kDone };

  ServerStep fail(std::string reason, std::string server_error = {}) {
    state_ = State::kDone;
    forget_keys();
    return failure(std::move(reason), server_error.empty() ? "" : "e=" + server_error);
  }

  void forget_keys() {
    wipe(credentials_.stored_key);
    wipe(credentials_.server_key);
  }

  // RFC 5802 §7: client-first-message = gs2-header client-first-message-bare.
  ServerStep client_first(std::string_view message) {
    state_ = State::kDone;
    size_t first_comma = message.find(',');
    size_t second_comma =
        first_comma == std::string_view::npos ? first_comma : message.find(',', first_comma + 1);
    if (second_comma == std::string_view::npos) {
      return fail("SCRAM: malformed gs2 header");
    }
    std::string_view flag = message.substr(0, first_comma);
    std::string_view authzid_field =
        message.substr(first_comma + 1, second_comma - first_comma - 1);
    gs2_header_ = std::string(message.substr(0, second_comma + 1));
    client_first_bare_ = std::string(message.substr(second_comma + 1));

    // Channel binding (RFC 5802 §6).
    if (flag.starts_with("p=")) {
      if (!plus_) {
        return fail("SCRAM: channel binding requested on a non-PLUS mechanism");
      }
      std::string_view type = flag.substr(2);
      std::string_view data = binding_data(bindings_, type);
      if (type != kTlsExporter && type != kTlsServerEndPoint) {
        return fail("SCRAM: unsupported channel binding type");
      }
      if (data.empty()) {
        return fail("SCRAM: channel binding data unavailable");
      }
      cb_data_ = std::string(data);
    } else if (flag == "y") {
      if (plus_) {
        return fail("SCRAM: -PLUS mechanism without channel binding");
      }
      // The client can bind but believes we cannot: if we advertised -PLUS, someone removed it
      // from our CAPA on the way (RFC 5802 §6, downgrade).
      if (plus_advertised_) {
        return fail("SCRAM: channel binding downgrade detected");
      }
    } else if (flag == "n") {
      if (plus_) {
        return fail("SCRAM: -PLUS mechanism without channel binding");
      }
    } else {
      return fail("SCRAM: malformed gs2 cbind flag");
    }

    std::optional<std::string> authzid;
    if (!authzid_field.empty()) {
      if (!is_attr(authzid_field, 'a')) {
        return fail("SCRAM: malformed authzid");
      }
      authzid = decode_saslname(authzid_field.substr(2));
      if (!authzid || authzid->empty()) {
        return fail("SCRAM: malformed authzid");
      }
    }

    std::vector<std::string_view> fields = split_commas(client_first_bare_);
    // RFC 5802 §5.1: "m" is reserved for mandatory extensions we cannot know: fail.
    if (fields.size() < 2 || !is_attr(fields[0], 'n') || !is_attr(fields[1], 'r')) {
      return fail("SCRAM: malformed client-first message");
    }
    for (size_t i = 2; i < fields.size(); ++i) {
      if (!is_extension(fields[i])) {
        return fail("SCRAM: malformed client-first extension");
      }
    }
    std::string_view raw_name = fields[0].substr(2);
    std::optional<std::string> name = decode_saslname(raw_name);
    if (raw_name.size() > kMaxNameOctets || !name || name->empty()) {
      return fail("SCRAM: malformed user name");
    }
    Result<std::string> prepared = saslprep(*name, true);
    if (!prepared || prepared->empty()) {
      return fail("SCRAM: user name fails SASLprep");
    }
    user_ = std::move(*prepared);
    std::string prepared_authzid;
    if (authzid) {
      Result<std::string> p = saslprep(*authzid, true);
      if (!p || *p != user_) {
        return fail("SCRAM: authzid differs from the user name");
      }
      prepared_authzid = std::move(*p);
    }
    client_nonce_ = std::string(fields[1].substr(2));
    if (!is_valid_nonce(client_nonce_)) {
      return fail("SCRAM: malformed client nonce");
    }

    state_ = State::kAwaitLookup;
    ServerStep step;
    step.kind = ServerStep::Kind::kLookupScram;
    step.user = user_;
    step.scram_lookup.user = user_;
    step.scram_lookup.authzid = std::move(prepared_authzid);
    step.scram_lookup.hash = hash_;
    return step;
  }

  // RFC 5802 §7: client-final-message = client-final-message-without-proof "," proof.
  ServerStep client_final(std::string_view message) {
    state_ = State::kDone;
    size_t proof_at = message.rfind(",p=");
    if (proof_at == std::string_view::npos) {
      return fail("SCRAM: malformed client-final message", "other-error");
    }
    std::string_view without_proof = message.substr(0, proof_at);
    std::string_view proof_b64 = message.substr(proof_at + 3);
    std::vector<std::string_view> fields = split_commas(without_proof);
    if (fields.size() < 2 || !is_attr(fields[0], 'c') || !is_attr(fields[1], 'r') ||
        proof_b64.find(',') != std::string_view::npos) {
      return fail("SCRAM: malformed client-final message", "other-error");
    }
    for (size_t i = 2; i < fields.size(); ++i) {
      if (!is_extension(fields[i])) {
        return fail("SCRAM: malformed client-final extension", "other-error");
      }
    }
    std::optional<std::string> cbind = base64_decode(fields[0].substr(2));
    if (!cbind) {
      return fail("SCRAM: malformed channel binding", "invalid-encoding");
    }
    // c= repeats the gs2 header (so an attacker cannot strip "p=" or "y") followed by the
    // binding data of this connection (RFC 5802 §6).
    if (!internal::equal_ct(*cbind, gs2_header_ + cb_data_)) {
      return fail("SCRAM: channel bindings do not match", "channel-bindings-dont-match");
    }
    if (fields[1].substr(2) != nonce_) {
      return fail("SCRAM: nonce mismatch", "other-error");
    }
    Digest digest = internal::digest_for(hash_);
    std::optional<std::string> proof = base64_decode(proof_b64);
    if (!proof || proof->size() != internal::digest_size(digest)) {
      return fail("SCRAM: malformed proof", "invalid-proof");
    }
    std::string auth_message =
        client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
    // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); valid iff H(ClientKey) equals
    // StoredKey (RFC 5802 §3).
    std::optional<std::string> client_signature =
        internal::hmac(digest, credentials_.stored_key, auth_message);
    std::optional<std::string> server_signature =
        internal::hmac(digest, credentials_.server_key, auth_message);
    if (!client_signature || !server_signature) {
      return fail("SCRAM: HMAC failed", "other-error");
    }
    std::string client_key = xor_bytes(*proof, *client_signature);
    std::optional<std::string> stored_key = internal::hash(digest, client_key);
    wipe(client_key);
    if (!stored_key || !internal::equal_ct(*stored_key, credentials_.stored_key)) {
      return fail("SCRAM: invalid proof", "invalid-proof");
    }
    forget_keys();
    ServerStep step;
    step.kind = ServerStep::Kind::kSuccess;
    step.user = user_;
    step.data = "v=" + base64_encode(*server_signature);
    return step;
  }

  const ScramHash hash_;
  const bool plus_;
  const bool plus_advertised_;
  const ChannelBindings bindings_;
  Random* random_;
  const std::string fixed_nonce_;
  State state_ = State::kInitial;
  std::string gs2_header_;
  std::string cb_data_;
  std::string client_first_bare_;
  std::string client_nonce_;
  std::string user_;
  std::string nonce_;
  std::string server_first_;
  ScramCredentials credentials_;
};

class ScramClient final : public ClientMechanism {
 public:
  ScramClient(ScramHash hash, bool plus, ClientCredentials credentials, Random& random,
              const ChannelBindings& bindings, std::string fixed_nonce)
      : hash_(hash), plus_(plus), password_(credentials.password) {
    std::string nonce = fixed_nonce.empty() ? fresh_nonce(random) : std::move(fixed_nonce);
    nonce_ = nonce;
    // The gs2 header (RFC 5802 §7): "p=<type>" for -PLUS, tls-exporter first (RFC 9266);
    // "y" when we could bind but chose a mechanism without it; "n" when we cannot bind.
    std::string flag;
    if (plus_) {
      if (!binding_data(bindings, kTlsExporter).empty()) {
        flag = "p=" + std::string(kTlsExporter);
        cb_data_ = bindings.tls_exporter;
      } else if (!binding_data(bindings, kTlsServerEndPoint).empty()) {
        flag = "p=" + std::string(kTlsServerEndPoint);
        cb_data_ = bindings.tls_server_end_point;
      } else {
        error_ = "SCRAM: no channel binding data for a -PLUS mechanism";
        return;
      }
    } else {
      bool can_bind = !binding_data(bindings, kTlsExporter).empty() ||
                      !binding_data(bindings, kTlsServerEndPoint).empty();
      flag = can_bind ? "y" : "n";
    }
    Result<std::string> user = saslprep(credentials.authcid, true);
    if (!user || user->empty()) {
      error_ = "SCRAM: user name fails SASLprep";
      return;
    }
    std::string authzid;
    if (!credentials.authzid.empty()) {
      Result<std::string> a = saslprep(credentials.authzid, true);
      if (!a || a->empty()) {
        error_ = "SCRAM: authzid fails SASLprep";
        return;
      }
      authzid = "a=" + encode_saslname(*a);
    }
    gs2_header_ = flag + "," + authzid + ",";
    client_first_bare_ = "n=" + encode_saslname(*user) + ",r=" + nonce;
  }

  ~ScramClient() override { wipe(server_key_); }

  std::string_view name() const override { return scram_mechanism_name(hash_, plus_); }

  std::optional<std::string> initial_response() override {
    if (!error_.empty()) {
      return std::nullopt;
    }
    return gs2_header_ + client_first_bare_;
  }

  ClientStep step(std::string_view server_message) override {
    if (!error_.empty()) {
      return internal::client_failure(error_);
    }
    switch (state_) {
      case State::kStart:
        // An empty challenge asks for the client-first message (it was not sent with AUTH);
        // anything else is the server-first message answering the initial response.
        if (server_message.empty()) {
          state_ = State::kFirstSent;
          return internal::respond(gs2_header_ + client_first_bare_);
        }
        return server_first(server_message);
      case State::kFirstSent:
        return server_first(server_message);
      case State::kFinalSent:
        return server_final(server_message);
      case State::kDone:
        break;
    }
    return stop("SCRAM: unexpected server challenge");
  }

  bool complete() const override { return verified_; }

 private:
  enum class State { kStart, kFirstSent, kFinalSent, kDone };

  ClientStep stop(std::string error) {
    state_ = State::kDone;
    wipe(server_key_);
    return internal::client_failure(std::move(error));
  }

  ClientStep server_first(std::string_view message) {
    std::vector<std::string_view> fields = split_commas(message);
    if (fields.size() < 3 || !is_attr(fields[0], 'r') || !is_attr(fields[1], 's') ||
        !is_attr(fields[2], 'i')) {
      return stop("SCRAM: malformed server-first message");
    }
    std::string_view nonce = fields[0].substr(2);
    // The server's nonce must extend ours (RFC 5802 §5.1).
    if (!is_valid_nonce(nonce) || nonce.size() <= nonce_.size() || !nonce.starts_with(nonce_)) {
      return stop("SCRAM: server nonce does not extend the client nonce");
    }
    std::optional<std::string> salt = base64_decode(fields[1].substr(2));
    std::optional<uint32_t> iterations = parse_u32(fields[2].substr(2));
    if (!salt || salt->empty() || !iterations || *iterations == 0) {
      return stop("SCRAM: malformed salt or iteration count");
    }
    if (*iterations > kScramClientMaxIterations) {
      return stop("SCRAM: iteration count above the client's limit");
    }
    std::optional<Keys> keys = derive_keys(hash_, password_, *salt, *iterations);
    password_.wipe();
    if (!keys) {
      return stop("SCRAM: key derivation failed");
    }
    Digest digest = internal::digest_for(hash_);
    std::string without_proof =
        "c=" + base64_encode(gs2_header_ + cb_data_) + ",r=" + std::string(nonce);
    std::string auth_message =
        client_first_bare_ + "," + std::string(message) + "," + without_proof;
    std::optional<std::string> client_signature =
        internal::hmac(digest, keys->stored_key, auth_message);
    std::optional<std::string> server_signature =
        internal::hmac(digest, keys->server_key, auth_message);
    if (!client_signature || !server_signature) {
      return stop("SCRAM: HMAC failed");
    }
    // ClientProof = ClientKey XOR ClientSignature; ClientKey is kept only long enough.
    std::string proof = xor_bytes(keys->client_key, *client_signature);
    server_key_ = std::move(*server_signature);
    state_ = State::kFinalSent;
    return internal::respond(without_proof + ",p=" + base64_encode(proof));
  }

  ClientStep server_final(std::string_view message) {
    if (is_attr(message, 'e')) {
      return stop("SCRAM: server error " + std::string(message.substr(2)));
    }
    if (!is_attr(message, 'v')) {
      return stop("SCRAM: malformed server-final message");
    }
    std::optional<std::string> signature = base64_decode(message.substr(2));
    // Mutual authentication (RFC 5802 §5.1): a server that cannot prove it knows ServerKey
    // is an impostor, whatever it says next.
    if (!signature || !internal::equal_ct(*signature, server_key_)) {
      return stop("SCRAM: server signature mismatch (impostor?)");
    }
    verified_ = true;
    state_ = State::kDone;
    wipe(server_key_);
    // The server-final arrives as a "+ " challenge: answer with an empty line (RFC 5034 §4).
    return internal::respond("");
  }

  const ScramHash hash_;
  const bool plus_;
  Secret password_;
  std::string nonce_;
  std::string gs2_header_;
  std::string cb_data_;
  std::string client_first_bare_;
  std::string server_key_;  // here: the expected ServerSignature
  std::string error_;
  State state_ = State::kStart;
  bool verified_ = false;
};

}  // namespace

std::string_view scram_mechanism_name(ScramHash hash, bool plus) {
  if (hash == ScramHash::kSha1) {
    return plus ? "SCRAM-SHA-1-PLUS" : "SCRAM-SHA-1";
  }
  return plus ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-256";
}

Secret scram_normalize_password(const Secret& password) {
  Result<std::string> prepared = saslprep(password.view(), true);
  if (!prepared || prepared->empty()) {
    return password;
  }
  Secret out(*prepared);
  secure_wipe(prepared->data(), prepared->size());
  return out;
}

Result<ScramCredentials> derive_scram_credentials(ScramHash hash, const Secret& password,
                                                  std::string_view salt, uint32_t iterations) {
  if (iterations == 0 || iterations > 0x7fffffffu || salt.empty()) {
    return Status::invalid_input("SCRAM: bad salt or iteration count");
  }
  std::optional<Keys> keys = derive_keys(hash, password, salt, iterations);
  if (!keys) {
    return Status::temporary("SCRAM: key derivation failed");
  }
  ScramCredentials out;
  out.hash = hash;
  out.iterations = iterations;
  out.salt = std::string(salt);
  out.stored_key = keys->stored_key;
  out.server_key = keys->server_key;
  return out;
}

ServerMechanismPtr make_scram_server(ScramHash hash, bool plus, const ServerContext& context,
                                     std::string fixed_nonce) {
  return std::make_unique<ScramServer>(hash, plus, context, std::move(fixed_nonce));
}

ClientMechanismPtr make_scram_client(ScramHash hash, bool plus, ClientCredentials credentials,
                                     Random& random, const ChannelBindings& bindings,
                                     std::string fixed_nonce) {
  return std::make_unique<ScramClient>(hash, plus, std::move(credentials), random, bindings,
                                       std::move(fixed_nonce));
}

}  // namespace poplar::sasl
