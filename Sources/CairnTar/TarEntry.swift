/// One member of a tar stream, as `TarWriter` encodes it.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file
        case directory
        case symlink(target: [UInt8])
        /// A hard link to an earlier member's path.
        case hardLink(target: [UInt8])
        /// A named pipe (typeflag '6').
        case fifo
        /// A character device (typeflag '3').
        case characterDevice(major: UInt32, minor: UInt32)
        /// A block device (typeflag '4').
        case blockDevice(major: UInt32, minor: UInt32)
    }

    /// Path inside the archive, without a leading '/' (directories without a trailing one).
    public var path: [UInt8]
    public var kind: Kind
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var user: String
    public var group: String
    /// Nanoseconds since the epoch (may be negative).
    public var mtimeNanos: Int64
    /// Content length (files only).
    public var size: UInt64

    public init(path: [UInt8], kind: Kind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, user: String = "", group: String = "",
                mtimeNanos: Int64 = 0, size: UInt64 = 0) {
        self.path = path; self.kind = kind; self.mode = mode; self.uid = uid; self.gid = gid
        self.user = user; self.group = group; self.mtimeNanos = mtimeNanos; self.size = size
    }
}
