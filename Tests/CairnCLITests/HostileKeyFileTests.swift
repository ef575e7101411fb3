import Foundation
import XCTest

/// Key files as an attacker who can write to the store leaves them (#15.9,
/// #15.19, #17.3, #17.4): junk with absurd scrypt costs, hundreds of junk
/// files, altered and truncated key files, an empty `keys/`.
final class HostileKeyFileTests: CLITestCase {
    var keys: URL { repo.appendingPathComponent("keys") }

    func keyNames() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: keys.path).sorted() }

    /// The review's attack: a key file of logN=24 r=64 p=64 named to sort first made every
    /// command fail; logN=22 cost 38-50 s a command; 200 junk key files 26-52 s. Now the
    /// costly ones are refused unread (format-spec §6 bounds), and the key that opened the
    /// repository last is tried first, so junk blocks nothing.
    func testJunkKeyFilesNeitherBlockNorStall() throws {
        try initRepo()
        let data = TestData.random(50_000, seed: 1)
        try ok(["backup", "--stdin", "--name", "d"], stdin: .data(data))
        try Forger.addKeyFile(Forger.junkKeyFile(logN: 24, r: 64, p: 64), to: repo, name: String(repeating: "0", count: 64))
        try Forger.addKeyFile(Forger.junkKeyFile(logN: 22, r: 8, p: 1), to: repo, name: String(repeating: "0", count: 63) + "1")
        try Forger.addKeyFile(Forger.junkKeyFile(logN: 20, r: 32, p: 16), to: repo)
        try Forger.addKeyFile((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) }, to: repo)
        for _ in 0..<200 { try Forger.addKeyFile(Forger.junkKeyFile(logN: 15, r: 8, p: 1), to: repo) }

        let started = Date()
        let r = try ok(["restore", "latest", "--stdout"])
        let warm = Date().timeIntervalSince(started)
        XCTAssertEqual(r.stdout, data)
        XCTAssertFalse(r.err.contains("wrong passphrase"), r.summary)
        // `key list` shows the junk, the refused ones with why, so it can be removed.
        let listed = try ok(["key", "list", "--json"]).jsonArray()
        XCTAssertEqual(listed.count, 205)
        let refused = listed.filter { $0["problem"] != nil }
        XCTAssertEqual(refused.count, 4, "three out-of-bounds key files and the 1 MiB one: \(refused)")
        XCTAssertTrue(refused.contains { ($0["problem"] as? String)?.contains("scrypt parameters logN=24") == true }, "\(refused)")
        XCTAssertTrue(refused.contains { ($0["problem"] as? String)?.contains("more than the 65536 bytes") == true }, "\(refused)")

        // A cold cache reads them all: the refused ones are named as damaged, never as a wrong passphrase.
        let cold = try ok(["restore", "latest", "--stdout"], env: ["CAIRN_CACHE_DIR": tmp.appendingPathComponent("cold").path])
        XCTAssertEqual(cold.stdout, data)
        XCTAssertTrue(cold.err.contains("key file 000000000000 is damaged or tampered"), cold.summary)
        XCTAssertFalse(cold.err.contains("wrong passphrase"), cold.summary)
        // Removable by id like any key.
        try ok(["key", "remove", String(repeating: "0", count: 64)])
        print("open with 204 junk key files and a warm cache: \(String(format: "%.2f", warm)) s")
    }

    /// A cold cache (a new machine) has no hint: junk at the default cost is tried, cheapest
    /// and own host's first, several at a time; costly junk is tried only within a budget, so
    /// a wrong passphrase is reported without waiting on it.
    func testColdCacheFindsTheKeyAmongJunkAndAWrongPassphraseEndsWithinBudget() throws {
        try initRepo()
        for _ in 0..<6 { try Forger.addKeyFile(Forger.junkKeyFile(logN: 15, r: 8, p: 1), to: repo) }
        for _ in 0..<30 { try Forger.addKeyFile(Forger.junkKeyFile(logN: 16, r: 2, p: 8), to: repo) }   // 2x the default's work each
        let cold = tmp.appendingPathComponent("cold-cache").path
        try ok(["snapshots"], env: ["CAIRN_CACHE_DIR": cold])

        let started = Date()
        let wrong = try fails(["snapshots"], code: 1, env: ["CAIRN_PASSWORD": "not it", "CAIRN_CACHE_DIR": cold])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertTrue(wrong.err.contains("wrong passphrase"), wrong.summary)
        XCTAssertTrue(wrong.err.contains("costlier scrypt parameters were not tried"), wrong.summary)
        print("wrong passphrase against 7 default-cost and 30 costly key files: \(String(format: "%.2f", seconds)) s")
    }

    /// #15.9 "bound the total time": on a new machine (no hint), all key files together are tried
    /// within a budget of 64 default derivations, however many junk ones were added (restic stops
    /// after 20); past it the error says how many were not tried and how to name the key:
    /// `--key-hint` (restic's convention) or CAIRN_KEY_HINT, which is tried first.
    func testUnlockTimeIsBoundedAndKeyHintNamesTheKey() throws {
        try initRepo()
        let mine = try XCTUnwrap(try ok(["key", "list", "--json"]).jsonArray().first)
        let id = try XCTUnwrap(mine["id"] as? String), host = try XCTUnwrap(mine["host"] as? String), user = try XCTUnwrap(mine["user"] as? String)
        // Junk made to sort before the real key: same cost, this host and user, newer.
        for _ in 0..<80 { try Forger.addKeyFile(Forger.junkKeyFile(logN: 15, r: 8, p: 1, host: host, user: user), to: repo) }
        let cold: [String: String?] = ["CAIRN_CACHE_DIR": tmp.appendingPathComponent("cold").path]
        let started = Date()
        let buried = try fails(["snapshots"], code: 1, env: cold)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertTrue(buried.err.contains("none of the 64 key files"), buried.summary)
        XCTAssertTrue(buried.err.contains("17 more key files were not tried") && buried.err.contains("--key-hint"), buried.summary)
        XCTAssertEqual(buried.errLines.count, 1, buried.summary)
        // Named, the key opens at once, from the option or the environment, before or after the verb.
        try ok(["snapshots", "--key-hint", String(id.prefix(8))], env: cold)
        try ok(["--key-hint", String(id.prefix(8)), "snapshots"], env: cold)
        try ok(["snapshots"], env: cold.merging(["CAIRN_KEY_HINT": id]) { $1 })
        // A hint that names no key file (or several) is an error that says so.
        let none = try fails(["snapshots", "--key-hint", "zz"], code: 1, env: cold)
        XCTAssertTrue(none.err.contains("--key-hint \"zz\" matches no key files"), none.summary)
        print("cold cache, key buried under 80 junk key files of the default cost: failed after \(String(format: "%.2f", seconds)) s")
    }

    /// #15.19: an altered key file is reported as damaged or tampered, not as a wrong passphrase;
    /// a truncated one too; a renamed one (content intact) still opens, with a warning.
    func testTamperedKeyFileIsNotAWrongPassphrase() throws {
        try initRepo()
        let name = try XCTUnwrap(try keyNames().first)
        let url = keys.appendingPathComponent(name)
        let good = try Data(contentsOf: url)

        var altered = [UInt8](good)
        altered[57] ^= 0x01                     // inside the host name: part of the wrap's AAD
        try Data(altered).write(to: url)
        var r = try fails(["snapshots"], code: 1)
        XCTAssertTrue(r.err.contains("key file \(name.prefix(12)) is damaged or tampered"), r.summary)
        XCTAssertFalse(r.err.contains("wrong passphrase"), r.summary)

        try Data(good.prefix(40)).write(to: url)  // truncated
        r = try fails(["snapshots"], code: 1)
        XCTAssertTrue(r.err.contains("is damaged or tampered") && r.err.contains("truncated"), r.summary)

        // Intact content under another name: authentic, so it opens, with a warning.
        try FileManager.default.removeItem(at: url)
        try good.write(to: keys.appendingPathComponent(String(repeating: "ab", count: 32)))
        r = try ok(["snapshots"])
        XCTAssertTrue(r.err.contains("does not match its name"), r.summary)

        // A sound key file and a wrong passphrase is still a wrong passphrase.
        try FileManager.default.removeItem(at: keys.appendingPathComponent(String(repeating: "ab", count: 32)))
        try good.write(to: url)
        r = try failsOneLine(["snapshots"], env: ["CAIRN_PASSWORD": "not it"])
        XCTAssertTrue(r.err.contains("wrong passphrase"), r.summary)
    }

    /// #17.4: no key file at all says so.
    func testEmptyOrMissingKeysSaysNoKeyFile() throws {
        try initRepo()
        for n in try keyNames() { try FileManager.default.removeItem(at: keys.appendingPathComponent(n)) }
        var r = try failsOneLine(["snapshots"])
        XCTAssertTrue(r.err.contains("no key file found"), r.summary)
        XCTAssertFalse(r.err.contains("wrong passphrase"), r.summary)
        try FileManager.default.removeItem(at: keys)
        r = try failsOneLine(["snapshots"])
        XCTAssertTrue(r.err.contains("no key file found"), r.summary)
    }

    /// #15.19: a key file with weak scrypt parameters opens, with a warning naming it.
    func testWeakKeyDerivationWarns() throws {
        try initRepo()
        let forger = try Forger(repository: repo, passphrase: password)
        let weak = try Forger.addKeyFile(forger.keyFile(passphrase: "weak one", logN: 10), to: repo)
        let r = try ok(["snapshots"], env: ["CAIRN_PASSWORD": "weak one"])
        XCTAssertTrue(r.err.contains("key file \(weak.prefix(12)) uses weak scrypt parameters"), r.summary)
        let strong = try ok(["snapshots"])
        XCTAssertFalse(strong.err.contains("weak"), strong.summary)
    }

    /// #17.3: the key in use is removed only with --force (restic's rule).
    func testRemovingTheCurrentKeyNeedsForce() throws {
        try initRepo()
        let first = try XCTUnwrap(try keyNames().first)
        try ok(["key", "add"], env: ["CAIRN_NEW_PASSWORD": "second one"])
        let r = try failsOneLine(["key", "remove", String(first.prefix(8))])
        XCTAssertTrue(r.err.contains("--force"), r.summary)
        XCTAssertTrue(try keyNames().contains(first))
        try ok(["snapshots"])
        try ok(["key", "remove", String(first.prefix(8)), "--force"])
        XCTAssertFalse(try keyNames().contains(first))
        try failsOneLine(["snapshots"])
        try ok(["snapshots"], env: ["CAIRN_PASSWORD": "second one"])
        // Removing another key than the one in use needs nothing more.
        try ok(["key", "add"], env: ["CAIRN_PASSWORD": "second one", "CAIRN_NEW_PASSWORD": "third one"])
        let third = try XCTUnwrap(try ok(["key", "list", "--json"], env: ["CAIRN_PASSWORD": "third one"]).jsonArray()
            .first { $0["current"] as? Bool == true }?["id"] as? String)
        let second = try XCTUnwrap(try keyNames().first { $0 != third })
        try ok(["key", "remove", second], env: ["CAIRN_PASSWORD": "third one"])
    }
}
