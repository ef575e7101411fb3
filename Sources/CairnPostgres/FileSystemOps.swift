import CairnStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small file-system steps with errors that name the path.
enum FileSystemOps {
    static func makeDirectory(_ path: String, mode: mode_t, parents: Bool = false) throws {
        if parents {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)]) }
            catch { throw PostgresError.pgdata("cannot create \(path): \(error.localizedDescription)") }
            return
        }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw PostgresError.pgdata("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw PostgresError.pgdata("cannot move \(from) to \(to): \(String(cString: strerror(errno)))") }
    }

    /// Writes a whole file through a temporary name, fsynced, then renamed.
    static func writeFile(_ path: String, _ text: String, mode: mode_t = 0o600) throws {
        let tmp = path + ".cairn-tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw PostgresError.pgdata("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) }
            if n < 0 { if errno == EINTR { continue }; close(fd); unlink(tmp); throw PostgresError.pgdata("cannot write \(tmp): \(String(cString: strerror(errno)))") }
            off += n
        }
        fsync(fd); close(fd)
        try rename(tmp, path)
    }

    /// `lchown` of a whole tree (the restored data directory gets its directory's owner).
    static func chownTree(_ root: String, uid: uid_t, gid: gid_t) throws {
        guard lchown(root, uid, gid) == 0 else { throw PostgresError.pgdata("cannot set the owner of \(root): \(String(cString: strerror(errno)))") }
        // Names as bytes (PGDATA may hold names that are not UTF-8); directories only are descended.
        var pending: [[UInt8]] = [Array(root.utf8)]
        while let dir = pending.popLast() {
            let cDir = dir + [0]
            guard let names = cDir.withUnsafeBufferPointer({ $0.withMemoryRebound(to: CChar.self) { DirectoryReader.names($0.baseAddress!) } }) else {
                throw PostgresError.pgdata("cannot list \(String(decoding: dir, as: UTF8.self)): \(String(cString: strerror(errno)))")
            }
            for name in names {
                let path = dir + [47] + name
                var st = stat()
                let failed = (path + [0]).withUnsafeBufferPointer { b in
                    b.withMemoryRebound(to: CChar.self) { p in lchown(p.baseAddress!, uid, gid) != 0 || lstat(p.baseAddress!, &st) != 0 }
                }
                if failed { throw PostgresError.pgdata("cannot set the owner of \(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(errno)))") }
                if st.st_mode & S_IFMT == S_IFDIR { pending.append(path) }
            }
        }
    }
}
