@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// `Copier.progress` counts what a copy does, for `cairn copy`'s progress line (issue 19: it was
/// counted and never shown, and counted no files).
final class CopyProgressTests: XCTestCase {
    func testACopyCountsItsBytesAndFilesByIdAndReChunking() async throws {
        let source = try await TestRepository.make()
        let bytes = pseudoRandomBytes(2 << 20, seed: 9)
        _ = try await backupStream(source.repo, bytes, name: "one")
        _ = try await backupStream(source.repo, pseudoRandomBytes(1 << 20, seed: 10), name: "two")

        // Re-chunking (another chunker): every byte of both streams goes through the chunker.
        let other = try await TestRepository.make()
        let rechunking = try Copier(source: source.repo, destination: other.repo)
        XCTAssertEqual(rechunking.progress.bytesCopied, 0)
        _ = try await rechunking.copy(try source.repo.snapshots())
        XCTAssertEqual(rechunking.progress.work.counters.bytesDone, 3 << 20)
        XCTAssertEqual(rechunking.progress.work.counters.filesDone, 2)

        // By id (the same chunker): the plaintext of every data blob stored; trees count too.
        var options = Repository.CreateOptions()
        options.scrypt = ScryptParameters(logN: 10, r: 8, p: 1)
        options.chunkerSeed = source.repo.chunkerSeed
        options.profiles = source.repo.config.profiles
        let replica = try await Repository.create(store: MemoryStore(), passphrase: Array("replica".utf8),
                                                  cacheBase: TestCacheDirectory.make(), options: options)
        let byID = try Copier(source: source.repo, destination: replica)
        XCTAssertTrue(byID.sameChunker)
        _ = try await byID.copy(try source.repo.snapshots())
        XCTAssertGreaterThanOrEqual(byID.progress.bytesCopied, 3 << 20)
        XCTAssertLessThan(byID.progress.bytesCopied, (3 << 20) + 16384, "data plus two small trees")
        XCTAssertEqual(byID.progress.work.counters.filesDone, 2)
    }
}
