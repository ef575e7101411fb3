import CZstd
import Synchronization

/// Errors from zstd.
public enum CompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    case failed(String)
    case tooLarge(Int)
    public var description: String {
        switch self {
        case .failed(let m): return "zstd: \(m)"
        case .tooLarge(let n): return "zstd frame claims \(n) bytes, more than the chunk limit"
        }
    }
}

/// zstd one-shot compression with pooled contexts: a context costs about a
/// megabyte to create, far more than compressing one small chunk.
public final class Zstd: Sendable {
    public static let shared = Zstd()
    /// A C context handle; each is used by one thread at a time (checked out of the pool).
    private struct Handle: @unchecked Sendable { let pointer: OpaquePointer }
    private let cctxs = Mutex<[Handle]>([])
    private let dctxs = Mutex<[Handle]>([])

    public init() {}

    deinit {
        cctxs.withLock { for c in $0 { ZSTD_freeCCtx(c.pointer) } }
        dctxs.withLock { for d in $0 { ZSTD_freeDCtx(d.pointer) } }
    }

    private func withCCtx<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        let c = cctxs.withLock { $0.popLast() } ?? Handle(pointer: ZSTD_createCCtx()!)
        defer { cctxs.withLock { $0.append(c) } }
        return try body(c.pointer)
    }

    private func withDCtx<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        let d = dctxs.withLock { $0.popLast() } ?? Handle(pointer: ZSTD_createDCtx()!)
        defer { dctxs.withLock { $0.append(d) } }
        return try body(d.pointer)
    }

    /// One zstd frame (content size recorded in the frame header). With a
    /// `dictionary`, its bytes serve as raw content that matches may point
    /// into: a delta against a similar chunk.
    public func compress(_ input: UnsafeRawBufferPointer, level: Int32, dictionary: UnsafeRawBufferPointer? = nil) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = withCCtx { c in
            out.withUnsafeMutableBytes { o in
                ZSTD_compress_usingDict(c, o.baseAddress, bound, input.baseAddress, input.count,
                                        dictionary?.baseAddress, dictionary?.count ?? 0, level)
            }
        }
        if ZSTD_isError(n) != 0 { throw CompressionError.failed(String(cString: ZSTD_getErrorName(n))) }
        out.removeSubrange(n...)
        return out
    }

    public func compress(_ input: [UInt8], level: Int32) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0, level: level) }
    }

    /// Decompresses one frame whose header records its size, refusing frames
    /// that claim more than `limit` bytes (a corrupt header must not allocate
    /// gigabytes). A frame made with a dictionary needs the same dictionary.
    public func decompress(_ input: UnsafeRawBufferPointer, limit: Int, dictionary: UnsafeRawBufferPointer? = nil) throws -> [UInt8] {
        let size = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        if size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN {
            throw CompressionError.failed("frame has no valid content size")
        }
        guard size <= UInt64(limit) else { throw CompressionError.tooLarge(Int(clamping: size)) }
        // Uninitialised: zstd writes every byte it reports, and a short frame is an error below.
        return try [UInt8](unsafeUninitializedCapacity: Int(size)) { o, count in
            let n = withDCtx { d in
                ZSTD_decompress_usingDict(d, o.baseAddress, Int(size), input.baseAddress, input.count,
                                          dictionary?.baseAddress, dictionary?.count ?? 0)
            }
            if ZSTD_isError(n) != 0 { throw CompressionError.failed(String(cString: ZSTD_getErrorName(n))) }
            guard n == Int(size) else { throw CompressionError.failed("frame decompressed to \(n) bytes, header said \(size)") }
            count = n
        }
    }

    public func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, limit: limit) }
    }

    /// Maps the CLI names to levels: off 0, fast 1, default 2 (a new repository's level), max 19, or a number 1...22.
    public static func level(named s: String) -> Int32? {
        switch s {
        case "off": return 0
        case "fast": return 1
        case "default": return 2
        case "max": return 19
        default:
            guard let n = Int32(s), (1...22).contains(n) else { return nil }
            return n
        }
    }
}
