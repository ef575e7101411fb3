import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX helpers for building source trees with exact metadata.
enum Posix {
    static func lstat(_ path: String) -> stat? {
        var st = stat()
        #if canImport(Glibc)
        return Glibc.lstat(path, &st) == 0 ? st : nil
        #else
        return Darwin.lstat(path, &st) == 0 ? st : nil
        #endif
    }

    static func mtimeNanos(_ st: stat) -> Int64 {
        #if os(Linux)
        return Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #else
        return Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        #endif
    }

    static var isRoot: Bool { geteuid() == 0 }

    /// Sets atime and mtime (nanoseconds since the epoch) without following a symlink.
    static func setMtime(_ path: String, nanos: Int64) throws {
        // Floor division: tv_nsec must be in 0..<1e9 also before 1970.
        var sec = nanos / 1_000_000_000, nsec = nanos % 1_000_000_000
        if nsec < 0 { sec -= 1; nsec += 1_000_000_000 }
        let ts = timespec(tv_sec: Int(sec), tv_nsec: Int(nsec))
        var times = [ts, ts]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw errnoError("utimensat \(path)") }
    }

    static func chmod(_ path: String, _ mode: mode_t) throws {
        #if canImport(Glibc)
        guard Glibc.chmod(path, mode) == 0 else { throw errnoError("chmod \(path)") }
        #else
        guard Darwin.chmod(path, mode) == 0 else { throw errnoError("chmod \(path)") }
        #endif
    }

    static func lchown(_ path: String, _ uid: uid_t, _ gid: gid_t) throws {
        #if canImport(Glibc)
        guard Glibc.lchown(path, uid, gid) == 0 else { throw errnoError("lchown \(path)") }
        #else
        guard Darwin.lchown(path, uid, gid) == 0 else { throw errnoError("lchown \(path)") }
        #endif
    }

    static func symlink(_ target: String, at path: String) throws {
        guard FileManagerCompat.symlink(target, path) == 0 else { throw errnoError("symlink \(path)") }
    }

    static func errnoError(_ what: String) -> CLIError {
        CLIError.setup("\(what): \(String(cString: strerror(errno)))")
    }

    /// Flips every bit of the byte at `offset`.
    static func flipByte(_ url: URL, at offset: UInt64) throws {
        let h = try FileHandle(forUpdating: url)
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        guard let b = try h.read(upToCount: 1), b.count == 1 else { throw CLIError.setup("cannot read byte \(offset) of \(url.path)") }
        try h.seek(toOffset: offset)
        try h.write(contentsOf: Data([b[0] ^ 0xFF]))
    }

    static func truncate(_ url: URL, to size: UInt64) throws {
        let h = try FileHandle(forUpdating: url)
        defer { try? h.close() }
        try h.truncate(atOffset: size)
    }

    static func fileSize(_ url: URL) -> UInt64 {
        guard let st = lstat(url.path) else { return 0 }
        return UInt64(st.st_size)
    }
}

enum FileManagerCompat {
    static func symlink(_ target: String, _ path: String) -> Int32 {
        #if canImport(Glibc)
        return Glibc.symlink(target, path)
        #else
        return Darwin.symlink(target, path)
        #endif
    }
}

/// One entry of a captured tree.
struct TreeEntry: Equatable, CustomStringConvertible {
    enum Kind: String { case file, dir, symlink, other }
    var kind: Kind
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var mtimeNanos: Int64
    var size: UInt64
    var content: Data?
    var linkTarget: String?

    var description: String {
        "\(kind) mode \(String(mode, radix: 8)) owner \(uid):\(gid) mtime \(mtimeNanos) size \(size)"
            + (linkTarget.map { " -> \($0)" } ?? "")
    }
}

/// A directory tree captured with contents and metadata, keyed by relative path.
struct TreeSnapshot {
    var entries: [String: TreeEntry]

