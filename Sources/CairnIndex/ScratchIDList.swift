import CairnFormat

/// A list of blob ids a command gathers and reads back in order, later, in parts (the delta
/// blobs a copy stores in its second pass): in memory up to `memoryLimit` ids, past that in an
/// unlinked scratch file (`ScratchFile`), so memory does not grow with how many ids there are.
/// Not thread-safe: one owner appends, then reads.
public final class ScratchIDList: @unchecked Sendable {
    private let directory: String
    private let memoryLimit: Int
    private var memory: [ChunkID] = []
    private var file: ScratchFile? = nil
    /// Ids in the file (all before those in `memory`).
    private var spilled = 0

    /// - Parameters:
    ///   - directory: where a scratch file goes once the list outgrows `memoryLimit` ids (the
    ///     repository's cache directory: on disk).
    ///   - memoryLimit: ids held in memory (32 B each) before they go to the file.
    public init(directory: String, memoryLimit: Int = 1 << 16) {
        self.directory = directory
        self.memoryLimit = max(1, memoryLimit)
    }

    public var count: Int { spilled + memory.count }
    public var isEmpty: Bool { count == 0 }
    /// Whether any id went to the scratch file.
    public var hasSpilled: Bool { spilled > 0 }
    /// Ids held in memory now (the rest are in the scratch file).
    public var inMemoryCount: Int { memory.count }

    public func append(_ id: ChunkID) throws {
        memory.append(id)
        if memory.count >= memoryLimit { try spill() }
    }

    private func spill() throws {
        if file == nil { file = try ScratchFile(directory: directory) }
        guard let file else { return }
        var raw = [UInt8](repeating: 0, count: ChunkID.byteCount)
        for id in memory {
            raw.withUnsafeMutableBytes { id.copyBytes(to: $0.baseAddress!) }
            try raw.withUnsafeBytes { try file.append($0) }
        }
        spilled += memory.count
        memory.removeAll(keepingCapacity: true)
    }

    /// The ids `range` (in the order appended).
    public func ids(_ range: Range<Int>) throws -> [ChunkID] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        var out: [ChunkID] = []
        out.reserveCapacity(range.count)
        let fromFile = range.clamped(to: 0..<spilled)
        if !fromFile.isEmpty, let file {
            try file.flush()
            var raw = [UInt8](repeating: 0, count: fromFile.count * ChunkID.byteCount)
            try raw.withUnsafeMutableBytes { buf in
                try file.read(at: UInt64(fromFile.lowerBound * ChunkID.byteCount), count: buf.count, into: buf.baseAddress!)
            }
            raw.withUnsafeBytes { buf in
                for i in 0..<fromFile.count {
                    out.append(ChunkID(raw: UnsafeRawBufferPointer(rebasing: buf[i * ChunkID.byteCount..<(i + 1) * ChunkID.byteCount])))
                }
            }
        }
        let fromMemory = range.clamped(to: spilled..<count)
        if !fromMemory.isEmpty { out += memory[(fromMemory.lowerBound - spilled)..<(fromMemory.upperBound - spilled)] }
        return out
    }
}
