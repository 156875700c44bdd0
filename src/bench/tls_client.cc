// The bench's client TLS context. See tls_client.h.
//
// Thread-safety: see tls_client.h.
#include "bench/tls_client.h"

namespace poplar::bench {

Result<tls::SslCtxPtr> make_bench_tls_context(const std::string& ca_file, bool insecure) {
  // Insecure: no chain or name check; the handshake completes whatever the server presents.
  return insecure ? tls::make_unverified_client_ctx() : tls::make_client_ctx(ca_file);
}

}  // namespace poplar::bench
