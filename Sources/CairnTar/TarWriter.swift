/// Encodes POSIX pax tar headers (pax interchange format, ustar base).
///
/// A member whose path, link target, owner names, ids, size or mtime do not
/// fit the ustar fields (or need sub-second precision), or that has extended
/// attributes, is preceded by a pax extended header ('x') carrying them
/// exactly (attributes as `SCHILY.xattr.NAME` records, which GNU tar
/// `--xattrs` and bsdtar restore); GNU tar, bsdtar and Python's tarfile read
/// it. Pure: produces bytes, the caller writes them.
public enum TarWriter {
    public static let blockSize = 512

    /// The header block(s) for an entry; its content (for files) follows, padded by `padding(for:)`.
    public static func header(for e: TarEntry) -> [UInt8] {
        var pax: [(String, [UInt8])] = []
        let typeflag: UInt8
        var linkname: [UInt8] = []
        var path = e.path
        switch e.kind {
        case .file: typeflag = UInt8(ascii: "0")
        case .directory: typeflag = UInt8(ascii: "5"); path += [47]
        case .symlink(let t): typeflag = UInt8(ascii: "2"); linkname = t
        case .hardLink(let t): typeflag = UInt8(ascii: "1"); linkname = t
        case .fifo: typeflag = UInt8(ascii: "6")
        case .characterDevice: typeflag = UInt8(ascii: "3")
        case .blockDevice: typeflag = UInt8(ascii: "4")
        }
        var device: (major: UInt32, minor: UInt32) = (0, 0)
        if case .characterDevice(let major, let minor) = e.kind { device = (major, minor) }
        if case .blockDevice(let major, let minor) = e.kind { device = (major, minor) }
        let size: UInt64 = e.kind == .file ? e.size : 0

        // Path: in `name`, or split into prefix/name, or pax.
        var name = path, prefix: [UInt8] = []
        if path.count > 100 {
            if let split = splitPath(path) { (prefix, name) = split } else { pax.append(("path", path)); name = Array(path.suffix(99)) }
        }
        if !isASCII(path) && !pax.contains(where: { $0.0 == "path" }) { pax.append(("path", path)) }
        if linkname.count > 100 || !isASCII(linkname) { pax.append(("linkpath", linkname)); linkname = Array(linkname.prefix(100)) }
        if !isASCII(Array(e.user.utf8)) || e.user.utf8.count > 32 { pax.append(("uname", Array(e.user.utf8))) }
        if !isASCII(Array(e.group.utf8)) || e.group.utf8.count > 32 { pax.append(("gname", Array(e.group.utf8))) }
        if e.uid > 0o7777777 { pax.append(("uid", Array(String(e.uid).utf8))) }
        if e.gid > 0o7777777 { pax.append(("gid", Array(String(e.gid).utf8))) }
        // Device numbers past the 7 octal digits of ustar: the keys GNU tar and bsdtar read.
        if device.major > 0o7777777 { pax.append(("SCHILY.devmajor", Array(String(device.major).utf8))) }
        if device.minor > 0o7777777 { pax.append(("SCHILY.devminor", Array(String(device.minor).utf8))) }
        if size > 0o77777777777 { pax.append(("size", Array(String(size).utf8))) }
        let seconds = e.mtimeSeconds, nanos = min(e.mtimeNanoseconds, 999_999_999)
        if nanos != 0 || seconds < 0 || seconds > 0o77777777777 { pax.append(("mtime", Array(paxTime(seconds, nanos).utf8))) }
        for x in e.xattrs where Self.canRecord(attribute: x.name) {
            pax.append(("SCHILY.xattr." + String(decoding: x.name, as: UTF8.self), x.value))
        }

        var out: [UInt8] = []
        if !pax.isEmpty {
            var body: [UInt8] = []
            for (k, v) in pax { body += record(k, v) }
            let paxName = Array("PaxHeaders/".utf8) + Array(name.suffix(80))
            out += block(name: paxName, prefix: [], mode: 0o644, uid: 0, gid: 0, size: UInt64(body.count), mtime: max(0, min(seconds, 0o77777777777)),
                         typeflag: UInt8(ascii: "x"), linkname: [], user: [], group: [])
            out += body
            out += [UInt8](repeating: 0, count: padding(for: UInt64(body.count)))
        }
        out += block(name: name, prefix: prefix, mode: e.mode & 0o7777, uid: min(e.uid, 0o7777777), gid: min(e.gid, 0o7777777),
                     size: min(size, 0o77777777777), mtime: max(0, min(seconds, 0o77777777777)), typeflag: typeflag, linkname: linkname,
                     user: Array(e.user.utf8.prefix(32)), group: Array(e.group.utf8.prefix(32)),
                     deviceMajor: min(device.major, 0o7777777), deviceMinor: min(device.minor, 0o7777777))
        return out
    }

