/// A buffered, checksumming reader over an `RDBByteSource`.
///
/// Holds one fixed buffer whatever the input size; long strings are skipped
/// through it, never materialised. The CRC-64 covers every byte consumed so
/// far and is brought up to date lazily (before the buffer is refilled and
/// when asked), so the checksum costs one table pass per byte.
struct RDBReader<Source: RDBByteSource> {
    private var source: Source
    private var buffer: [UInt8]
    private var start = 0, end = 0
    /// Bytes of `buffer[0..<crcMark]` are already in `crc`.
    private var crcMark = 0
    private var crc = CRC64()
    private var atEnd = false
    /// Bytes consumed before `buffer[0]`.
    private var base: UInt64 = 0

    init(source: Source, bufferSize: Int = 256 << 10) {
        self.source = source
        buffer = [UInt8](repeating: 0, count: max(64, bufferSize))
    }

    /// Offset of the next byte to be consumed.
    var offset: UInt64 { base + UInt64(start) }

    /// The checksum of every byte consumed so far.
    mutating func checksum() -> UInt64 {
        foldCRC()
        return crc.value
    }

    private mutating func foldCRC() {
        guard start > crcMark else { return }
        buffer.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[crcMark..<start])) }
        crcMark = start
    }

    /// Makes at least one unconsumed byte available; false at the end of the input.
    private mutating func fill() throws -> Bool {
        if start < end { return true }
        if atEnd { return false }
        foldCRC()
        base += UInt64(start)
        start = 0; end = 0; crcMark = 0
        while end == 0 {
            let n: Int
            do { n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) } } catch let e as RDBError {
                throw e
            } catch {
                throw RDBError.source("cannot read the RDB: \(error)")
            }
            if n == 0 { atEnd = true; return false }
            end = n
        }
        return true
    }

    /// True when no byte is left.
    mutating func isAtEnd() throws -> Bool { !(try fill()) }

    mutating func byte() throws -> UInt8 {
        guard try fill() else { throw RDBError.truncated(offset: offset) }
        let b = buffer[start]
        start += 1
        return b
    }

    /// Exactly `n` bytes (callers keep `n` small).
    mutating func bytes(_ n: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(n, 1 << 16))   // n comes from the input: grow with the bytes that actually arrive
        while out.count < n {
            guard try fill() else { throw RDBError.truncated(offset: offset) }
            let take = min(n - out.count, end - start)
            out.append(contentsOf: buffer[start..<start + take])
            start += take
        }
        return out
    }

    /// Consumes `n` bytes without keeping them; returns the first `keep` and the last byte.
    @discardableResult
    mutating func skip(_ n: UInt64, keep: Int = 0) throws -> (prefix: [UInt8], last: UInt8?) {
        var left = n
        var prefix: [UInt8] = []
        var last: UInt8? = nil
        while left > 0 {
            guard try fill() else { throw RDBError.truncated(offset: offset) }
            let take = Int(min(left, UInt64(end - start)))
            if prefix.count < keep {
                prefix.append(contentsOf: buffer[start..<start + min(take, keep - prefix.count)])
            }
            last = buffer[start + take - 1]
            start += take
            left -= UInt64(take)
        }
        return (prefix, last)
    }

    mutating func uint32LE() throws -> UInt32 {
        let b = try bytes(4)
        return b.reversed().reduce(0) { ($0 << 8) | UInt32($1) }
    }

    mutating func uint64LE() throws -> UInt64 {
        let b = try bytes(8)
        return b.reversed().reduce(0) { ($0 << 8) | UInt64($1) }
    }

    mutating func uint32BE() throws -> UInt32 { try bytes(4).reduce(0) { ($0 << 8) | UInt32($1) } }
    mutating func uint64BE() throws -> UInt64 { try bytes(8).reduce(0) { ($0 << 8) | UInt64($1) } }
}
