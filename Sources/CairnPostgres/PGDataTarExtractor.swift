import CairnTar
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes the members of a data directory tar stream (as `pg_basebackup -Ft`
/// produces it) under a directory: directories mode 0700, files with their
/// archived permission bits (owner only), symbolic links as archived. Paths
/// that are absolute or climb out with ".." are refused. Fed in pieces;
/// holds one open file at a time.
final class PGDataTarExtractor {
    let root: String
    private var reader = TarStreamReader()
    private var fd: Int32 = -1
    private var current = ""
    private(set) var files: UInt64 = 0
    private(set) var bytes: UInt64 = 0

    init(root: String) { self.root = root }

    deinit { if fd >= 0 { close(fd) } }

    /// Consumes the next piece of the stream.
    func feed(_ chunk: [UInt8]) throws {
        do { try reader.feed(chunk[...]) { try handle($0) } }
        catch let e as TarError { throw PostgresError.pgdata("cannot read the streamed base backup: \(e)") }
    }

    /// Throws unless the whole archive arrived.
    func finish() throws {
        do { try reader.finish() } catch { throw PostgresError.pgdata("cannot read the streamed base backup: \(error)") }
        if fd >= 0 { close(fd); fd = -1 }
    }

    private func handle(_ event: TarStreamReader.Event) throws {
        switch event {
        case .entry(let e):
            guard !e.path.isEmpty else { return }
            let comps = e.path.split(separator: 47)
            guard !comps.contains(where: { $0.elementsEqual([46, 46]) }) else {
                throw PostgresError.pgdata("the streamed base backup holds the path \(String(decoding: e.path, as: UTF8.self).debugDescription), which leaves the data directory")
            }
            let path = root + "/" + String(decoding: e.path, as: UTF8.self)
            switch e.kind {
            case .directory:
                try FileSystemOps.makeDirectory(path, mode: 0o700, parents: true)
            case .file:
                try FileSystemOps.makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o700, parents: true)
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(e.mode & 0o700 | 0o600))
                guard fd >= 0 else { throw PostgresError.pgdata("cannot create \(path): \(String(cString: strerror(errno)))") }
                current = path
                files += 1
            case .symlink(let target):
                try FileSystemOps.makeDirectory((path as NSString).deletingLastPathComponent, mode: 0o700, parents: true)
                guard symlink(String(decoding: target, as: UTF8.self), path) == 0 else {
                    throw PostgresError.pgdata("cannot create the symbolic link \(path): \(String(cString: strerror(errno)))")
                }
            case .hardLink(let target):
                guard link(root + "/" + String(decoding: target, as: UTF8.self), path) == 0 else {
                    throw PostgresError.pgdata("cannot create the hard link \(path): \(String(cString: strerror(errno)))")
                }
            case .fifo, .characterDevice, .blockDevice:
                // The tar reader yields no such members; a data directory holds none.
                throw PostgresError.pgdata("the streamed base backup holds the special file \(path)")
            }
        case .data(let slice):
            guard fd >= 0 else { return }
            try slice.withUnsafeBytes { buf in
                var off = 0
                while off < buf.count {
                    guard let base = buf.baseAddress else { return }
                    let n = write(fd, base + off, buf.count - off)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw PostgresError.pgdata("cannot write \(current): \(String(cString: strerror(errno)))")
                    }
                    off += n
                }
            }
            bytes += UInt64(slice.count)
        case .entryEnd:
            if fd >= 0 {
                guard close(fd) == 0 else { fd = -1; throw PostgresError.pgdata("cannot write \(current): \(String(cString: strerror(errno)))") }
                fd = -1
            }
        }
    }
}
