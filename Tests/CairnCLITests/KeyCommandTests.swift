import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `key add | list | remove | passwd`.
final class KeyCommandTests: CLITestCase {
    func passwordFile(_ name: String, _ pass: String) throws -> String {
        let u = tmp.appendingPathComponent("pw-\(name)")
        try write(Data((pass + "\n").utf8), to: u)
        return u.path
    }

    func testKeyLifecycle() throws {
        let first = try passwordFile("first", "first passphrase")
        let second = try passwordFile("second", "second passphrase")
        let third = try passwordFile("third", "third passphrase")
        let as1: [String: String?] = ["CAIRN_PASSWORD": nil, "CAIRN_PASSWORD_FILE": first]
        let as2: [String: String?] = ["CAIRN_PASSWORD": nil, "CAIRN_PASSWORD_FILE": second]
        let as3: [String: String?] = ["CAIRN_PASSWORD": nil, "CAIRN_PASSWORD_FILE": third]

        try ok(["init"], env: as1)
        let data = TestData.random(500_000, seed: 81)
        try ok(["backup", "--stdin", "--name", "d"], stdin: .data(data), env: as1)
        let keys0 = try ok(["key", "list", "--json"], env: as1).jsonArray()
        XCTAssertEqual(keys0.count, 1)
        let key1 = try keys0[0].string("id")
        XCTAssertEqual(keys0[0]["current"] as? Bool, true)

        // key add: the new passphrase comes from CAIRN_NEW_PASSWORD_FILE.
        let dataBefore = directoryListing(repo.appendingPathComponent("data"))
        let added = try ok(["key", "add", "--json"], env: as1.merging(["CAIRN_NEW_PASSWORD_FILE": second]) { $1 }).jsonObject()
        let key2 = try added.string("added")
        XCTAssertNotEqual(key1, key2)
        XCTAssertEqual(directoryListing(repo.appendingPathComponent("data")), dataBefore, "adding a key rewrites no data")

        // Both open the repository and read the same data.
        XCTAssertEqual(try ok(["restore", "latest", "--stdout"], env: as1).stdout, data)
        XCTAssertEqual(try ok(["restore", "latest", "--stdout"], env: as2).stdout, data)
        let keys = try ok(["key", "list", "--json"], env: as2).jsonArray()
        XCTAssertEqual(keys.count, 2)
        XCTAssertEqual(Set(try keys.map { try $0.string("id") }), [key1, key2])
        XCTAssertEqual(try keys.filter { $0["current"] as? Bool == true }.map { try $0.string("id") }, [key2], "the key that opened it is marked")
        for k in keys { _ = try k.string("created"); _ = try k.string("host") }
        let human = try ok(["key", "list"], env: as2).out
        XCTAssertTrue(human.contains(String(key1.prefix(8))) && human.contains(String(key2.prefix(8))), human)

        // key passwd replaces the key of the first passphrase with one for the third.
        let passwd = try ok(["key", "passwd", "--json"], env: as1.merging(["CAIRN_NEW_PASSWORD_FILE": third]) { $1 }).jsonObject()
        let key3 = try passwd.string("key")
        XCTAssertEqual(directoryListing(repo.appendingPathComponent("data")), dataBefore, "a passphrase change rewrites no data")
        let wrong = try failsOneLine(["snapshots"], env: as1)
        XCTAssertTrue(wrong.err.contains("wrong passphrase"), wrong.summary)
        XCTAssertEqual(try ok(["restore", "latest", "--stdout"], env: as3).stdout, data)
        XCTAssertEqual(try ok(["restore", "latest", "--stdout"], env: as2).stdout, data)
        XCTAssertEqual(Set(try ok(["key", "list", "--json"], env: as3).jsonArray().map { try $0.string("id") }), [key2, key3])

        // Remove one of two: by unique prefix.
        var prefix = 4
        while key3.hasPrefix(key2.prefix(prefix)) { prefix += 1 }
        let removed = try ok(["key", "remove", String(key2.prefix(prefix)), "--json"], env: as3).jsonObject()
        XCTAssertEqual(try removed.string("removed"), key2)
        try failsOneLine(["snapshots"], env: as2)
        XCTAssertEqual(try ok(["key", "list", "--json"], env: as3).jsonArray().count, 1)

        // The last key cannot be removed.
        let last = try failsOneLine(["key", "remove", key3], env: as3)
        XCTAssertTrue(last.err.contains("last key"), last.summary)
        XCTAssertEqual(try ok(["key", "list", "--json"], env: as3).jsonArray().count, 1)
        // Unknown key ids fail.
        try failsOneLine(["key", "remove", "ffffffffffff0000"], env: as3)
        XCTAssertEqual(try ok(["restore", "latest", "--stdout"], env: as3).stdout, data)
    }

