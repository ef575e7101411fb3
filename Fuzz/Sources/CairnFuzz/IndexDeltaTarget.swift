import CairnFormat
import CairnIndex

/// An `index/` object's plaintext, decoded and then loaded into the local
/// index cache (SQLite, in memory here) the way every command's sync loads
/// it, and read back.
enum IndexDeltaTarget {
    static let target = FuzzTarget(
        name: "index-delta", maxLength: 16 << 10, summary: "IndexDelta.decode, then RepositoryIndex.addIndexObject and lookups",
        seeds: { [SampleValues.indexDelta.encoded(), IndexDelta(packs: []).encoded()] },
        run: { bytes in
            guard let delta = try? IndexDelta.decode(bytes) else { return }
            require(delta.encoded() == bytes, "index delta does not re-encode to its bytes")
            let index: RepositoryIndex
            do { index = try RepositoryIndex(path: ":memory:") } catch { fatalError("no in-memory index: \(error)") }
            do { try index.addIndexObject("fuzz", delta) } catch { return }
            for pack in delta.packs {
                for e in pack.entries { _ = try? index.lookup(e.id, type: e.type) }
            }
            _ = try? index.totals()
        })
}
