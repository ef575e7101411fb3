import CairnCrypto
import Foundation
import XCTest

/// #15.16: `key remove` and `key passwd` revoke nothing (every key file wraps
/// the same master key); `key rotate` makes a new master key for new data. A
/// kept copy of an old key file, with its passphrase, then opens what was
/// written before the rotation and nothing after it.
final class KeyRotationTests: CLITestCase {
    var keysDir: URL { repo.appendingPathComponent("keys") }

    func files(_ folder: String) throws -> Set<String> {
        let root = repo.appendingPathComponent(folder)
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return Set(e.compactMap { $0 as? String }.filter { $0.split(separator: "/").last?.count == 64 })
    }

    func testRotationShutsAKeptOldKeyFileOutOfNewDataAndKeepsOldDataReadable() throws {
        try initRepo()
        let before = TestData.random(120_000, seed: 31)
        let x = try backup(["--stdin", "--name", "before"], stdin: .data(before)).string("snapshot_id")
        // A colleague's passphrase, later revoked; the attacker kept copies of both key files.
        try ok(["key", "add"], env: ["CAIRN_NEW_PASSWORD": "colleague"])
        let kept = try FileManager.default.contentsOfDirectory(atPath: keysDir.path).map { ($0, try Data(contentsOf: keysDir.appendingPathComponent($0))) }
        XCTAssertEqual(kept.count, 2)
        let packsBefore = try files("data"), snapshotsBefore = try files("snapshots"), indexBefore = try files("index")

        let r = try ok(["key", "rotate", "--json"], env: ["CAIRN_NEW_PASSWORD": "after rotation"]).jsonObject()
        XCTAssertEqual(r["generation"] as? Int, 1)
        XCTAssertEqual(Set(r["removed"] as? [String] ?? []), Set(kept.map(\.0)))
        let left = try FileManager.default.contentsOfDirectory(atPath: keysDir.path)
        XCTAssertEqual(left, [try XCTUnwrap(r["key"] as? String)])
        let v2 = try Data(contentsOf: keysDir.appendingPathComponent(left[0]))
        XCTAssertEqual(Array(v2.prefix(6)), [0x43, 0x52, 0x4e, 0x4b, 0x02, 0x00], "a version-2 key file")

        // The new passphrase reads everything and writes under the new key; the old ones open nothing.
        let new: [String: String?] = ["CAIRN_PASSWORD": "after rotation"]
        XCTAssertEqual(try ok(["restore", x, "--stdout"], env: new).stdout, before)
        let after = TestData.random(120_000, seed: 32)
        let y = try backup(["--stdin", "--name", "after"], stdin: .data(after), env: new).string("snapshot_id")
        XCTAssertEqual(try ok(["restore", y, "--stdout"], env: new).stdout, after)
        for old in [password, "colleague"] {
            let f = try failsOneLine(["snapshots"], env: ["CAIRN_PASSWORD": old])
            XCTAssertTrue(f.err.contains("wrong passphrase"), f.summary)
        }
        let newPacks = try files("data").subtracting(packsBefore), newSnapshots = try files("snapshots").subtracting(snapshotsBefore)
        let newIndex = try files("index").subtracting(indexBefore)
        XCTAssertFalse(newIndex.isEmpty)
        XCTAssertFalse(newPacks.isEmpty)
        XCTAssertEqual(newSnapshots.count, 1)

        // The attacker puts the kept key files back and uses the old passphrases.
        for (name, bytes) in kept { try bytes.write(to: keysDir.appendingPathComponent(name)) }
        let cold: [String: String?] = ["CAIRN_PASSWORD": password, "CAIRN_CACHE_DIR": tmp.appendingPathComponent("attacker-cache").path]
        XCTAssertEqual(try ok(["restore", x, "--stdout"], env: cold).stdout, before, "what was written before the rotation was theirs already")
        let denied = try fails(["restore", y, "--stdout"], code: 1, env: cold)
        XCTAssertTrue(denied.stdout.isEmpty)
        XCTAssertFalse(denied.stdout.contains(after.prefix(64)))
        let listed = try ok(["snapshots", "--json"], env: cold)
        XCTAssertEqual(try listed.jsonArray().compactMap { $0["id"] as? String }, [x])
        // At the level of the format: with the old master key (unwrapped by the spec's rules from
        // the kept key file), no object written after the rotation opens.
        let oldMaster = try XCTUnwrap(Forger.unwrap(keyFile: [UInt8](kept.first { Forger.unwrap(keyFile: [UInt8]($0.1), passphrase: Array(password.utf8)) != nil }!.1),
                                                    passphrase: Array(password.utf8)))
        let metadata0 = HMACSHA256.derive(key: oldMaster, label: "cairn v1 metadata key")
        for s in newSnapshots {
            let bytes = [UInt8](try Data(contentsOf: repo.appendingPathComponent("snapshots/\(s)")))
            XCTAssertThrowsError(try AESGCM.open(Array(bytes[6...]), key: metadata0, aad: Array(bytes[0..<6])), "snapshot \(s) opens with the old key")
        }
        // Nor does any pack header or blob of the new packs; with the new key (from the new key file by
        // the spec's rules: a version-2 keyring of generations 1 and 0) every one opens.
        let ring = try XCTUnwrap(Forger.unwrapKeyring(keyFile: [UInt8](v2), passphrase: Array("after rotation".utf8)))
        XCTAssertEqual(ring.map(\.generation), [1, 0])
        XCTAssertEqual(ring[1].master, oldMaster, "the new key file keeps generation 0")
        let metadata1 = HMACSHA256.derive(key: ring[0].master, label: "cairn v1 metadata key")
        let blobRoot0 = HMACSHA256.derive(key: oldMaster, label: "cairn v1 blob key")
        let blobRoot1 = HMACSHA256.derive(key: ring[0].master, label: "cairn v1 blob key")
        var newBlobs = 0
        for p in newPacks {
            let bytes = [UInt8](try Data(contentsOf: repo.appendingPathComponent("data/\(p)")))
            XCTAssertThrowsError(try Forger.packEntries(bytes, metadataKey: metadata0), "pack \(p) header opens with the old key")
            for e in try Forger.packEntries(bytes, metadataKey: metadata1) {
                XCTAssertNil(Forger.openBlob(e, blobRoot: blobRoot0), "a blob of pack \(p) opens with the old key")
                XCTAssertNotNil(Forger.openBlob(e, blobRoot: blobRoot1), "a blob of pack \(p) does not open with the new key")
                newBlobs += 1
            }
        }
        XCTAssertGreaterThan(newBlobs, 0)

        // With the new passphrase, after the attacker's files are removed again, all scrubs clean,
        // a prune keeps both generations' data readable, and a new colleague key holds the keyring.
        for (name, _) in kept { try FileManager.default.removeItem(at: keysDir.appendingPathComponent(name)) }
        let scrub = try cli.run(["scrub", "--read-data"], env: new)
        XCTAssertEqual(scrub.status, 0, scrub.out + scrub.err)
        try ok(["forget", "--keep-last", "2", "--prune"], env: new)
        try ok(["key", "add"], env: ["CAIRN_PASSWORD": "after rotation", "CAIRN_NEW_PASSWORD": "new colleague"])
        let viaColleague: [String: String?] = ["CAIRN_PASSWORD": "new colleague", "CAIRN_CACHE_DIR": tmp.appendingPathComponent("colleague-cache").path]
        XCTAssertEqual(try ok(["restore", x, "--stdout"], env: viaColleague).stdout, before)
        XCTAssertEqual(try ok(["restore", y, "--stdout"], env: viaColleague).stdout, after)
        // A second rotation keeps all three generations' data readable.
        let r2 = try ok(["key", "rotate", "--json"], env: ["CAIRN_PASSWORD": "new colleague", "CAIRN_NEW_PASSWORD": "third"]).jsonObject()
        XCTAssertEqual(r2["generation"] as? Int, 2)
        let third: [String: String?] = ["CAIRN_PASSWORD": "third"]
        XCTAssertEqual(try ok(["restore", x, "--stdout"], env: third).stdout, before)
        XCTAssertEqual(try ok(["restore", y, "--stdout"], env: third).stdout, after)
    }

