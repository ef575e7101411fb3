import CairnCrypto
import CairnFormat

/// Builds a `ContentRef` from a stream of chunk ids without holding more than
/// `fanout` ids per level: each full level is written out as a `list` blob
/// whose id moves up one level.
struct ContentBuilder {
    private var levels: [[ChunkID]] = [[]]
    private(set) var size: UInt64 = 0

    /// Appends one data chunk; returns list blobs to store (usually none).
    mutating func append(_ id: ChunkID, length: Int) -> [ContentRef] {
        size += UInt64(length)
        levels[0].append(id)
        return spill(force: false)
    }

    private mutating func spill(force: Bool) -> [ContentRef] {
        var out: [ContentRef] = []
        var level = 0
        while level < levels.count {
            let isTop = level == levels.count - 1
            if levels[level].count >= ContentRef.fanout || (force && !isTop) {
                if levels[level].isEmpty { level += 1; continue }
                let ref = ContentRef(level: UInt8(level), ids: levels[level])
                out.append(ref)
                levels[level].removeAll(keepingCapacity: true)
                if isTop { levels.append([]) }
                levels[level + 1].append(SHA256.id(ref.encodedListBlob()))
            }
            level += 1
        }
        return out
    }

    /// Ends the content: flushes partial lower levels. Returns the list blobs
    /// to store and the root reference for the tree node.
    mutating func finish() -> (lists: [ContentRef], root: ContentRef) {
        var lists: [ContentRef] = []
        if levels.count > 1 { lists = spill(force: true) }
        // Lower levels are now empty; the top level holds at most fanout ids.
        let top = levels.count - 1
        return (lists, ContentRef(level: UInt8(top), ids: levels[top]))
    }
}

