@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

final class KeyCacheTests: XCTestCase {
    /// A cached key opens the repository without its key file; a wrong
    /// passphrase is still refused; without the cache the same store fails.
    func testCachedKeyServesLaterOpensAndStillChecksThePassphrase() async throws {
        let t = try await TestRepository.make()
        let cache = try XCTUnwrap(KeyCache(seconds: 60))
        let first = try await Repository.open(store: t.store, passphrase: TestRepository.passphrase, cacheBase: t.cache, keyCache: cache)
        let config = try await t.store.get(.config)
        guard cache.load(configObject: config, keyName: first.keyID, passphrase: TestRepository.passphrase) != nil else {
            throw XCTSkip("the kernel keyring is not available here (add_key refused): the cache does nothing, as designed")
        }
        XCTAssertNil(cache.load(configObject: config, keyName: first.keyID, passphrase: Array("wrong".utf8)))

        // Break the key file under its own name: only the cache can open the repository now.
        try await t.store.put(ObjectKey(.keys, first.keyID), Array(repeating: 0x5a, count: 200))
        do {
            _ = try await Repository.open(store: t.store, passphrase: TestRepository.passphrase, cacheBase: t.cache)
            XCTFail("without the cache the broken key file cannot open the repository")
        } catch CairnError.keyFileDamaged {}
        let cached = try await Repository.open(store: t.store, passphrase: TestRepository.passphrase, cacheBase: t.cache, keyCache: cache)
        XCTAssertEqual(cached.keys.master, t.repo.keys.master)
        do {
            _ = try await Repository.open(store: t.store, passphrase: Array("wrong".utf8), cacheBase: t.cache, keyCache: cache)
            XCTFail("a wrong passphrase must not be served from the cache")
        } catch CairnError.keyFileDamaged {}
    }

    /// After `key rotate` the cache keeps the whole keyring (every generation), so a cached open
    /// reads what the old key sealed and writes under the new one.
    func testCachedKeyringAfterRotationKeepsEveryGeneration() async throws {
        let t = try await TestRepository.make()
        let newPassphrase = Array("rotated passphrase".utf8)
        let rotation = try await KeyManager(repo: t.repo).rotate(to: newPassphrase, parameters: ScryptParameters(logN: 10, r: 8, p: 1))
        XCTAssertEqual(rotation.generation, 1)
        let cache = try XCTUnwrap(KeyCache(seconds: 60))
        let opened = try await Repository.open(store: t.store, passphrase: newPassphrase, cacheBase: t.cache, keyCache: cache)
        XCTAssertEqual(opened.keys.generations.map(\.number), [1, 0])
        let config = try await t.store.get(.config)
        guard let cached = cache.load(configObject: config, keyName: rotation.key, passphrase: newPassphrase) else {
            throw XCTSkip("the kernel keyring is not available here (add_key refused): the cache does nothing, as designed")
        }
        XCTAssertEqual(cached.generations.map(\.number), [1, 0])
        XCTAssertEqual(cached.generations.map(\.keys.master), [opened.keys.current.master, t.repo.keys.master])
        XCTAssertNil(cache.load(configObject: config, keyName: rotation.key, passphrase: TestRepository.passphrase))
    }

    func testZeroLifetimeMeansOff() {
        XCTAssertNil(KeyCache(seconds: 0))
        XCTAssertEqual(KeyCache(seconds: 900)?.lifetime, 900)
    }
}
