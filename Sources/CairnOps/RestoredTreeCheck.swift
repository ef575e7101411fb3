import CairnEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A drill's proof that a restored tree is the snapshot: every entry of its manifest (the lines of
/// `cairn ls --json`) is on disk with the recorded type, size, mode and link target.
public enum RestoredTreeCheck {
    /// What matched.
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var entries = 0
        public var files = 0
        public var bytes: UInt64 = 0

        public init(entries: Int = 0, files: Int = 0, bytes: UInt64 = 0) {
            self.entries = entries; self.files = files; self.bytes = bytes
        }

        public var description: String {
            "\(entries) entries match the manifest (\(files) files, \(ProgressText.bytes(bytes)))"
        }
    }

    /// Compares each manifest line with what is under `target`; throws at the first difference, naming
    /// the path, or when the manifest is empty or a line cannot be read.
    public static func compare(manifest: String, restoredAt target: String) throws(OpsError) -> Summary {
        var summary = Summary()
        for line in manifest.split(separator: "\n") where !line.isEmpty {
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let path = o["path"] as? String, let type = o["type"] as? String else {
                throw .failed("cannot read the manifest line \(line.prefix(80))")
            }
            let local = target + (path.hasPrefix("/") ? path : "/" + path)
            var st = stat()
            guard lstat(local, &st) == 0 else { throw .failed("\(path) is in the manifest but was not restored") }
            let kind = st.st_mode & S_IFMT
            switch type {
            case "file":
                guard kind == S_IFREG else { throw .failed("\(path) should be a file") }
                let size = (o["size"] as? NSNumber)?.uint64Value ?? 0
                guard UInt64(st.st_size) == size else { throw .failed("\(path) has \(st.st_size) bytes, the manifest says \(size)") }
                summary.files += 1
                summary.bytes &+= size
            case "dir":
                guard kind == S_IFDIR else { throw .failed("\(path) should be a directory") }
            case "symlink":
                guard kind == S_IFLNK else { throw .failed("\(path) should be a symbolic link") }
                let want = o["link_target"] as? String ?? ""
                let got = (try? FileManager.default.destinationOfSymbolicLink(atPath: local)) ?? ""
                guard got == want else { throw .failed("\(path) points to \(got.debugDescription), the manifest says \(want.debugDescription)") }
            default: break
            }
            if let mode = (o["mode"] as? NSNumber)?.uint32Value, type != "symlink", UInt32(st.st_mode) & 0o7777 != mode & 0o7777 {
                throw .failed("\(path) has mode \(String(UInt32(st.st_mode) & 0o7777, radix: 8)), the manifest says \(String(mode & 0o7777, radix: 8))")
            }
            summary.entries += 1
        }
        guard summary.entries > 0 else { throw .failed("the manifest is empty") }
        return summary
    }
}
