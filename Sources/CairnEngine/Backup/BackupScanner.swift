#if canImport(Glibc)
import Glibc
#endif

/// The quick scan beside a backup (restic's scanner): counts the regular files
/// and their bytes that the backup of these paths will cover, with the
/// backup's selection (`BackupOptions.leavesOut`), so the progress line can
/// show done against total, a percentage and an ETA. It reads only directory
/// entries and `lstat`, walks with an explicit stack (no recursion), and stops
/// early when its task is cancelled.
public struct BackupScanner: Sendable {
    /// What the backup will cover.
    public struct Totals: Sendable, Equatable {
        public var files: UInt64 = 0
        public var bytes: UInt64 = 0
        public init(files: UInt64 = 0, bytes: UInt64 = 0) { self.files = files; self.bytes = bytes }
    }

    let options: BackupOptions

    public init(options: BackupOptions) { self.options = options }

    /// The totals, or nil when the task was cancelled before the scan ended.
    /// Entries that cannot be read are left out (the backup reports them).
    public func scan(paths: [String]) -> Totals? {
        var totals = Totals()
        for p in paths {
            var trimmed = p
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
            let top = BytePath(trimmed)
            guard let st = FileMetadata.lstat(top) else { continue }
            let topDevice = UInt64(st.st_dev)
            var stack: [(path: BytePath, relative: [UInt8], st: stat)] = [(top, [], st)]
            while let (path, relative, st) = stack.popLast() {
                if Task.isCancelled { return nil }
                switch st.st_mode & S_IFMT {
                case S_IFREG:
                    totals.files += 1
                    totals.bytes += UInt64(max(0, st.st_size))
                case S_IFDIR:
                    guard let entries = FileMetadata.entries(path) else { continue }
                    for e in entries.reversed() {
                        let child = path.appending(e)
                        let childRelative = relative.isEmpty ? e : relative + [47] + e
                        guard let cst = FileMetadata.lstat(child) else { continue }
                        if options.leavesOut(child, relative: childRelative, st: cst, topDevice: topDevice) { continue }
                        stack.append((child, childRelative, cst))
                    }
                default:
                    break
                }
            }
        }
        return totals
    }
}
