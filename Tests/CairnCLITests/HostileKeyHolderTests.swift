import CairnCrypto
import Foundation
import XCTest

/// What someone who can write to the store *with the key* (one compromised
/// client of a shared repository) can forge: blobs whose lengths and counts
/// lie (#15.11, #15.12) and trees that share subtrees and lists without end
/// (#15.13, #15.14). Every object here is forged by `Forger` from the spec.
final class HostileKeyHolderTests: CLITestCase {
    var forger: Forger!

    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRepo()
        forger = try Forger(repository: repo, passphrase: password)
    }

    /// Stores `trees` (metadata) and `data`, then a snapshot of the first tree; returns its id.
    func commit(root: Forger.Blob, trees: [Forger.Blob] = [], lists: [Forger.Blob] = [], data: [Forger.Blob] = [], name: String = "forged") throws -> String {
        if !data.isEmpty { try forger.store(data, packType: 0) }
        try forger.store([root] + trees + lists, packType: 1)
        return try forger.snapshot(root: root.id, name: name)
    }

    /// A file node of one data chunk.
    func oneChunkFile(_ name: String, chunk: [UInt8], size: UInt64) -> [UInt8] {
        Forger.fileNode(name, size: size, content: Forger.contentRef(level: 0, ids: [chunk]))
    }

    /// #15.11: a 131 KB blob that expands to a 4 GiB chunk (4.2 GB RSS in the review) is refused
    /// from its index entry, before anything is read or decompressed; so is a frame that lies
    /// about its size within the limit.
    func testChunkLargerThanTheRepositoryMaximumIsDamageNotAnAllocation() throws {
        let huge = UInt64(UInt32.max)
        let frame = Forger.zstdFrame(count: huge)
        XCTAssertLessThan(frame.count, 140_000)
        let chunkID = Forger.sha256(Array("the chunk it claims to be".utf8))
        let bomb = try forger.blob(0, id: chunkID, encoded: [1] + frame, rawLength: huge)
        let root = try forger.blob(1, Forger.tree([oneChunkFile("bomb", chunk: chunkID, size: huge)]))
        let id = try commit(root: root, data: [bomb])

        let r = try fails(["restore", id, "--stdout"], code: 1)
        XCTAssertTrue(r.stdout.isEmpty)
        XCTAssertTrue(r.err.contains("raw length 4294967295 is more than the 1048576 bytes a data blob may have"), r.err)
        let scrub = try cli.run(["scrub", "--read-data"])
        XCTAssertNotEqual(scrub.status, 0)
        XCTAssertTrue((scrub.out + scrub.err).contains("raw length 4294967295"), scrub.out + scrub.err)

        // Within the limit, a frame that holds more than it declares (and than the entry says) fails
        // inside the bounded output buffer.
        let liarID = Forger.sha256(Array("a liar".utf8))
        let liar = try forger.blob(0, id: liarID, encoded: [1] + Forger.zstdFrame(count: 8 << 20, declared: 64 << 10), rawLength: 64 << 10)
        let liarRoot = try forger.blob(1, Forger.tree([oneChunkFile("liar", chunk: liarID, size: 64 << 10)]))
        let liarSnapshot = try commit(root: liarRoot, data: [liar], name: "liar")
        let l = try fails(["restore", liarSnapshot, "--stdout"], code: 1)
        XCTAssertTrue(l.err.contains("decompression failed"), l.err)
        XCTAssertLessThanOrEqual(l.stdout.count, 0)
    }

    /// #15.12: a tree of about 8 KB claiming 268 M nodes made ls, restore, scrub and prune abort
    /// allocating 45 GB. Counts are bounded by the bytes left; a tree larger than any directory a
    /// writer stores is refused from its entry.
    func testTreeCountsAndSizesAreBoundedByTheBytesLeft() throws {
        let claims = Forger.tree([], count: 268_435_456) + [UInt8](repeating: 0, count: 8_000)
        let liar = try forger.blob(1, claims)
        let bombTree = Forger.tree([], count: 268_435_456)
        let bomb = try forger.blob(1, id: Forger.sha256(Array("a directory of 300 MB".utf8)),
                                   encoded: [1] + Forger.zstdFrame(prefix: bombTree, count: 300 << 20), rawLength: UInt64(bombTree.count) + 300 << 20)
        XCTAssertLessThan(bomb.sealed.count, 20_000)
        for (blob, name, expected) in [(liar, "liar", "exceeds"), (bomb, "bomb", "more than the 268435456 bytes a tree blob may have")] {
            let root = try forger.blob(1, Forger.tree([Forger.directoryNode("d", subtree: blob.id)]))
            let id = try commit(root: root, trees: [blob], name: name)
            for args in [["ls", id], ["restore", id, "--target", tmp.appendingPathComponent("out-\(name)").path]] {
                let r = try fails(args, code: 1)
                XCTAssertTrue(r.err.contains(expected), "\(args): \(r.err)")
            }
            let scrub = try cli.run(["scrub"])
            XCTAssertNotEqual(scrub.status, 0)
            XCTAssertTrue((scrub.out + scrub.err).contains("/d: everything below it"), scrub.out + scrub.err)
            let prune = try fails(["prune"], code: 1)
            XCTAssertTrue(prune.err.contains("prune stops") || prune.err.contains(expected), prune.err)
            try FileManager.default.removeItem(at: repo.appendingPathComponent("snapshots/\(id)"))
        }
    }
}