    /// Captures `root` (itself as "."), recursing into directories, never following symlinks.
    static func capture(_ root: URL) throws -> TreeSnapshot {
        var out: [String: TreeEntry] = [:]
        func visit(_ path: String, rel: String) throws {
            guard let st = Posix.lstat(path) else { throw Posix.errnoError("lstat \(path)") }
            let fmt = UInt32(st.st_mode) & UInt32(S_IFMT)
            var e = TreeEntry(kind: .other, mode: UInt32(st.st_mode) & 0o7777, uid: st.st_uid, gid: st.st_gid,
                              mtimeNanos: Posix.mtimeNanos(st), size: 0, content: nil, linkTarget: nil)
            switch fmt {
            case UInt32(S_IFREG):
                e.kind = .file
                e.size = UInt64(st.st_size)
                e.content = FileManager.default.contents(atPath: path)
            case UInt32(S_IFLNK):
                e.kind = .symlink
                e.mode = 0  // not meaningful for symlinks on Linux
                e.linkTarget = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            case UInt32(S_IFDIR):
                e.kind = .dir
                for name in try FileManager.default.contentsOfDirectory(atPath: path) {
                    try visit(path + "/" + name, rel: rel == "." ? name : rel + "/" + name)
                }
            default:
                break
            }
            out[rel] = e
        }
        try visit(root.path, rel: ".")
        return TreeSnapshot(entries: out)
    }
}

/// What to compare between two captured trees.
struct CompareOptions {
    var owner = Posix.isRoot
    var mtime = true
    var mode = true
    /// Compare the mtime of the root directory itself.
    var rootMetadata = true
}

/// Asserts that `actual` has exactly the entries of `expected` with equal bytes and metadata.
func assertTreesEqual(_ expected: TreeSnapshot, _ actual: TreeSnapshot, _ options: CompareOptions = CompareOptions(),
                      _ context: String = "", file: StaticString = #filePath, line: UInt = #line) {
    let ek = Set(expected.entries.keys), ak = Set(actual.entries.keys)
    let missing = ek.subtracting(ak).sorted(), extra = ak.subtracting(ek).sorted()
    XCTAssertTrue(missing.isEmpty, "\(context) missing from restore: \(missing)", file: file, line: line)
    XCTAssertTrue(extra.isEmpty, "\(context) unexpected in restore: \(extra)", file: file, line: line)
    for key in ek.intersection(ak).sorted() {
        let e = expected.entries[key]!, a = actual.entries[key]!
        let what = "\(context) \(key)"
        XCTAssertEqual(e.kind, a.kind, "\(what): kind", file: file, line: line)
        if e.kind == .file {
            XCTAssertEqual(e.size, a.size, "\(what): size", file: file, line: line)
            XCTAssertTrue(e.content == a.content, "\(what): content differs", file: file, line: line)
        }
        if e.kind == .symlink { XCTAssertEqual(e.linkTarget, a.linkTarget, "\(what): link target", file: file, line: line) }
        if key == "." && !options.rootMetadata { continue }
        if options.mode && e.kind != .symlink {
            XCTAssertEqual(String(e.mode, radix: 8), String(a.mode, radix: 8), "\(what): mode", file: file, line: line)
        }
        if options.mtime { XCTAssertEqual(e.mtimeNanos, a.mtimeNanos, "\(what): mtime (ns)", file: file, line: line) }
        if options.owner {
            XCTAssertEqual(e.uid, a.uid, "\(what): uid", file: file, line: line)
            XCTAssertEqual(e.gid, a.gid, "\(what): gid", file: file, line: line)
        }
    }
}

/// Every file below `root` with its size and mtime: to prove nothing was written.
func directoryListing(_ root: URL) -> [String: String] {
    var out: [String: String] = [:]
    guard let en = FileManager.default.enumerator(atPath: root.path) else { return out }
    while let rel = en.nextObject() as? String {
        if let st = Posix.lstat(root.path + "/" + rel) {
            out[rel] = "mode \(String(st.st_mode, radix: 8)) size \(st.st_size) mtime \(Posix.mtimeNanos(st))"
        }
    }
    return out
}
