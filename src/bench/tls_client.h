// The client TLS context of `poplar bench`: tls::make_client_ctx() (TLS 1.2+, peer and host
// name verification against --ca-file or the system store), or, with --insecure-tls,
// tls::make_unverified_client_ctx() (any certificate and name accepted), for test servers with
// self-signed certificates. Connections use tls::new_client_connection() and
// tls::TlsConnection.
//
// Thread-safety: the returned SSL_CTX may be shared by every thread (SSL_new is thread-safe).
#pragma once

#include <string>

#include "base/result.h"
#include "tls/tls_context.h"

namespace poplar::bench {

// Error codes: those of tls::make_client_ctx (kInvalidInput for an unreadable CA file).
Result<tls::SslCtxPtr> make_bench_tls_context(const std::string& ca_file, bool insecure);

}  // namespace poplar::bench
