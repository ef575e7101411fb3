import CairnStorage
import CairnStores
import XCTest

/// The one registry of store backends: which URL gives which store, which URLs are refused and
/// how, and that a new backend is one more entry (issue 19).
final class StoreRegistryTests: XCTestCase {
    func testPlainPathsAndLocalSchemeAreLocalStores() throws {
        for (url, root) in [("/srv/repo", "/srv/repo"), ("local:/srv/repo", "/srv/repo"), ("./repo", "./repo"),
                            ("repo", "repo"), ("/a:b", "/a:b"), ("./x:y", "./x:y"), ("C:repo", "C:repo")] {
            let store = try StoreRegistry.standard.store(for: url)
            XCTAssertEqual((store as? LocalStore)?.root, root, url)
        }
    }

    func testUnknownSchemeAndEmptyLocationAreBadLocations() {
        XCTAssertThrowsError(try StoreRegistry.standard.store(for: "ftp://example.com/x")) { error in
            XCTAssertEqual(error as? StoreLocationError, .badLocation(
                "unknown repository scheme in \"ftp://example.com/x\": use a path, local:/path or s3:http(s)://HOST/BUCKET[/PREFIX]"))
        }
        XCTAssertThrowsError(try StoreRegistry.standard.store(for: "")) { error in
            XCTAssertEqual(error as? StoreLocationError, .badLocation("empty repository location"))
        }
    }

    func testMalformedS3URLIsABadLocationNotAnUnusableStore() {
        XCTAssertThrowsError(try StoreRegistry.standard.store(for: "s3:not-a-url")) { error in
            guard case .badLocation(let m)? = error as? StoreLocationError else { return XCTFail("\(error)") }
            XCTAssertFalse(m.isEmpty)
        }
    }

    func testS3URLGivesARetryingStore() throws {
        var options = StoreOptions()
        options.retry = RetryPolicy(attempts: 1, baseDelay: 0, maxDelay: 0)
        // Credentials may be absent on this machine: then the store is unusable, never a bad location.
        do {
            let store = try StoreRegistry.standard.store(for: "s3:http://127.0.0.1:1/bucket/prefix", options: options)
            XCTAssertTrue(store is RetryingStore, "\(type(of: store))")
            options.uploadLimitKiB = 64
            XCTAssertTrue(try StoreRegistry.standard.store(for: "s3:http://127.0.0.1:1/bucket", options: options) is RateLimitedStore)
        } catch let e as StoreLocationError {
            guard case .unusable = e else { return XCTFail("\(e)") }
        }
    }

    func testANewBackendIsOneEntry() async throws {
        let memory = MemoryStore()
        let prepared = Prepared()
        let mem = StoreBackend(scheme: "mem", syntax: "mem:NAME", open: { url, _ in
            XCTAssertEqual(url, "mem:one")
            return memory
        }, prepare: { url, _, objectLock in await prepared.record(url, objectLock) })
        let registry = StoreRegistry(StoreRegistry.standard.backends + [mem])
        XCTAssertTrue((try registry.store(for: "mem:one") as? MemoryStore) === memory)
        try await registry.prepareNewRepository(url: "mem:one", objectLock: true)
        try await registry.prepareNewRepository(url: "/tmp/plain", objectLock: true)
        let calls = await prepared.calls
        XCTAssertEqual(calls.map(\.0), ["mem:one"])
        XCTAssertEqual(calls.map(\.1), [true])
        XCTAssertThrowsError(try StoreRegistry.standard.store(for: "mem:one")) { error in
            guard case .badLocation(let m)? = error as? StoreLocationError else { return XCTFail("\(error)") }
            XCTAssertTrue(m.hasPrefix("unknown repository scheme"), m)
        }
        XCTAssertThrowsError(try registry.store(for: "nfs:x")) { error in
            XCTAssertTrue("\(error)".contains("mem:NAME"), "\(error)")
        }
    }
}

private actor Prepared {
    var calls: [(String, Bool)] = []
    func record(_ url: String, _ objectLock: Bool) { calls.append((url, objectLock)) }
}
