@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import XCTest

/// `TreeWalker` and `ListExpander` on trees and list blobs held in memory
/// here (no store): order, paths, visit-once, depth and damaged list levels.
final class WalkTests: XCTestCase {
    private static func id(_ n: Int) -> ChunkID {
        var bytes = [UInt8](repeating: 0, count: 32)
        withUnsafeBytes(of: UInt64(n).littleEndian) { for (i, b) in $0.enumerated() { bytes[i] = b } }
        bytes[31] = 0xA5
        return ChunkID(bytes: bytes)!
    }

    private static func dir(_ name: String, _ sub: ChunkID) -> Node {
        var n = Node(name: Array(name.utf8), kind: .directory)
        n.subtree = sub
        return n
    }

    private static func file(_ name: String, _ content: ContentRef) -> Node {
        Node(name: Array(name.utf8), kind: .file, content: content)
    }

    // MARK: TreeWalker

    func testDepthFirstPreOrderVisitsPostOrderLeavesWithPaths() async throws {
        // root: a/ (x), b ; a: x
        let (root, a) = (Self.id(1), Self.id(2))
        let trees: [ChunkID: Tree] = [
            root: Tree(nodes: [Self.dir("a", a), Self.file("b", ContentRef())]),
            a: Tree(nodes: [Self.file("x", ContentRef())]),
        ]
        var events: [String] = []
        try await TreeWalker.walk(root, load: { trees[$0]! }, visit: { path, _ in
            events.append("visit " + String(decoding: path, as: UTF8.self))
        }, leave: { id in events.append(id == root ? "leave root" : "leave a") })
        XCTAssertEqual(events, ["visit /a", "visit /a/x", "leave a", "visit /b", "leave root"])
    }

    func testEnterFalseSkipsASharedSubtreeSoEachTreeIsLoadedOnce() async throws {
        // A DAG 2 wide and 40 deep: 2^40 paths, 41 trees.
        let depth = 40
        var trees: [ChunkID: Tree] = [Self.id(depth): Tree(nodes: [Self.file("f", ContentRef())])]
        for level in (0..<depth).reversed() {
            let below = Self.id(level + 1)
            trees[Self.id(level)] = Tree(nodes: [Self.dir("l", below), Self.dir("r", below)])
        }
        var seen = Set<ChunkID>(), loads = 0, visits = 0
        try await TreeWalker.walk(Self.id(0), enter: { seen.insert($0).inserted }, load: { loads += 1; return trees[$0]! },
                                  visit: { _, _ in visits += 1 })
        XCTAssertEqual(loads, depth + 1)
        XCTAssertEqual(visits, 2 * depth + 1)
    }

