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

    /// An extended attribute (pax `SCHILY.xattr.NAME` records, as GNU tar and bsdtar write them).
    public struct Attribute: Sendable, Equatable {
        public var name: [UInt8]
        public var value: [UInt8]
        public init(name: [UInt8], value: [UInt8]) { self.name = name; self.value = value }
    }

    /// Path inside the archive, without a leading '/' (directories without a trailing one).
    public var path: [UInt8]
    public var kind: Kind
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var user: String
    public var group: String
    /// Seconds since the epoch (negative before 1970), and the nanoseconds
    /// after that second (0..<1e9): any time a file system can hold.
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: UInt32
    /// Content length (files only).
    public var size: UInt64
    public var xattrs: [Attribute] = []

    public init(path: [UInt8], kind: Kind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, user: String = "", group: String = "",
                mtimeNanos: Int64 = 0, size: UInt64 = 0) {
        self.path = path; self.kind = kind; self.mode = mode; self.uid = uid; self.gid = gid
        self.user = user; self.group = group; self.size = size
        (mtimeSeconds, mtimeNanoseconds) = Self.split(mtimeNanos)
    }

    /// The mtime in nanoseconds since the epoch, clamped to what Int64 holds (1677-2262).
    public var mtimeNanos: Int64 {
        get {
            // Before 1970 with a fraction, count from the next second down (Int64.min fits, its seconds alone do not).
            let (whole, part) = mtimeSeconds < 0 && mtimeNanoseconds > 0
                ? (mtimeSeconds + 1, Int64(mtimeNanoseconds) - 1_000_000_000) : (mtimeSeconds, Int64(mtimeNanoseconds))
            let (s, o1) = whole.multipliedReportingOverflow(by: 1_000_000_000)
            let (t, o2) = s.addingReportingOverflow(part)
            if o1 || o2 { return mtimeSeconds < 0 ? .min : .max }
            return t
        }
        set { (mtimeSeconds, mtimeNanoseconds) = Self.split(newValue) }
    }

    /// Seconds (rounded down) and the non-negative nanoseconds after them.
    public static func split(_ nanos: Int64) -> (Int64, UInt32) {
        var s = nanos / 1_000_000_000, n = nanos % 1_000_000_000
        if n < 0 { s -= 1; n += 1_000_000_000 }
        return (s, UInt32(n))
    }
}
