import CairnFormat
import CairnStorage

extension Repository {
    /// One index object as `readIndexObjects` hands it over.
    package enum ReadIndexObject: Sendable {
        /// Opened and decoded; `size` bytes in the store.
        case delta(IndexDelta, size: Int)
        /// Cannot be used (refused for its size, not matching its name, not opening or not
        /// decoding): why.
        case unreadable(String)
    }

    /// Index objects `readIndexObjects` has fetched and decoded ahead of its body: a few keep
    /// both cores decoding while the body loads, and bound what is held decoded at once (an
    /// index object a writer makes holds up to ~400,000 entries).
    package static let indexReadWindow = 3

    /// Reads every index object the store lists, each opened and decoded in the task that
    /// fetched it (`indexReadWindow` at once), and hands each to `body` once, in name order.
    /// One gone between the listing and its read was merged into another by a writer running
    /// meanwhile (format-spec v2.md §5): the namespace is listed again and the new objects read,
    /// up to `rounds` times, until a listing loses nothing, so a merge never looks like damage.
    /// An object whose bytes do not hash to its name is unreadable here (what scrub and
    /// rebuild trust); a store error other than a missing object throws.
    package func readIndexObjects(rounds: Int = 8, _ body: (ObjectKey, ReadIndexObject) throws -> Void) async throws {
        var seen = Set<String>()
        for _ in 0..<rounds {
            let keys = try await store.list(.index).filter { !seen.contains($0.name) }.sorted(by: { $0.name < $1.name })
            guard !keys.isEmpty else { return }
            var vanished = false
            let keyring = self.keys
            try await fetchInOrder(keys, window: Self.indexReadWindow, prepare: { key, fetched -> ReadIndexObject? in
                switch fetched {
                case .gone: return nil
                case .unusable(let why): return .unreadable(why)
                case .bytes(let bytes):
                    guard MetadataObjects.matchesName(key, bytes) else { return .unreadable(MetadataObjects.nameMismatch) }
                    do { return .delta(try IndexDelta.decode(try keyring.openObject(.index, bytes)), size: bytes.count) }
                    catch { return .unreadable(describe(error)) }
                }
            }) { key, read in
                seen.insert(key.name)
                guard let read else { vanished = true; return }
                try body(key, read)
            }
            if !vanished { return }
        }
    }
}