    /// A rotation stopped after storing its key file (the old key files still there) may already
    /// have data sealed under the new key: running it again must finish it, never delete that key file.
    func testRerunAfterAnInterruptedRotationFinishesItAndLosesNothing() throws {
        try initRepo()
        let before = TestData.random(60_000, seed: 41)
        let x = try backup(["--stdin", "--name", "before"], stdin: .data(before)).string("snapshot_id")
        let old = try FileManager.default.contentsOfDirectory(atPath: keysDir.path).map { ($0, try Data(contentsOf: keysDir.appendingPathComponent($0))) }
        let r = try ok(["key", "rotate", "--json"], env: ["CAIRN_NEW_PASSWORD": "rotated"]).jsonObject()
        let rotatedKey = try XCTUnwrap(r["key"] as? String)
        // Interrupted before the old key file was deleted; a backup then ran with the new passphrase.
        for (name, bytes) in old { try bytes.write(to: keysDir.appendingPathComponent(name)) }
        let after = TestData.random(60_000, seed: 42)
        let y = try backup(["--stdin", "--name", "after"], stdin: .data(after), env: ["CAIRN_PASSWORD": "rotated"]).string("snapshot_id")

        // Run again with the old passphrase and another new one: the new key file does not open with
        // either, and it is a rotated keyring in what the old key calls a never-rotated repository: refused.
        let refused = try failsOneLine(["key", "rotate"], env: ["CAIRN_NEW_PASSWORD": "something else"])
        XCTAssertTrue(refused.err.contains(String(rotatedKey.prefix(8))) && refused.err.contains("interrupted"), refused.summary)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: keysDir.path)), Set(old.map(\.0) + [rotatedKey]), "nothing deleted")

        // Run again with the old passphrase and the same new one: it finishes that rotation.
        let again = try ok(["key", "rotate", "--json"], env: ["CAIRN_NEW_PASSWORD": "rotated"]).jsonObject()
        XCTAssertEqual(again["resumed"] as? Bool, true)
        XCTAssertEqual(again["key"] as? String, rotatedKey)
        XCTAssertEqual(again["generation"] as? Int, 1)
        XCTAssertEqual(Set(again["removed"] as? [String] ?? []), Set(old.map(\.0)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: keysDir.path), [rotatedKey])
        let fresh: [String: String?] = ["CAIRN_PASSWORD": "rotated", "CAIRN_CACHE_DIR": tmp.appendingPathComponent("fresh-cache").path]
        XCTAssertEqual(try ok(["restore", x, "--stdout"], env: fresh).stdout, before)
        XCTAssertEqual(try ok(["restore", y, "--stdout"], env: fresh).stdout, after, "data sealed under the interrupted rotation's key is kept")
        // A completed rotation is not "resumed": the next one makes generation 2.
        let next = try ok(["key", "rotate", "--json"], env: ["CAIRN_PASSWORD": "rotated", "CAIRN_NEW_PASSWORD": "rotated"]).jsonObject()
        XCTAssertEqual(next["resumed"] as? Bool, false)
        XCTAssertEqual(next["generation"] as? Int, 2)
        XCTAssertEqual(try ok(["restore", y, "--stdout"], env: ["CAIRN_PASSWORD": "rotated"]).stdout, after)
    }

    /// `remove` and `passwd` say plainly what they do not do.
    func testRemoveAndPasswdHelpSayWhatTheyDoNotRevoke() throws {
        for sub in ["remove", "passwd"] {
            let help = try ok(["key", sub, "--help"]).out
            XCTAssertTrue(help.contains("key rotate"), "\(sub): \(help)")
        }
        XCTAssertTrue(try ok(["key", "rotate", "--help"]).out.contains("nothing written after it"))
    }
}
