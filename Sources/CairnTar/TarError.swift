/// What `TarStreamReader` rejects; each message names the offset in the stream.
public enum TarError: Error, CustomStringConvertible, Sendable, Equatable {
    case badChecksum(offset: UInt64)
    case badField(name: String, offset: UInt64)
    case unsupportedType(type: UInt8, path: String)
    case extendedHeaderTooLarge(size: UInt64, offset: UInt64)
    case truncated(offset: UInt64)
    /// A member name or hard-link target that is absolute or climbs out with "..".
    case unsafePath(path: String, offset: UInt64)

    public var description: String {
        switch self {
        case .badChecksum(let o): return "tar stream: the header at byte \(o) has a bad checksum (not a tar stream, or corrupted)"
        case .badField(let n, let o): return "tar stream: the header at byte \(o) has an unreadable \(n) field"
        case .unsupportedType(let t, let p):
            return "tar stream: member \(p.debugDescription) has type \(Character(Unicode.Scalar(t)).debugDescription), which is not a regular file, directory or link"
        case .extendedHeaderTooLarge(let s, let o): return "tar stream: the extended header at byte \(o) is \(s) bytes, more than the 1 MiB allowed"
        case .truncated(let o): return "tar stream ends at byte \(o) without the end-of-archive marker (truncated)"
        case .unsafePath(let p, let o):
            return "tar stream: the member at byte \(o) names \(p.debugDescription), which is absolute or leaves the extraction directory with '..' (refused)"
        }
    }
}
