import CairnTestSupport
import Foundation
import XCTest

/// `rediss://` and `--tls` against a real redis-server with a TLS port: the
/// server's certificate is verified (against --tls-ca-file), and a server
/// whose CA is not trusted is refused before anything is stored.
final class RedisTLSTests: XCTestCase {
    var tmp: URL!
    var cairn: CairnRunner!

    override func setUpWithError() throws {
        cairn = try newRepository("redis-tls")
        tmp = cairn.dir
    }

    /// A throwaway CA and a server certificate for localhost and 127.0.0.1, made with the openssl CLI.
    func makeCertificates() throws -> (ca: String, cert: String, key: String) {
        let d = tmp.appendingPathComponent("tls").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        let script = """
        set -e; cd '\(d)'
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=cairn test CA'
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=localhost'
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf
        chmod 644 server.key
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw RequiredProgram.missing("the openssl command line tool is needed to make test certificates")
        }
        return ("\(d)/ca.pem", "\(d)/server.pem", "\(d)/server.key")
    }

    func testTLSBackupVerifiesTheServerAndRestores() throws {
        let certs = try makeCertificates()
        let tlsPort = try RedisServer.freePort()
        let server = try RedisServer(dir: tmp.appendingPathComponent("live"), config: [
            "tls-port \(tlsPort)", "tls-cert-file \(certs.cert)", "tls-key-file \(certs.key)",
            "tls-ca-cert-file \(certs.ca)", "tls-auth-clients no",
        ])
        defer { server.stop() }
        let c = try server.connect()
        for i in 0..<50 { _ = try c.command(["SET", "key\(i)", "value\(i)"]) }

        // Without the CA the handshake fails: one line, nothing stored.
        let untrusted = try cairn.fails(["redis", "backup", "--url", "rediss://localhost:\(tlsPort)"])
        XCTAssertTrue(untrusted.err.contains("TLS handshake"), untrusted.summary)
        XCTAssertEqual(try cairn.snapshotCount(), 0)

        // With it, by name and by address (the certificate names both), via rediss:// and via --tls.
        try cairn.ok(["redis", "backup", "--url", "rediss://localhost:\(tlsPort)", "--tls-ca-file", certs.ca])
        try cairn.ok(["redis", "backup", "--url", "redis://127.0.0.1:\(tlsPort)", "--tls", "--tls-ca-file", certs.ca])
        XCTAssertEqual(try cairn.snapshotCount(), 2)
        // The plain port of the same server is not TLS: asking for TLS there fails cleanly.
        let plain = try cairn.fails(["redis", "backup", "--url", "rediss://127.0.0.1:\(server.port)", "--tls-ca-file", certs.ca, "--wait-timeout", "3"])
        XCTAssertTrue(plain.err.contains("TLS"), plain.summary)

        let out = tmp.appendingPathComponent("restored.rdb")
        let restored = try cairn.ok(["redis", "restore", "latest", "--name", "redis", "--target", out.path])
        XCTAssertTrue(restored.out.contains("50 keys"), restored.summary)
    }
}
