import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// #15.19: what lies on the local disk. A passphrase file others can read is
/// flagged; the local cache (plaintext file names in SQLite) is private.
final class LocalSecretsTests: CLITestCase {
    func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
    }

    func testWorldReadablePassphraseFileWarns() throws {
        let pw = tmp.appendingPathComponent("pw").path
        try write(Data((password + "\n").utf8), to: URL(fileURLWithPath: pw))
        let viaFile: [String: String?] = ["CAIRN_PASSWORD": nil, "CAIRN_PASSWORD_FILE": pw]
        chmod(pw, 0o600)
        try ok(["init"], env: viaFile)
        XCTAssertFalse(try ok(["snapshots"], env: viaFile).err.contains("passphrase file"))
        chmod(pw, 0o644)
        var r = try ok(["snapshots"], env: viaFile)
        XCTAssertTrue(r.err.contains("passphrase file \(pw) is readable by every user (mode 0644)"), r.err)
        XCTAssertTrue(r.err.contains("chmod o-rwx"), r.err)
        r = try ok(["snapshots", "--password-file", pw], env: ["CAIRN_PASSWORD": nil])
        XCTAssertTrue(r.err.contains("readable by every user"), r.err)
        // Group read is how a shared repository's users share it (root:postgres 0640): no warning.
        chmod(pw, 0o640)
        XCTAssertFalse(try ok(["snapshots"], env: viaFile).err.contains("passphrase file"))
        chmod(pw, 0o660)
        XCTAssertTrue(try ok(["snapshots"], env: viaFile).err.contains("writable by its group"))
    }

    func testLocalCacheIsPrivate() throws {
        try initRepo()
        try ok(["backup", "--stdin", "--name", "secret-named-stream"], stdin: .data(Data("x".utf8)))
        let dirs = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.count == 64 }
        let dir = cache.appendingPathComponent(try XCTUnwrap(dirs.first)).path
        func check(_ label: String) throws {
            XCTAssertEqual(mode(dir), 0o700, "\(label): cache directory")
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("index.sqlite") }
            XCTAssertFalse(files.isEmpty)
            for f in files { XCTAssertEqual(mode(dir + "/" + f) & 0o077, 0, "\(label): \(f) is 0\(String(mode(dir + "/" + f), radix: 8))") }
        }
        try check("new cache")
        // A cache an older cairn (or a lax umask) left readable is tightened on the next open.
        chmod(dir, 0o755)
        for f in try FileManager.default.contentsOfDirectory(atPath: dir) where f.hasPrefix("index.sqlite") { chmod(dir + "/" + f, 0o644) }
        try ok(["snapshots"])
        try check("reopened cache")
    }
}
