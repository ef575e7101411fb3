import CairnFormat
import CairnRepository
import CLinuxShims
#if canImport(Glibc)
import Glibc
#endif

extension DirectoryHandle {
    /// Makes the FIFO or device node `name` (mknodat under a fresh temporary
    /// name, metadata set there, then renamed over whatever file or link is
    /// at `name`; a directory there is refused). Returns a note when something
    /// was replaced and what metadata could not be set. A device that cannot be
    /// made (not root: EPERM) throws `CairnError.io`.
    func makeSpecialFile(_ node: Node, setOwner: Bool, mtime: timespec, display: String) throws -> (replaced: String?, failures: [String]) {
        let type: mode_t
        var dev: dev_t = 0
        switch node.kind {
        case .fifo: type = S_IFIFO
        case .characterDevice: type = S_IFCHR; dev = dev_t(DeviceNumber.make(major: node.deviceMajor, minor: node.deviceMinor))
        case .blockDevice: type = S_IFBLK; dev = dev_t(DeviceNumber.make(major: node.deviceMajor, minor: node.deviceMinor))
        default: throw CairnError.other("\(display) is not a FIFO or device node")
        }
        let what = node.kind == .fifo ? "FIFO" : node.kind == .characterDevice ? "character device" : "block device"
        let temporary: [UInt8]
        do {
            temporary = try linkTemporary(display: display) { mknodat(fd, $0, type | 0o600, dev) }
        } catch {
            throw CairnError.io("cannot create the \(what) \(display): \(FileMetadata.errorText())\(errno == EPERM && node.kind.isDevice ? " (making device nodes needs root)" : "")")
        }
        var failures: [String] = []
        temporary.withCName { n in
            if setOwner, fchownat(fd, n, node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0 { failures.append("cannot set owner: \(FileMetadata.errorText())") }
            // After the owner: chown clears set-id bits.
            if fchmodat(fd, n, mode_t(node.mode & 0o7777), 0) != 0 { failures.append("cannot set mode: \(FileMetadata.errorText())") }
            for x in node.xattrs {
                let ok = x.value.withUnsafeBytes { v in x.name.withCName { cairn_lsetxattr_at(fd, n, $0, v.baseAddress, v.count) } }
                if ok != 0 { failures.append("cannot set extended attribute \(String(decoding: x.name, as: UTF8.self)): \(FileMetadata.errorText())") }
            }
            var times = [mtime, mtime]
            if utimensat(fd, n, &times, AT_SYMLINK_NOFOLLOW) != 0 { failures.append("cannot set times: \(FileMetadata.errorText())") }
        }
        do { return (try replace(node.name, with: temporary, display: display, what: what), failures) } catch {
            _ = temporary.withCName { unlinkat(fd, $0, 0) }
            throw error
        }
    }
}
