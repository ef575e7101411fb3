import CairnEngine
import CairnRepository
import CairnSystem
import CairnTar
#if canImport(Glibc)
import Glibc
#endif

/// Writes the members of a data directory tar stream (as `pg_basebackup -Ft`
/// produces it) under a directory: directories mode 0700, files with their
/// archived permission bits (owner only), symbolic links as archived, names
/// as raw bytes (PGDATA may hold names that are not UTF-8).
///
/// Everything goes through directory descriptors (`DirectoryHandle`): the
/// reader already refuses absolute names, ".." and hard-link targets outside;
/// here no path is ever resolved through a symbolic link, including one the
/// archive itself extracted (a member under it is refused, as bsdtar does),
/// files are written unnamed and named when complete, and the owner (when
/// given, as root) is set on each descriptor. Fed in pieces; holds one open
/// file at a time.
final class PGDataTarExtractor {
    private let root: DirectoryHandle
    private let owner: (uid: UInt32, gid: UInt32)?
    private var reader = TarStreamReader()
    /// The directory of the last member, reused while members stay in it.
    private var parent: (path: [[UInt8]], handle: DirectoryHandle)?
    private var file: (new: DirectoryHandle.NewFile, directory: DirectoryHandle, name: [UInt8], display: String, entry: TarEntry)?
    private(set) var files: UInt64 = 0
    private(set) var bytes: UInt64 = 0

    init(root: DirectoryHandle, owner: (uid: UInt32, gid: UInt32)?) { self.root = root; self.owner = owner }

    deinit { if let f = file { f.directory.discard(f.new) } }

    /// Consumes the next piece of the stream.
    func feed(_ chunk: [UInt8]) throws {
        do { try reader.feed(chunk[...]) { try handle($0) } }
        catch let e as TarError { throw PostgresError.pgdata("cannot read the streamed base backup: \(e)") }
        catch let e as CairnError { throw PostgresError.pgdata("cannot extract the streamed base backup: \(e.description)") }
    }

    /// Throws unless the whole archive arrived; then makes it durable (one syncfs).
    func finish() throws {
        do { try reader.finish() } catch { throw PostgresError.pgdata("cannot read the streamed base backup: \(error)") }
        if let f = file { f.directory.discard(f.new); file = nil }
        do { try root.syncFileSystem() } catch { throw PostgresError.pgdata("\(error)") }
    }

    /// The member's name components ("" and "." dropped).
    private static func components(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: 47).map(Array.init).filter { $0 != [46] }
    }

    private static func display(_ comps: some Collection<[UInt8]>) -> String {
        comps.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
    }

    /// Opens the directory `comps` below the root, each level without
    /// following a link; missing levels are made (0700) when `create`.
    private func directory(_ comps: ArraySlice<[UInt8]>, create: Bool) throws -> DirectoryHandle {
        if let p = parent, p.path.elementsEqual(comps) { return p.handle }
        var at = root
        for i in comps.indices {
            let shown = Self.display(comps[...i])
            if create {
                at = try at.subdirectory(comps[i], display: shown, replacing: false).0
                if let owner, fchown(at.fd, owner.uid, owner.gid) != 0 {
                    throw PostgresError.pgdata("cannot set the owner of \(shown): \(String(cString: strerror(errno)))")
                }
            } else {
                at = try at.openSubdirectory(comps[i], display: shown)
            }
        }
        parent = (Array(comps), at)
        return at
    }

    private func handle(_ event: TarStreamReader.Event) throws {
        switch event {
        case .entry(let e):
            let comps = Self.components(e.path)
            guard let name = comps.last else { return }
            let shown = Self.display(comps)
            switch e.kind {
            case .directory:
                let dir = try directory(comps[...], create: true)
                guard fchmod(dir.fd, 0o700) == 0 else { throw PostgresError.pgdata("cannot set the mode of \(shown): \(String(cString: strerror(errno)))") }
            case .file:
                let dir = try directory(comps.dropLast(), create: true)
                file = (try dir.newFile(display: shown), dir, name, shown, e)
                files += 1
            case .symlink(let target):
                let dir = try directory(comps.dropLast(), create: true)
                var failures: [String] = []
                try dir.makeSymlink(name, target: target, display: shown) { n in
                    failures = dir.setSymlinkMetadata(n, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, setOwner: owner != nil, xattrs: [],
                                                      mtime: timespec(tv_sec: Int(e.mtimeSeconds), tv_nsec: Int(e.mtimeNanoseconds)))
                }
                if let f = failures.first(where: { $0.contains("owner") }) { throw PostgresError.pgdata("\(shown): \(f)") }
            case .hardLink(let target):
                let targetComps = Self.components(target)
                guard let sourceName = targetComps.last else {
                    throw PostgresError.pgdata("the streamed base backup's hard link \(shown) has no target")
                }
                let dir = try directory(comps.dropLast(), create: true)
                let source = try directory(targetComps.dropLast(), create: false)
                guard let st = source.entry(sourceName), (st.st_mode & S_IFMT) == S_IFREG else {
                    throw PostgresError.pgdata("the streamed base backup's hard link \(shown) names \(Self.display(targetComps)), which is not a file extracted before it")
                }
                guard try dir.hardLink(name, to: sourceName, in: source, expected: (UInt64(st.st_dev), UInt64(st.st_ino)), display: shown).linked else {
                    throw PostgresError.pgdata("cannot create the hard link \(shown): \(String(cString: strerror(errno)))")
                }
                parent = nil
            case .fifo, .characterDevice, .blockDevice:
                // The tar reader yields no such members; a data directory holds none.
                throw PostgresError.pgdata("the streamed base backup holds the special file \(shown)")
            }
        case .data(let slice):
            guard let f = file else { return }
            try slice.withUnsafeBytes { buf in
                do { try FileDescriptorIO.writeAll(f.new.fd, buf) } catch {
                    throw PostgresError.pgdata("cannot write \(f.display): \(error)")
                }
            }
            bytes += UInt64(slice.count)
        case .entryEnd:
            guard let f = file else { return }
            file = nil
            var failures = DirectoryHandle.setMetadata(fd: f.new.fd, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, setOwner: owner != nil,
                                                       mode: f.entry.mode & 0o700 | 0o600, xattrs: [],
                                                       mtime: timespec(tv_sec: Int(f.entry.mtimeSeconds), tv_nsec: Int(f.entry.mtimeNanoseconds)))
            failures.removeAll { $0.contains("times") }
            if let failure = failures.first {
                f.directory.discard(f.new)
                throw PostgresError.pgdata("\(f.display): \(failure)")
            }
            do { try f.directory.commit(f.new, as: f.name, display: f.display) } catch {
                close(f.new.fd)
                throw error
            }
            close(f.new.fd)
        }
    }
}
