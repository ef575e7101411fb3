import CairnRepository
#if canImport(Glibc)
import Glibc
#endif

/// The file that says a tree restore into a directory has not finished.
///
/// Restored files are not synced one by one (a temporary file, fsync and
/// rename per file cost more than the writing of small files): the whole
/// restore is made durable at its end with one `syncfs`. So that a restore
/// interrupted before then (killed, a crash, a power cut, a failed file) is
/// never mistaken for a complete one, `TARGET/.cairn-restore-incomplete` is
/// written and synced (with its directory) before the first entry, and
/// removed only after the `syncfs`. Whoever finds it knows the tree below is
/// partial: restore again.
struct RestoreMarker {
    static let name = Array(".cairn-restore-incomplete".utf8)
    let directory: DirectoryHandle

    /// Writes the marker (naming the snapshot) and syncs it and its directory;
    /// `earlier` is true when a marker of an earlier restore was there.
    static func begin(in directory: DirectoryHandle, snapshot: String, target: String) throws -> (RestoreMarker, earlier: Bool) {
        let earlier = directory.entry(name) != nil
        let text = "cairn: the restore of snapshot \(snapshot) into this directory started at \(Clock.nowNanos() / 1_000_000_000) (Unix time) and has not finished: what is here may be partial. Restore again; a restore that completes removes this file.\n"
        let display = target + "/" + String(decoding: name, as: UTF8.self)
        let file = try directory.newFile(display: display)
        do {
            try writeAll(file.fd, Array(text.utf8), path: display)
            guard fsync(file.fd) == 0 else { throw CairnError.io("cannot sync \(display): \(FileMetadata.errorText())") }
            try directory.commit(file, as: name, display: display)
        } catch {
            directory.discard(file)
            throw error
        }
        close(file.fd)
        guard fsync(directory.fd) == 0 else { throw CairnError.io("cannot sync \(target): \(FileMetadata.errorText())") }
        return (RestoreMarker(directory: directory), earlier)
    }

    /// Makes everything restored durable (one syncfs of the target's file
    /// system), then removes the marker and syncs its directory.
    func finish(target: String) throws {
        try directory.syncFileSystem()
        guard Self.name.withCName({ unlinkat(directory.fd, $0, 0) }) == 0 || errno == ENOENT else {
            throw CairnError.io("cannot remove \(target)/.cairn-restore-incomplete: \(FileMetadata.errorText())")
        }
        guard fsync(directory.fd) == 0 else { throw CairnError.io("cannot sync \(target): \(FileMetadata.errorText())") }
    }
}