    /// Zero bytes after `size` bytes of content to reach a block boundary.
    public static func padding(for size: UInt64) -> Int { Int((UInt64(blockSize) - size % UInt64(blockSize)) % UInt64(blockSize)) }

    /// The end of an archive: two zero blocks.
    public static let trailer = [UInt8](repeating: 0, count: 1024)

    /// One pax record: "<length> <key>=<value>\n", the length counting itself.
    public static func record(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let rest = 1 + key.utf8.count + 1 + value.count + 1
        var n = rest + String(rest).count
        if String(n).count != String(n - rest).count { n = rest + String(n).count }
        return Array("\(n) \(key)=".utf8) + value + [10]
    }

    /// An extended attribute a pax record can carry by name: UTF-8 (the
    /// keyword is text), no '=' (it ends the keyword), no NUL, not empty.
    public static func canRecord(attribute name: [UInt8]) -> Bool {
        !name.isEmpty && !name.contains(0) && !name.contains(UInt8(ascii: "=")) && String(validating: name, as: UTF8.self) != nil
    }

    /// A pax time: seconds and a fraction with trailing zeros dropped. Times
    /// before 1970 are written as the negative real number they are: (−2 s,
    /// +0.5 s) is "-1.5".
    static func paxTime(_ s: Int64, _ ns: UInt32) -> String {
        func fraction(_ n: UInt32) -> String {
            var f = String(n)
            f = String(repeating: "0", count: 9 - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            return f
        }
        if ns == 0 { return String(s) }
        if s >= 0 { return "\(s).\(fraction(ns))" }
        // s < 0: the value is −((−s − 1) + (1e9 − ns)/1e9); −(s + 1) cannot overflow.
        return "-\(-(s + 1)).\(fraction(1_000_000_000 - ns))"
    }

    private static func isASCII(_ b: [UInt8]) -> Bool { b.allSatisfy { $0 < 128 } }

    /// Splits a path into ustar prefix (≤155) and name (≤100) at a '/'.
    private static func splitPath(_ p: [UInt8]) -> ([UInt8], [UInt8])? {
        for i in stride(from: min(p.count - 1, 155), through: 1, by: -1) where p[i] == 47 {
            let name = Array(p[(i + 1)...])
            if name.count <= 100 && !name.isEmpty { return (Array(p[..<i]), name) }
        }
        return nil
    }

    private static func block(name: [UInt8], prefix: [UInt8], mode: UInt32, uid: UInt32, gid: UInt32, size: UInt64, mtime: Int64,
                              typeflag: UInt8, linkname: [UInt8], user: [UInt8], group: [UInt8],
                              deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int, max: Int) {
            for (i, b) in bytes.prefix(max).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: UInt64, at offset: Int, width: Int) {
            var s = String(v, radix: 8)
            s = String(repeating: "0", count: Swift.max(0, width - 1 - s.count)) + s
            put(Array(s.utf8), at: offset, max: width - 1)
        }
        put(Array(name.prefix(100)), at: 0, max: 100)
        octal(UInt64(mode), at: 100, width: 8)
        octal(UInt64(uid), at: 108, width: 8)
        octal(UInt64(gid), at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(UInt64(mtime), at: 136, width: 12)
        for i in 148..<156 { h[i] = 32 }
        h[156] = typeflag
        put(linkname, at: 157, max: 100)
        put(Array("ustar\0".utf8), at: 257, max: 6)
        put(Array("00".utf8), at: 263, max: 2)
        put(user, at: 265, max: 32)
        put(group, at: 297, max: 32)
        if typeflag == UInt8(ascii: "3") || typeflag == UInt8(ascii: "4") {
            octal(UInt64(deviceMajor), at: 329, width: 8)
            octal(UInt64(deviceMinor), at: 337, width: 8)
        }
        put(prefix, at: 345, max: 155)
        let sum = h.reduce(0) { $0 + UInt64($1) }
        var s = String(sum, radix: 8)
        s = String(repeating: "0", count: Swift.max(0, 6 - s.count)) + s
        put(Array(s.utf8) + [0, 32], at: 148, max: 8)
        return h
    }
}