    func testFiftyThousandNestedDirectoriesNeedNoDeepStack() async throws {
        let depth = 50_000
        var loads = 0, deepest = 0
        try await TreeWalker.walk(Self.id(0), load: { id in
            loads += 1
            let n = Int(id.bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            return n == depth ? Tree(nodes: []) : Tree(nodes: [Self.dir("d", Self.id(n + 1))])
        }, visit: { path, _ in deepest = max(deepest, path.count) })
        XCTAssertEqual(loads, depth + 1)
        XCTAssertEqual(deepest, 2 * depth, "each level adds \"/d\" to the path")
    }

    func testAnErrorFromLoadStopsTheWalk() async throws {
        struct Boom: Error {}
        let root = Self.id(1)
        let trees: [ChunkID: Tree] = [root: Tree(nodes: [Self.dir("a", Self.id(2)), Self.file("b", ContentRef())])]
        var visited: [String] = []
        do {
            try await TreeWalker.walk(root, load: { guard let t = trees[$0] else { throw Boom() }; return t },
                                      visit: { path, _ in visited.append(String(decoding: path, as: UTF8.self)) })
            XCTFail("the missing tree is reported")
        } catch is Boom {}
        XCTAssertEqual(visited, ["/a"])
    }

    func testRewriteRebuildsBottomUpEachTreeOnceWithChangedNodes() async throws {
        // root: a/ -> s, b/ -> s (shared), f ; s: x
        let (root, s) = (Self.id(1), Self.id(2))
        let trees: [ChunkID: Tree] = [
            root: Tree(nodes: [Self.dir("a", s), Self.dir("b", s), Self.file("f", ContentRef())]),
            s: Tree(nodes: [Self.file("x", ContentRef())]),
        ]
        var made: [ChunkID: ChunkID] = [:], saved: [(ChunkID, String, [String])] = [], changed: [String] = [], loads = 0
        let newRoot = try await TreeWalker.rewrite(root, known: { id, _ in made[id] }, load: { id, _ in loads += 1; return trees[id]! }, change: { path, node in
            changed.append(String(decoding: path, as: UTF8.self))
            if node.kind == .file { node.size = 7 }
        }, save: { id, path, nodes in
            XCTAssertTrue(nodes.allSatisfy { $0.kind != .file || $0.size == 7 }, "the changed nodes are saved")
            saved.append((id, String(decoding: path, as: UTF8.self), nodes.map { String(decoding: $0.name, as: UTF8.self) }))
            let new = Self.id(100 + saved.count)
            made[id] = new
            return new
        })
        XCTAssertEqual(loads, 2, "the shared subtree is walked once")
        XCTAssertEqual(changed, ["/a", "/a/x", "/b", "/f"])
        XCTAssertEqual(saved.map(\.1), ["/a", ""], "the subtree first, at the path it was first met; the root last")
        XCTAssertEqual(saved.last?.2, ["a", "b", "f"])
        XCTAssertEqual(newRoot, Self.id(102))
    }

    func testRewriteReplacesSubtreeIdsInTheParent() async throws {
        let (root, s) = (Self.id(1), Self.id(2))
        let trees: [ChunkID: Tree] = [root: Tree(nodes: [Self.dir("a", s)]), s: Tree(nodes: [])]
        var rootNodes: [Node] = []
        _ = try await TreeWalker.rewrite(root, load: { id, _ in trees[id]! }, change: { _, _ in }, save: { id, _, nodes in
            if id == root { rootNodes = nodes; return Self.id(50) }
            return Self.id(60)
        })
        XCTAssertEqual(rootNodes.first?.subtree, Self.id(60))
    }

    // MARK: ListExpander

    func testDataRunsInOrderThroughTwoLevelsAndListsLeftAfterTheirChunks() async throws {
        let chunks = (100..<106).map(Self.id)
        let (l1, l2, top) = (Self.id(1), Self.id(2), Self.id(3))
        let lists: [ChunkID: [UInt8]] = [
            l1: ContentRef(level: 0, ids: Array(chunks[0..<3])).encodedListBlob(),
            l2: ContentRef(level: 0, ids: Array(chunks[3..<6])).encodedListBlob(),
            top: ContentRef(level: 1, ids: [l1, l2]).encodedListBlob(),
        ]
        var events: [String] = [], data: [ChunkID] = []
        try await ListExpander.expand(ContentRef(level: 2, ids: [top]), enter: { events.append("enter \($0 == top ? "top" : $0 == l1 ? "l1" : "l2")"); return true },
                                      readList: { lists[$0]! }, leave: { events.append("leave \($0 == top ? "top" : $0 == l1 ? "l1" : "l2")") },
                                      data: { events.append("data \($0.count)"); data += $0 })
        XCTAssertEqual(data, chunks)
        XCTAssertEqual(events, ["enter top", "enter l1", "data 3", "leave l1", "enter l2", "data 3", "leave l2", "leave top"])
    }

    func testEnterFalseSkipsAListAlreadySeen() async throws {
        let chunks = (100..<104).map(Self.id)
        let l = Self.id(1)
        let lists: [ChunkID: [UInt8]] = [l: ContentRef(level: 0, ids: chunks).encodedListBlob()]
        var seen = Set<ChunkID>(), reads = 0, data: [ChunkID] = []
        // One list named 4096 times: read once.
        try await ListExpander.expand(ContentRef(level: 1, ids: Array(repeating: l, count: 4096)), enter: { seen.insert($0).inserted },
                                      readList: { reads += 1; return lists[$0]! }, data: { data += $0 })
        XCTAssertEqual(reads, 1)
        XCTAssertEqual(data, chunks)
    }

    func testAListAtTheWrongLevelIsDamageNamingIt() async throws {
        let l = Self.id(7)
        // A level-2 reference naming a list blob of level 0 (format-spec §11 wants level 1).
        let lists: [ChunkID: [UInt8]] = [l: ContentRef(level: 0, ids: [Self.id(100)]).encodedListBlob()]
        do {
            try await ListExpander.expand(ContentRef(level: 2, ids: [l]), readList: { lists[$0]! }, data: { _ in XCTFail("no data from a damaged list") })
            XCTFail("the level mismatch is refused")
        } catch let e as CairnError {
            XCTAssertTrue(e.description.contains(l.hex) && e.description.contains("level 0 under level 2"), e.description)
        }
    }

    func testLevelZeroContentReadsNoList() async throws {
        var runs: [[ChunkID]] = []
        try await ListExpander.expand(ContentRef(level: 0, ids: [Self.id(1), Self.id(2)]), readList: { _ in XCTFail("no list to read"); return [] },
                                      data: { runs.append($0) })
        XCTAssertEqual(runs, [[Self.id(1), Self.id(2)]])
        try await ListExpander.expand(ContentRef(), readList: { _ in [] }, data: { runs.append($0) })
        XCTAssertEqual(runs.count, 1, "empty content hands over no run")
    }

    // MARK: the walk with per-directory state (the restore's)

    /// The core walk the restore rides on: each directory's state goes in when `visit` returns it
    /// and comes back to `leave` once its subtree is done (post-order, with the directory's path
    /// and the states above it, which may be changed); an empty directory is entered and left.
    func testStateWalkHandsEachDirectorysStateToLeaveWithItsPath() async throws {
        // root: a/ (e/ (empty), x), b (a tree's nodes are sorted by name)
        let a = Self.id(2)
        let trees: [ChunkID: Tree] = [a: Tree(nodes: [Self.file("x", ContentRef()), Node(name: Array("e".utf8), kind: .directory)])]
        var events: [String] = []
        var files: [String: Int] = [:]
        try await TreeWalker.walk(nodes: [Self.dir("a", a), Self.file("b", ContentRef())], root: "root", visit: { path, node, levels in
            let p = String(decoding: path, as: UTF8.self)
            events.append("visit \(p) in \(levels.last ?? "?")")
            guard node.kind == .directory else {
                files[levels[levels.count - 1], default: 0] += 1
                return nil
            }
            return (node.subtree.flatMap { trees[$0]?.nodes } ?? [], p)
        }, leave: { path, done, levels in
            events.append("leave \(done) at '\(String(decoding: path, as: UTF8.self))' under \(levels.joined(separator: ","))")
            // The parent's state is the walk's: a change here is what its later entries see.
            if !levels.isEmpty { levels[levels.count - 1] += "*" }
        })
        XCTAssertEqual(events, ["visit /a in root", "visit /a/e in /a", "leave /a/e at '/a/e' under root,/a",
                                "visit /a/x in /a*", "leave /a* at '/a' under root", "visit /b in root*", "leave root* at '' under "])
        XCTAssertEqual(files, ["/a*": 1, "root*": 1])
    }

    /// A list blob that cannot be read or decoded goes to `lost` (the damage trace records it and
    /// goes on: its siblings are still expanded, it is never left); `opened` sees each good one.
    func testALostListGoesToLostAndTheWalkGoesOn() async throws {
        let (good, unreadable, wrongLevel) = (Self.id(1), Self.id(2), Self.id(3))
        let lists: [ChunkID: [UInt8]] = [
            good: ContentRef(level: 0, ids: [Self.id(100)]).encodedListBlob(),
            wrongLevel: ContentRef(level: 1, ids: [Self.id(101)]).encodedListBlob(),
        ]
        struct Unreadable: Error {}
        var events: [String] = [], data: [ChunkID] = []
        func name(_ id: ChunkID) -> String { id == good ? "good" : id == unreadable ? "unreadable" : "wrong" }
        try await ListExpander.expand(ContentRef(level: 1, ids: [unreadable, good, wrongLevel, good]), readList: { id in
            guard let plain = lists[id] else { throw Unreadable() }
            return plain
        }, opened: { events.append("opened \(name($0))") }, lost: { id, error in
            events.append("lost \(name(id)): \(error is Unreadable ? "unreadable" : "damaged")")
        }, leave: { events.append("leave \(name($0))") }, data: { data += $0 })
        XCTAssertEqual(events, ["lost unreadable: unreadable", "opened good", "leave good", "lost wrong: damaged", "opened good", "leave good"])
        XCTAssertEqual(data, [Self.id(100), Self.id(100)])
        // Without a `lost` handler the first lost list stops the walk.
        do {
            try await ListExpander.expand(ContentRef(level: 1, ids: [good, unreadable]), readList: { id in
                guard let plain = lists[id] else { throw Unreadable() }
                return plain
            }, data: { _ in })
            XCTFail("a lost list stops a walk that does not handle it")
        } catch is Unreadable {}
    }
}
