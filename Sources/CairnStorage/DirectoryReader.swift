#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists a directory with readdir(3), reading each entry's name in place.
///
/// `struct dirent` declares `d_name` as 256 bytes, but readdir hands out
/// records of `d_reclen` bytes packed into its own buffer: a record is
/// usually much shorter than the struct. Copying the struct or its `d_name`
/// member (which is what `e.pointee.d_name` does in Swift) reads past the
/// record and, when readdir's buffer ends at a page boundary, past the
/// mapped memory (SIGSEGV). Every directory listing in Cairn goes through
/// this type, which reads only the bytes the record holds.
public enum DirectoryReader {
    /// The entries of the directory at `path` (a NUL-terminated path of any
    /// bytes; a `String` converts implicitly), without "." and "..", in the
    /// order readdir returns them. nil with errno set when the directory
    /// cannot be opened or read.
    public static func names(_ path: UnsafePointer<CChar>) -> [[UInt8]]? {
        guard let d = opendir(path) else { return nil }
        defer { closedir(d) }
        return names(of: d)
    }

    /// The entries of the directory open as `fd` (an `O_DIRECTORY`
    /// descriptor; the caller keeps it: a duplicate is read), from the
    /// start, without "." and "..". nil with errno set on failure.
    public static func names(directoryFD fd: Int32) -> [[UInt8]]? {
        let copy = dup(fd)
        guard copy >= 0 else { return nil }
        guard let d = fdopendir(copy) else { let e = errno; close(copy); errno = e; return nil }
        defer { closedir(d) }
        rewinddir(d)
        return names(of: d)
    }

    /// The entry names at `path` as strings (invalid UTF-8 repaired), for
    /// directories whose names Cairn or PostgreSQL chose. Throws a store
    /// error naming the path; a missing directory is empty.
    public static func stringNames(_ path: String) throws -> [String] {
        guard let list = names(path) else {
            if errno == ENOENT { return [] }
            throw LocalStore.error(path)
        }
        return list.map { String(decoding: $0, as: UTF8.self) }
    }

    private static func names(of d: OpaquePointer) -> [[UInt8]]? {
        var out: [[UInt8]] = []
        while true {
            errno = 0
            guard let e = readdir(d) else {
                if errno != 0 { return nil }
                return out
            }
            let name = name(ofRecord: UnsafeRawPointer(e))
            if name == [46] || name == [46, 46] { continue }
            out.append(name)
        }
    }

    /// The name held in one readdir record at `record`: at most
    /// `d_reclen - offsetof(d_name)` bytes are read, up to the first NUL.
    /// No field is read through a copy of the whole struct.
    public static func name(ofRecord record: UnsafeRawPointer) -> [UInt8] {
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let reclenOffset = MemoryLayout<dirent>.offset(of: \dirent.d_reclen)!
        let reclen = Int(record.loadUnaligned(fromByteOffset: reclenOffset, as: UInt16.self))
        let room = max(0, min(reclen, MemoryLayout<dirent>.size) - nameOffset)
        let start = (record + nameOffset).assumingMemoryBound(to: CChar.self)
        let length = strnlen(start, room)
        return Array(UnsafeRawBufferPointer(start: record + nameOffset, count: length))
    }
}
