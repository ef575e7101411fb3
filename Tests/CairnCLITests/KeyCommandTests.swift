import Foundation
import XCTest

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
}
