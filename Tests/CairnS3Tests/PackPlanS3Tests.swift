import CairnEngine
import CairnRepository
import CairnS3
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// The HTTP requests a client sends, counted on their way to the server.
final class CountingTransport: HTTPTransport, @unchecked Sendable {
    let base: any HTTPTransport
    private let lock = NSLock()
    private var sent: [HTTPRequest] = []
    init(_ base: any HTTPTransport) { self.base = base }
    var requests: [HTTPRequest] { lock.withLock { sent } }
    func reset() { lock.withLock { sent = [] } }
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { sent.append(request) }
        return try await base.send(request)
    }
}

/// Issue 16.6: a tree restore from S3 reads each pack with one GET (moto
/// reads the whole object for every ranged GET, so each extra GET of a pack
/// costs the server a whole pack), and the files come back byte for byte.
final class PackPlanS3Tests: XCTestCase {
    func testATreeRestoreReadsEachPackWithOneGET() async throws {
        let moto = try MotoServer.start()
        let dir = NSTemporaryDirectory() + "cairn-s3plan-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src + "/small", withIntermediateDirectories: true)
        var files: [String: [UInt8]] = [:]
        for i in 0..<3 { files["large\(i)"] = StoreConformance.bytes(5 << 20, seed: UInt64(30 + i)) }
        for i in 0..<40 { files["small/s\(i)"] = StoreConformance.bytes(2000 + i * 700, seed: UInt64(100 + i)) }
        for (rel, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: "\(src)/\(rel)")) }

        let bucket = S3TestSupport.bucketName("plan")
        let transport = CountingTransport(try S3StoreFactory.transport(connections: 8, timeout: 30))
        let client = S3Client(location: try S3Location(url: "s3:\(moto.endpoint)/\(bucket)/repo"),
                              credentials: try S3Credentials.resolve(environment: MotoServer.environment), region: "us-east-1",
                              transport: transport, connections: 8)
        if try await !client.bucketExists() { try await client.createBucket() }
        let store = S3Store(client: client)   // default segments: a span of a pack past 4 MiB is one exact ranged GET
        var create = Repository.CreateOptions()
        create.packSize = 6 << 20
        let passphrase = Array("plan test".utf8)
        let made = try await Repository.create(store: store, passphrase: passphrase, cacheBase: dir + "/cache0", options: create)
        var options = BackupOptions(name: "tree")
        options.fullPaths = false
        let backup = try await Archiver(repo: made, options: options).backup(paths: [src])

        // A new machine: a fresh cache. The trees are read first; then every GET of a pack is counted.
        let repo = try await Repository.open(store: store, passphrase: passphrase, cacheBase: dir + "/cache1")
        let record = try repo.resolveSnapshot(backup.snapshotID)
        var packs = Set<String>()
        var trees = [record.snapshot.root]
        while let id = trees.popLast() {
            for node in try await repo.loadTree(id).nodes {
                if let sub = node.subtree { trees.append(sub) }
                for chunk in node.content.ids { packs.insert(try XCTUnwrap(try repo.index.lookup(chunk, type: .data)).pack.hex) }
            }
        }
        XCTAssertGreaterThanOrEqual(packs.count, 3, "the tree spans several packs")
        transport.reset()
        let result = try await Restorer(repo: repo, snapshot: record).restore(to: dir + "/out")
        XCTAssertEqual(result.files, UInt64(files.count))
        for (rel, bytes) in files {
            XCTAssertEqual([UInt8](FileManager.default.contents(atPath: "\(dir)/out/src/\(rel)") ?? Data([1])), bytes, rel)
        }
        let gets = transport.requests.filter { $0.method == "GET" && $0.url.contains("/data/") }
        var perPack: [String: Int] = [:]
        for get in gets { perPack[String(get.url.split(separator: "/").last ?? ""), default: 0] += 1 }
        XCTAssertEqual(Set(perPack.keys), packs, "the packs holding the content, and no other")
        XCTAssertEqual(perPack.filter { $0.value != 1 }, [:], "one GET per pack (\(gets.count) GETs for \(packs.count) packs)")
    }
}
