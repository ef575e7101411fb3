@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// `key passwd` stopped after each of its store writes (issue 14.9): afterwards
/// exactly one of the old and the new passphrase opens, from any machine, and
/// one key file is left.
final class PassphraseChangeTests: XCTestCase {
    func open(_ store: any ObjectStore, _ passphrase: String) async -> Result<Repository, Error> {
        do {
            return .success(try await Repository.open(store: store, passphrase: Array(passphrase.utf8),
                                                      cacheBase: TestCacheDirectory.make()))
        } catch { return .failure(error) }
    }

    func keyFiles(_ store: any ObjectStore) async throws -> [String] {
        try await store.list(.keys).map(\.name).filter { !KeyReplacement.isRecordName($0) }
    }

    func testStoppedAtEveryStepExactlyOnePassphraseOpens() async throws {
        for allowed in 0...4 {
            let mem = MemoryStore()
            let t = try await TestRepository.make(store: mem)
            let old = String(decoding: TestRepository.passphrase, as: UTF8.self), new = "new passphrase \(allowed)"
            // A process killed after `allowed` store writes: nothing after them reaches the store.
            let crashing = try await Repository.open(store: FaultInjectingStore(mem, allowMutations: allowed), passphrase: TestRepository.passphrase,
                                                     cacheBase: t.cache)
            do {
                _ = try await KeyManager(repo: crashing).changePassphrase(to: Array(new.utf8), parameters: ScryptParameters(logN: 10, r: 8, p: 1))
                XCTAssertEqual(allowed, 4, "the change needs four writes")
            } catch {
                XCTAssertLessThan(allowed, 4, "\(error)")
            }
            // Either passphrase first, on a machine that knows nothing of the change.
            for oldFirst in [true, false] {
                let copy = MemoryStore()
                for ns in ObjectNamespace.allCases { for k in try await mem.list(ns) { try await copy.put(k, try await mem.get(k)) } }
                let first = await open(copy, oldFirst ? old : new), second = await open(copy, oldFirst ? new : old)
                let (oldResult, newResult) = oldFirst ? (first, second) : (second, first)
                var opened: [String] = []
                if case .success = oldResult { opened.append("old") }
                if case .success = newResult { opened.append("new") }
                XCTAssertEqual(opened.count, 1, "stopped after \(allowed) writes, \(oldFirst ? "old" : "new") tried first: \(opened) open")
                // The new passphrase wins as soon as its key file was stored (write 2).
                XCTAssertEqual(opened, allowed >= 2 ? ["new"] : ["old"], "stopped after \(allowed) writes")
                if case .failure(let e) = oldResult, allowed >= 2 {
                    XCTAssertTrue(describe(e).contains("key passwd") || describe(e).contains("wrong passphrase"), describe(e))
                }
                let left = try await keyFiles(copy)
                XCTAssertEqual(left.count, 1, "stopped after \(allowed) writes: one key file left, not \(left)")
                let records = try await copy.list(.keys).filter { KeyReplacement.isRecordName($0.name) }
                XCTAssertTrue(records.isEmpty, "the record is gone once a reader looked")
            }
        }
    }

    /// A record no master-key holder wrote (anyone can write to the store) changes nothing.
    func testAForgedRecordIsIgnored() async throws {
        let mem = MemoryStore()
        _ = try await TestRepository.make(store: mem)
        let keys = try await keyFiles(mem)
        try await mem.put(ObjectKey(.keys, KeyReplacement.namePrefix + String(repeating: "ab", count: 32)), Array("CRNR\u{1}\u{0}junk".utf8))
        guard case .success = await open(mem, String(decoding: TestRepository.passphrase, as: UTF8.self)) else { return XCTFail("the passphrase must still open") }
        let after = try await keyFiles(mem)
        XCTAssertEqual(after, keys)
    }
}