    func testKeyAddNeedsANewPassphrase() throws {
        try initRepo()
        let before = directoryListing(repo)
        let r = try failsOneLine(["key", "add"])
        XCTAssertTrue(r.err.contains("CAIRN_NEW_PASSWORD"), r.summary)
        // CAIRN_NEW_PASSWORD works as well as the file.
        try ok(["key", "add"], env: ["CAIRN_NEW_PASSWORD": "env new"])
        XCTAssertNotEqual(directoryListing(repo), before)
        try ok(["snapshots"], env: ["CAIRN_PASSWORD": "env new"])
        // --new-password-file too.
        let f = try passwordFile("flag", "flag new")
        try ok(["key", "add", "--new-password-file", f])
        try ok(["snapshots"], env: ["CAIRN_PASSWORD": "flag new"])
        XCTAssertEqual(try ok(["key", "list", "--json"]).jsonArray().count, 3)
    }

    /// Issue 14.9: `key passwd` SIGKILLed at random moments. After each kill exactly one
    /// of the old and the new passphrase opens (whichever is tried first), the other
    /// is refused with a clear message, and one key file is left.
    func testKilledKeyPasswdLeavesExactlyOnePassphrase() throws {
        var current = try passwordFile("p0", "passphrase 0")
        func env(_ file: String) -> [String: String?] { ["CAIRN_PASSWORD": nil, "CAIRN_PASSWORD_FILE": file] }
        try ok(["init"], env: env(current))
        let data = TestData.random(200_000, seed: 91)
        try ok(["backup", "--stdin", "--name", "d"], stdin: .data(data), env: env(current))
        // How long a whole passwd takes here: the kills are spread over it.
        let probe = try passwordFile("probe", "probe passphrase")
        let started = Date()
        try ok(["key", "passwd"], env: env(current).merging(["CAIRN_NEW_PASSWORD_FILE": probe]) { $1 })
        let span = Date().timeIntervalSince(started)
        current = probe
        var rng = SplitMix64(seed: UInt64(UInt32.random(in: 0...UInt32.max)))
        var log: [String] = []
        for round in 1...6 {
            let next = try passwordFile("p\(round)", "passphrase \(round)")
            // Kills land across the run, more of them in its second half (where the key files change).
            let fraction = round % 2 == 0 ? Double(rng.next() % 1000) / 1000 : 0.6 + Double(rng.next() % 350) / 1000
            let running = try cli.start(["key", "passwd"], env: env(current).merging(["CAIRN_NEW_PASSWORD_FILE": next]) { $1 })
            usleep(UInt32(fraction * span * 1_000_000))
            running.kill(SIGKILL)
            let r = running.wait(timeout: 60)
            let oldFirst = round % 3 != 0
            let first = try cli.run(["snapshots", "--json"], env: env(oldFirst ? current : next))
            let second = try cli.run(["snapshots", "--json"], env: env(oldFirst ? next : current))
            let (old, new) = oldFirst ? (first, second) : (second, first)
            let opens = [old.status == 0 ? "old" : nil, new.status == 0 ? "new" : nil].compactMap { $0 }
            log.append("round \(round): killed at \(Int(fraction * 100))% -> \(r.signaled ? "killed" : "exit \(r.status)"); opens: \(opens)")
            XCTAssertEqual(opens.count, 1, "\(log.last!)\nold: \(old.summary)\nnew: \(new.summary)")
            for refused in [old, new] where refused.status != 0 {
                XCTAssertEqual(refused.status, 1, refused.summary)
                assertCleanError(refused)
                XCTAssertTrue(refused.err.contains("wrong passphrase") || refused.err.contains("key passwd"), refused.summary)
            }
            if new.status == 0 { current = next }
            let keys = try ok(["key", "list", "--json"], env: env(current)).jsonArray()
            XCTAssertEqual(keys.count, 1, "\(log.last!): one key file left")
            XCTAssertEqual(try ok(["restore", "latest", "--stdout"], env: env(current)).stdout, data)
        }
        print("kill-passwd rounds:\n  " + log.joined(separator: "\n  "))
    }
}
