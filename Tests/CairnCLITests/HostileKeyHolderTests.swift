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
    @discardableResult
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

    // MARK: shared subtrees and lists (#15.13, #15.14)

    /// Runs cairn under /usr/bin/time; the result and the peak resident memory in MiB.
    func measured(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (CLIResult, Double) {
        var runner = cli!
        runner.launcher = ["/usr/bin/time", "-f", "cairn-peak-rss-kb %M"]
        let r = try runner.run(args)
        let kb = r.errLines.last { $0.hasPrefix("cairn-peak-rss-kb ") }.flatMap { Double($0.dropFirst("cairn-peak-rss-kb ".count)) }
        XCTAssertNotNil(kb, "no /usr/bin/time output (scripts/setup.sh installs it): \(r.err)", file: file, line: line)
        return (r, (kb ?? 0) / 1024)
    }

    /// A DAG of `levels` trees, each with two directories that are the same subtree:
    /// 2^levels paths, `levels + 1` trees. Returns the root and the trees.
    func sharedSubtreeDAG(levels: Int, leaf: [UInt8]) throws -> (root: Forger.Blob, trees: [Forger.Blob]) {
        var trees = [try forger.blob(1, Forger.tree([leaf]))]
        for _ in 0..<levels {
            let below = trees.last!.id
            trees.append(try forger.blob(1, Forger.tree([Forger.directoryNode("a", subtree: below), Forger.directoryNode("b", subtree: below)])))
        }
        return (trees.last!, Array(trees.dropLast()))
    }

    /// A DAG of 2 × 40 levels (2^40 paths): scrub took 25-95 s at 2 × 20 in the review and never
    /// finished beyond; it reads each tree once now, as prune, copy and repair do.
    func testSharedSubtreesAreWalkedOnce() throws {
        let chunk = try forger.blob(0, Array("shared".utf8))
        let (root, trees) = try sharedSubtreeDAG(levels: 40, leaf: oneChunkFile("f", chunk: chunk.id, size: 6))
        let id = try commit(root: root, trees: trees, data: [chunk], name: "dag")

        let (scrub, scrubMiB) = try measured(["scrub", "--read-data"])
        XCTAssertEqual(scrub.status, 0, scrub.err)
        XCTAssertTrue(scrub.out.contains("no damage found"), scrub.out)
        let (prune, pruneMiB) = try measured(["prune"])
        XCTAssertEqual(prune.status, 0, prune.err)
        // Copy walks each tree once too (same-chunker copy by id).
        let replica = tmp.appendingPathComponent("replica").path
        try ok(["init", "--repo", replica, "--copy-chunker-from", repo.path])
        try ok(["copy", "--to", replica, id])
        XCTAssertEqual(try ok(["snapshots", "--json", "--repo", replica]).jsonArray().count, 1)
        let replicaScrub = try cli.run(["scrub", "--repo", replica])
        XCTAssertEqual(replicaScrub.status, 0, replicaScrub.out + replicaScrub.err)
        print("2x40 shared-subtree DAG: scrub --read-data peak \(Int(scrubMiB)) MiB, prune peak \(Int(pruneMiB)) MiB")
    }

    /// Damage under a shared subtree is reported under every path that reaches it (2^14 here,
    /// each found once and replayed); beyond the listing limit paths are counted, never dropped.
    func testDamageUnderASharedSubtreeIsTracedOnceAndReportedEverywhere() throws {
        let lost = Forger.sha256(Array("a chunk that was never stored".utf8))
        let (root, trees) = try sharedSubtreeDAG(levels: 14, leaf: oneChunkFile("f", chunk: lost, size: 100))
        let kept = try forger.blob(0, Array("kept".utf8))   // a data pack, so the forged index has one
        let id = try commit(root: root, trees: trees, data: [kept], name: "damaged-dag")
        let r = try cli.run(["scrub", "--json"])
        XCTAssertEqual(r.status, 4, r.err)
        let report = try r.jsonObject()
        let affected = try XCTUnwrap(report["affected"] as? [[String: Any]])
        XCTAssertEqual(affected.count, 1 << 14)
        XCTAssertEqual(Set(affected.compactMap { $0["path"] as? String }).count, 1 << 14, "every path, once")
        XCTAssertTrue(affected.allSatisfy { ($0["path"] as? String)?.hasSuffix("/f") == true && ($0["snapshot"] as? String) == id })
        XCTAssertEqual(report["affected_snapshots"] as? [String], [id])
        let blobs = try XCTUnwrap(report["damaged_blobs"] as? [[String: Any]])
        XCTAssertEqual(blobs.compactMap { $0["blob"] as? String }, [Forger.hex(lost)])

        // Repair rewrites the shared subtree once: the file becomes 100 zeros under every path,
        // 10,000 paths listed in the new snapshot, the rest counted; the result scrubs clean.
        let repaired = try ok(["repair", "snapshots", "--json"]).jsonArray()
        XCTAssertEqual(repaired.count, 1)
        XCTAssertEqual((repaired.first?["losses"] as? [String: Any])?.count, 10_000)
        XCTAssertEqual(repaired.first?["losses_not_listed"] as? Int, (1 << 14) - 10_000)
        let after = try cli.run(["scrub"])
        XCTAssertEqual(after.status, 0, after.out + after.err)
        let newID = try XCTUnwrap(repaired.first?["new"] as? String)
        let one = "/a/b/a/b/a/b/a/b/a/b/a/b/a/b/f"
        let out = tmp.appendingPathComponent("restored")
        try ok(["restore", newID, "--target", out.path, "--include", one])
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(String(one.dropFirst()))), Data(count: 100))
    }

    /// A file of 4096 references to one list of 4096 references to one list of 4096 references to
    /// one chunk: 4096³ chunk references (64 GiB of content) that scrub and prune never finished.
    func testSharedListFanOutIsWalkedOnce() throws {
        let chunk = try forger.blob(0, [0x78])
        let l0 = try forger.blob(2, Forger.contentRef(level: 0, ids: Array(repeating: chunk.id, count: 4096)))
        let l1 = try forger.blob(2, Forger.contentRef(level: 1, ids: Array(repeating: l0.id, count: 4096)))
        let size = UInt64(4096) * 4096 * 4096
        let root = try forger.blob(1, Forger.tree([Forger.fileNode("huge", size: size, content: Forger.contentRef(level: 2, ids: Array(repeating: l1.id, count: 4096)))]))
        let id = try commit(root: root, lists: [l0, l1], data: [chunk], name: "fan-out")
        let (scrub, scrubMiB) = try measured(["scrub", "--read-data"])
        XCTAssertEqual(scrub.status, 0, scrub.out + scrub.err)
        let (prune, pruneMiB) = try measured(["prune"])
        XCTAssertEqual(prune.status, 0, prune.err)
        let replica = tmp.appendingPathComponent("replica").path
        try ok(["init", "--repo", replica, "--copy-chunker-from", repo.path])
        try ok(["copy", "--to", replica, id])
        print("4096^3 shared-list fan-out: scrub --read-data peak \(Int(scrubMiB)) MiB, prune peak \(Int(pruneMiB)) MiB")
    }

    /// #15.14 (scrub side): 50,000 nested directories cost scrub 2.8 GB (memory with the square
    /// of the depth). The walk is iterative now: memory grows with the depth.
    func testDeepNestingCostsMemoryLinearInDepth() throws {
        var below = try forger.blob(1, Forger.tree([]))
        var trees = [below]
        for _ in 0..<50_000 {
            below = try forger.blob(1, Forger.tree([Forger.directoryNode("directory-name", subtree: below.id)]))
            trees.append(below)
        }
        let root = trees.removeLast()
        let kept = try forger.blob(0, Array("kept".utf8))
        try commit(root: root, trees: trees, data: [kept], name: "deep")
        let (scrub, mib) = try measured(["scrub"])
        XCTAssertEqual(scrub.status, 0, scrub.out + scrub.err)
        // 50,000 levels of a 15-byte name: a path of 800 KB; one copy per level was 40 GB.
        XCTAssertLessThan(mib, 600, "scrub of 50,000 nested directories")
        let (prune, pruneMiB) = try measured(["prune"])
        XCTAssertEqual(prune.status, 0, prune.err)
        print("50,000 nested directories: scrub peak \(Int(mib)) MiB, prune peak \(Int(pruneMiB)) MiB")
    }
}
