import CairnStorage

extension Repository {
    /// One object as `fetchInOrder` hands it over.
    enum FetchedObject {
        case bytes([UInt8])
        /// Deleted since the listing (a concurrent forget or prune).
        case gone
        /// Refused unread (too large): why.
        case unusable(String)
    }

    /// Objects a sync reads at once. A cache rebuilt after a disaster reads
    /// every index delta and snapshot (two per archived WAL segment): one GET
    /// at a time, 80,000 of them at 10 ms each is a quarter of an hour.
    static let syncFetchWindow = 16

    /// Reads `keys` (sizes checked first, `MetadataObjects.read`) with up to
    /// `syncFetchWindow` requests in flight and hands each object to `body`
    /// in the order of `keys`, on this task. An object deleted meanwhile or
    /// refused for its size is handed over as such; other store errors throw.
    func fetchInOrder(_ keys: [ObjectKey], _ body: (ObjectKey, FetchedObject) throws -> Void) async throws {
        try await fetchInOrder(keys, prepare: { _, fetched in fetched }, body)
    }

    /// `fetchInOrder`, with `prepare` run on each object in the task that
    /// fetched it, so that up to `syncFetchWindow` objects are decoded at
    /// once; `body` gets what it made, in the order of `keys`, on this task.
    /// `window` bounds the objects fetched (and prepared) ahead of `body`.
    func fetchInOrder<Prepared: Sendable>(_ keys: [ObjectKey], window: Int = syncFetchWindow,
                                          prepare: @escaping @Sendable (ObjectKey, FetchedObject) -> Prepared,
                                          _ body: (ObjectKey, Prepared) throws -> Void) async throws {
        guard !keys.isEmpty else { return }
        let store = self.store
        var pending: [Task<Prepared, Error>] = []
        var next = 0
        func refill() {
            while pending.count < max(1, window), next < keys.count {
                let key = keys[next]
                pending.append(Task {
                    let fetched: FetchedObject
                    do { fetched = .bytes(try await MetadataObjects.read(store, key)) }
                    catch StorageError.notFound { fetched = .gone }
                    catch CairnError.damagedObject(_, let why) { fetched = .unusable(why) }
                    return prepare(key, fetched)
                })
                next += 1
            }
        }
        refill()
        var done = 0
        do {
            while !pending.isEmpty {
                let fetched = try await pending.removeFirst().value
                refill()
                try body(keys[done], fetched)
                done += 1
            }
        } catch {
            for t in pending { t.cancel() }
            for t in pending { _ = try? await t.value }
            throw error
        }
    }
}
