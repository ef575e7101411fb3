import CairnFormat
import CairnRepository
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file descriptor and cuts it into chunks, keeping one buffer of
/// max(4 MiB, twice the largest chunk) in memory whatever the input size.
public final class ChunkReader {
    private let fd: Int32
    private let chunker: FastCDC
    private var buffer: [UInt8]
    private var start = 0, end = 0
    private var eof = false
    /// Bytes read so far.
    private(set) var bytesRead: UInt64 = 0
    let path: String

    /// - Parameters:
    ///   - prefix: bytes that come before what `fd` still has (already read from it).
    ///   - reusing: a buffer a finished reader gave back (`surrenderBuffer()`);
    ///     a tree of many files then zero-fills and faults in 4 MiB once, not per file.
    public init(fd: Int32, chunker: FastCDC, path: String, prefix: [UInt8] = [], reusing spare: [UInt8] = []) {
        self.fd = fd; self.chunker = chunker; self.path = path
        let size = max(4 << 20, chunker.parameters.maximumSize * 2, prefix.count)
        buffer = spare.count >= size ? spare : [UInt8](repeating: 0, count: size)
        if !prefix.isEmpty {
            // In place: replaceSubrange would copy the whole buffer.
            buffer.withUnsafeMutableBytes { b in prefix.withUnsafeBytes { b.copyMemory(from: $0) } }
        }
        end = prefix.count
        bytesRead = UInt64(prefix.count)
    }

    /// Gives the read buffer back for the next reader; this one is done.
    public func surrenderBuffer() -> [UInt8] {
        defer { buffer = []; start = 0; end = 0; eof = true }
        return buffer
    }

    /// The next chunk, or nil at the end of the input.
    public func next() throws -> [UInt8]? {
        if !eof && end - start < chunker.parameters.maximumSize { try fill() }
        guard end > start else { return nil }
        return buffer.withUnsafeBytes { b -> [UInt8] in
            let n = chunker.cut(UnsafeRawBufferPointer(rebasing: b[start..<end]))
            defer { start += n }
            return Array(b[start..<start + n])
        }
    }

    /// The next chunks, at least `bytes` of them unless the input ends first;
    /// empty at the end of the input.
    public func next(bytes: Int) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var total = 0
        while total < bytes, let chunk = try next() {
            total += chunk.count
            out.append(chunk)
        }
        return out
    }

    private func fill() throws {
        if start > 0 {
            buffer.withUnsafeMutableBytes { b in
                if end > start { b.baseAddress!.copyMemory(from: b.baseAddress! + start, byteCount: end - start) }
            }
            end -= start; start = 0
        }
        while end < buffer.count && !eof {
            let n: Int
            do { n = try buffer.withUnsafeMutableBytes { (b) in try FileDescriptorIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: b[end...])) } } catch {
                throw CairnError.io("cannot read \(path): \(error)")
            }
            if n == 0 { eof = true } else { end += n; bytesRead += UInt64(n) }
        }
    }
}
