// The bench's client TLS context. See tls_client.h.
//
// Thread-safety: see tls_client.h.
#include "bench/tls_client.h"

#include <openssl/ssl.h>

namespace poplar::bench {

Result<tls::SslCtxPtr> make_bench_tls_context(const std::string& ca_file, bool insecure) {
  auto ctx = tls::make_client_ctx(ca_file);
  if (!ctx) {
    return ctx.status();
  }
  if (insecure) {
    // No chain or name check: the handshake completes whatever the server presents.
    SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

}  // namespace poplar::bench
