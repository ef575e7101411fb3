import CTLS
#if canImport(Glibc)
import Glibc
#endif

/// A client TLS session over a connected socket (OpenSSL libssl). The
/// server's certificate is verified against `caFile` (or the system's CA
/// store) and its name against the host the URL names.
final class TLSSession {
    private let context: OpaquePointer
    private let ssl: OpaquePointer

    init(fd: Int32, host: String, caFile: String?) throws {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw RedisError.connect("TLS: \(Self.lastError())") }
        context = ctx
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        let loaded = caFile.map { SSL_CTX_load_verify_locations(ctx, $0, nil) } ?? SSL_CTX_set_default_verify_paths(ctx)
        guard loaded == 1 else {
            SSL_CTX_free(ctx)
            throw RedisError.connect("TLS: cannot load CA certificates\(caFile.map { " from \($0)" } ?? ""): \(Self.lastError())")
        }
        guard let s = SSL_new(ctx) else { SSL_CTX_free(ctx); throw RedisError.connect("TLS: \(Self.lastError())") }
        ssl = s
        SSL_set_fd(s, fd)
        // Server name indication (a macro in C: SSL_ctrl with SSL_CTRL_SET_TLSEXT_HOSTNAME) and name checking.
        _ = host.withCString { SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
        let isIP = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        if isIP {
            _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), host)
        } else {
            _ = SSL_set1_host(s, host)
        }
        guard SSL_connect(s) == 1 else {
            let verify = SSL_get_verify_result(s)
            let reason = verify != X509_V_OK ? String(cString: X509_verify_cert_error_string(verify)) : Self.lastError()
            // Every stored property is set, so deinit runs and frees both.
            throw RedisError.connect("TLS handshake with \(host) failed: \(reason) (give the server's CA with --tls-ca-file)")
        }
    }

    deinit {
        if SSL_is_init_finished(ssl) == 1 { SSL_shutdown(ssl) }
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Bytes written, or -1 with errno set (EAGAIN on a timeout).
    func write(_ p: UnsafeRawPointer, _ n: Int) -> Int {
        let r = SSL_write(ssl, p, Int32(min(n, Int(Int32.max))))
        return r > 0 ? Int(r) : failure(r)
    }

    /// Bytes read, 0 at a clean end, or -1 with errno set (EAGAIN on a timeout).
    func read(_ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
        let r = SSL_read(ssl, p, Int32(min(n, Int(Int32.max))))
        return r > 0 ? Int(r) : failure(r)
    }

    private func failure(_ r: Int32) -> Int {
        switch SSL_get_error(ssl, r) {
        case SSL_ERROR_ZERO_RETURN: return 0
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: errno = EAGAIN; return -1
        case SSL_ERROR_SYSCALL: if errno == 0 { return 0 }; return -1
        default: errno = EPROTO; return -1
        }
    }

    static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown error" }
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buf, buf.count)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
