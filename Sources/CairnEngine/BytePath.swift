#if canImport(Glibc)
import Glibc
#endif

/// A file-system path as raw bytes. POSIX names need not be UTF-8, and a
/// Swift `String` would silently replace such bytes, so the archiver and the
/// restorer build every path they hand to the kernel from bytes.
struct BytePath: CustomStringConvertible, Sendable {
    private(set) var bytes: [UInt8]

    init(_ string: String) { bytes = Array(string.utf8) }
    init(bytes: [UInt8]) { self.bytes = bytes }

    /// This path with one more component.
    func appending(_ name: [UInt8]) -> BytePath {
        var b = bytes
        if b.last != 47 { b.append(47) }
        b += name
        return BytePath(bytes: b)
    }

    /// This path with a suffix added to its last component.
    func withSuffix(_ suffix: String) -> BytePath { BytePath(bytes: bytes + Array(suffix.utf8)) }

    /// Calls `body` with a NUL-terminated C string of the bytes.
    func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (bytes + [0]).withUnsafeBufferPointer { buf in
            try buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { try body($0) }
        }
    }

    /// For messages: invalid UTF-8 is shown as replacement characters.
    var description: String { String(decoding: bytes, as: UTF8.self) }
}
