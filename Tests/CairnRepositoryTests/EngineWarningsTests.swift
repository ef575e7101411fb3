@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// The engine never prints (issue 19): its warnings reach the `WarningReporter` the caller hands
/// to `Repository.open`, and nothing reaches standard error.
final class EngineWarningsTests: XCTestCase {
    func testWarningsGoToTheReporterAndNothingIsPrinted() async throws {
        let store = MemoryStore()
        _ = try await TestRepository.make(store: store)
        // A junk key file: skipped with a warning, the repository still opens.
        let junk = Array("not a key file".utf8)
        try await store.put(ObjectKey(.keys, String(repeating: "ab", count: 32)), junk)
        let cache = TestCacheDirectory.make()
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: cache) }

        let collected = CollectedWarnings()
        let printed = try await capturingStandardError {
            let repo = try await Repository.open(store: store, passphrase: TestRepository.passphrase, cacheBase: cache, warnings: collected)
            // Later warnings of the open repository go to the same reporter.
            try repo.index.dropBlobLocations()
            try await repo.reloadAfterMiss(ChunkID(bytes: [UInt8](repeating: 7, count: 32))!)
        }
        XCTAssertEqual(printed, "", "the engine wrote to standard error")
        // The junk key file, the test key's cheap scrypt, then the reload after a miss.
        let expected = ["is damaged or tampered", "uses weak scrypt parameters", "is not in the local index"]
        XCTAssertEqual(collected.messages.count, expected.count, "\(collected.messages)")
        for (message, part) in zip(collected.messages, expected) { XCTAssertTrue(message.contains(part), message) }

        // Without a reporter the warnings are dropped, still unprinted.
        let silent = try await capturingStandardError {
            _ = try await Repository.open(store: store, passphrase: TestRepository.passphrase, cacheBase: cache)
        }
        XCTAssertEqual(silent, "")
    }

    /// Runs `body` with file descriptor 2 pointing at a temporary file; returns what was written there.
    private func capturingStandardError(_ body: () async throws -> Void) async throws -> String {
        let path = NSTemporaryDirectory() + "cairn-stderr-\(UUID().uuidString)"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let saved = dup(2)
        dup2(fd, 2)
        do { try await body() } catch { dup2(saved, 2); close(saved); close(fd); throw error }
        dup2(saved, 2); close(saved); close(fd)
        defer { unlink(path) }
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
