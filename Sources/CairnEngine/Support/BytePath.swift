import CairnFormat
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

    /// For messages: escaped as `ls -b` does (`EscapedText`), so a name with a
    /// newline or invalid UTF-8 prints as one distinct line.
    var description: String { EscapedText.escape(bytes) }

    /// For JSON: the bytes as a string (invalid UTF-8 as replacement characters;
    /// JSON's own escapes take care of control characters).
    var jsonString: String { String(decoding: bytes, as: UTF8.self) }
}
