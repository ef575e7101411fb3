import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage

/// The snapshots as the store states them (its `snapshots/` objects: single
/// snapshots and catalogues), independent of the local cache: what prune
/// and scrub must trust.
package struct StoreSnapshots: Sendable {
    package struct Item: Sendable {
        package let id: String
        package let snapshot: Snapshot
        /// Its encoded plaintext (format-spec §13).
        package let plaintext: [UInt8]
        /// The store object that holds it (its own, or a catalogue).
        package let object: String
    }

    /// Every snapshot found, one per id, by id.
    package var items: [String: Item] = [:]
    /// The store objects read and what each holds: object name → snapshot ids (forgotten ones included).
    package var objects: [String: [String]] = [:]
    /// Catalogues, by name (single snapshots are the other objects).
    package var catalogues: Set<String> = []
    /// Each catalogue's entries as read.
    private var rawEntries: [String: [SnapshotCatalogue.Entry]] = [:]
    /// Objects (or entries of catalogues, as `name#id`) that could not be read, with why.
    package var unreadable: [(name: String, problem: String)] = []

    /// Reads every object of `snapshots/`. An object gone between the listing
    /// and its read was deleted by a writer that merged it into a catalogue
    /// (format-spec v2.md) or by a forget: the namespace is listed again and
    /// the objects new since are read, until a listing loses nothing (at most
    /// a few rounds), so a merge running meanwhile hides no snapshot.
    package static func load(_ repo: Repository, rounds: Int = 8) async throws -> StoreSnapshots {
        var view = StoreSnapshots()
        var seen = Set<String>()
        for _ in 0..<rounds {
            let keys = try await repo.store.list(.snapshots).filter { !seen.contains($0.name) }.sorted { $0.name < $1.name }
            guard !keys.isEmpty else { break }
            var vanished = false
            try await repo.fetchInOrder(keys) { key, fetched in
                seen.insert(key.name)
                switch fetched {
                case .gone: vanished = true
                case .unusable(let why): view.unreadable.append((key.name, why))
                case .bytes(let bytes): view.add(key, bytes, repo: repo)
                }
            }
            if !vanished { break }
        }
        return view
    }

    private mutating func add(_ key: ObjectKey, _ bytes: [UInt8], repo: Repository) {
        do {
            let (version, plain) = try repo.keys.openObjectVersioned(.snapshot, bytes)
            if version == 1 {
                guard MetadataObjects.matchesName(key, bytes) else { throw CairnError.other(MetadataObjects.nameMismatch) }
                let s = try Snapshot.decode(plain)
                objects[key.name] = [key.name]
                if items[key.name] == nil { items[key.name] = Item(id: key.name, snapshot: s, plaintext: plain, object: key.name) }
                return
            }
            let catalogue = try SnapshotCatalogue.decode(plain)
            catalogues.insert(key.name)
            rawEntries[key.name] = catalogue.entries
            objects[key.name] = catalogue.entries.map(\.id.hex)
            for e in catalogue.entries {
                do {
                    let s = try Snapshot.decode(e.plaintext)
                    if items[e.id.hex] == nil { items[e.id.hex] = Item(id: e.id.hex, snapshot: s, plaintext: e.plaintext, object: key.name) }
                } catch {
                    unreadable.append(("\(key.name)#\(e.id.hex)", describe(error)))
                }
            }
        } catch {
            unreadable.append((key.name, describe(error)))
        }
    }

    /// Catalogue `name` without the snapshots `dropping` names: every other
    /// entry as read (undecodable ones included, byte for byte). Nil when it was not read.
    package func entries(ofCatalogue name: String, dropping: Set<String>) -> [SnapshotCatalogue.Entry]? {
        guard catalogues.contains(name) else { return nil }
        return rawEntries[name]?.filter { !dropping.contains($0.id.hex) }
    }

    /// Every snapshot id any object read holds (undecodable catalogue entries included).
    package var allIDs: Set<String> { Set(objects.values.joined()) }
}
