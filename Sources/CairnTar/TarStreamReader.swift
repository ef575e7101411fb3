/// A push parser for tar streams (ustar, POSIX pax and GNU long names): feed
/// it bytes in pieces of any size and it reports each member's header, its
/// content in the pieces it arrived in, and the member's end. Memory stays
/// bounded: one 512-byte header block, plus an extended header of at most
/// 1 MiB. Regular files, directories, symbolic and hard links are reported;
/// device nodes and FIFOs are refused, and so is a member name or hard-link
/// target that is absolute or has a ".." component (what GNU tar and bsdtar
/// refuse to extract): no member can name a place outside the directory it
/// is extracted into. Symbolic-link targets are reported as they are; an
/// extractor must never follow them. Pure: no I/O.
public struct TarStreamReader {
    /// What `feed` reports, in stream order.
    public enum Event {
        /// A member starts (paths without a leading "./" or a trailing "/").
        case entry(TarEntry)
        /// Content of the current member (regular files only).
        case data(ArraySlice<UInt8>)
        /// The current member is complete.
        case entryEnd
    }

    /// The largest pax or GNU long-name header accepted.
    public static let maxExtendedHeader: UInt64 = 1 << 20

    private enum State {
        case header
        case content(remaining: UInt64, padding: Int, emit: Bool)
        case extended(type: UInt8, remaining: UInt64, padding: Int)
        case end
    }

    private var state = State.header
    private var block: [UInt8] = []
    private var extended: [UInt8] = []
    private var pax: [String: [UInt8]] = [:]
    private var paxXattrs: [TarEntry.Attribute] = []
    private var longName: [UInt8]? = nil
    private var longLink: [UInt8]? = nil
    /// Bytes consumed so far.
    public private(set) var offset: UInt64 = 0

    public init() {}

    /// True once the end-of-archive marker (a zero block) was read; later bytes are ignored.
    public var isFinished: Bool { if case .end = state { return true } else { return false } }

    /// Consumes `bytes`, calling `handler` for each event they complete.
    public mutating func feed(_ bytes: ArraySlice<UInt8>, _ handler: (Event) throws -> Void) throws {
        var rest = bytes
        while !rest.isEmpty {
            switch state {
            case .end:
                offset += UInt64(rest.count)
                return
            case .header:
                let take = min(512 - block.count, rest.count)
                block += rest.prefix(take)
                rest = rest.dropFirst(take); offset += UInt64(take)
                if block.count == 512 {
                    let h = block
                    block.removeAll(keepingCapacity: true)
                    try header(h, handler)
                }
            case .content(let remaining, let padding, let emit):
                if remaining > 0 {
                    let take = Int(min(remaining, UInt64(rest.count)))
                    if emit { try handler(.data(rest.prefix(take))) }
                    rest = rest.dropFirst(take); offset += UInt64(take)
                    state = .content(remaining: remaining - UInt64(take), padding: padding, emit: emit)
                } else {
                    let take = min(padding, rest.count)
                    rest = rest.dropFirst(take); offset += UInt64(take)
                    state = .content(remaining: 0, padding: padding - take, emit: emit)
                }
                if case .content(0, 0, _) = state { state = .header; try handler(.entryEnd) }
            case .extended(let type, let remaining, let padding):
                if remaining > 0 {
                    let take = Int(min(remaining, UInt64(rest.count)))
                    extended += rest.prefix(take)
                    rest = rest.dropFirst(take); offset += UInt64(take)
                    state = .extended(type: type, remaining: remaining - UInt64(take), padding: padding)
                } else {
                    let take = min(padding, rest.count)
                    rest = rest.dropFirst(take); offset += UInt64(take)
                    state = .extended(type: type, remaining: 0, padding: padding - take)
                }
                if case .extended(let t, 0, 0) = state { try finishExtended(t); state = .header }
            }
        }
    }

    /// Throws unless the stream ended with the end-of-archive marker.
    public func finish() throws {
        guard isFinished else { throw TarError.truncated(offset: offset) }
    }

    private mutating func header(_ h: [UInt8], _ handler: (Event) throws -> Void) throws {
        let at = offset - 512
        if h.allSatisfy({ $0 == 0 }) { state = .end; return }
        let stored = try Self.number(h[148..<156], "checksum", at)
        var unsigned: Int64 = 0, signed: Int64 = 0
        for (i, b) in h.enumerated() {
            let v = (148..<156).contains(i) ? UInt8(32) : b
            unsigned += Int64(v); signed += Int64(Int8(bitPattern: v))
        }
        guard stored == unsigned || stored == signed else { throw TarError.badChecksum(offset: at) }
        let type = h[156]
        let size = UInt64(try Self.number(h[124..<136], "size", at))
        let padding = Int((512 - size % 512) % 512)
        switch type {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size <= Self.maxExtendedHeader else { throw TarError.extendedHeaderTooLarge(size: size, offset: at) }
            extended.removeAll(keepingCapacity: true)
            state = .extended(type: type, remaining: size, padding: padding)
            if size == 0 { try finishExtended(type); state = .header }
            return
        default: break
        }
        var path = Self.string(h[0..<100])
        let ustar = h[257..<262].elementsEqual("ustar".utf8)
        if ustar {
            let prefix = Self.string(h[345..<500])
            if !prefix.isEmpty { path = prefix + [47] + path }
        }
        if let p = longName { path = p }
        if let p = pax["path"] { path = p }
        var link = Self.string(h[157..<257])
        if let l = longLink { link = l }
        if let l = pax["linkpath"] { link = l }
        let display = String(decoding: path, as: UTF8.self)
        try Self.checkInside(path, at)
        let kind: TarEntry.Kind
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = path.last == 47 ? .directory : .file
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "2"): kind = .symlink(target: link)
        case UInt8(ascii: "1"):
            try Self.checkInside(link, at)
            kind = .hardLink(target: Self.normalise(link))
        default: throw TarError.unsupportedType(type: type, path: display)
        }
        var entry = TarEntry(path: Self.normalise(path), kind: kind, mode: UInt32(truncatingIfNeeded: try Self.number(h[100..<108], "mode", at)) & 0o7777)
        entry.uid = UInt32(truncatingIfNeeded: try Self.number(h[108..<116], "uid", at))
        entry.gid = UInt32(truncatingIfNeeded: try Self.number(h[116..<124], "gid", at))
        entry.mtimeSeconds = try Self.number(h[136..<148], "mtime", at)
        entry.mtimeNanoseconds = 0
        if ustar {
            entry.user = String(decoding: Self.string(h[265..<297]), as: UTF8.self)
            entry.group = String(decoding: Self.string(h[297..<329]), as: UTF8.self)
        }
        var contentSize = size
        if let s = pax["size"] {
            guard let v = UInt64(String(decoding: s, as: UTF8.self)) else { throw TarError.badField(name: "pax size", offset: at) }
            contentSize = v
        }
        if let u = pax["uid"].flatMap({ UInt32(String(decoding: $0, as: UTF8.self)) }) { entry.uid = u }
        if let g = pax["gid"].flatMap({ UInt32(String(decoding: $0, as: UTF8.self)) }) { entry.gid = g }
        if let u = pax["uname"] { entry.user = String(decoding: u, as: UTF8.self) }
        if let g = pax["gname"] { entry.group = String(decoding: g, as: UTF8.self) }
        if let t = pax["mtime"].flatMap({ Self.paxTime(String(decoding: $0, as: UTF8.self)) }) {
            (entry.mtimeSeconds, entry.mtimeNanoseconds) = t
        }
        entry.xattrs = paxXattrs
        pax.removeAll(); paxXattrs.removeAll(); longName = nil; longLink = nil
        let isFile = entry.kind == .file
        entry.size = isFile ? contentSize : 0
        try handler(.entry(entry))
        let pad = Int((512 - contentSize % 512) % 512)
        if contentSize == 0 { state = .header; try handler(.entryEnd) }
        else { state = .content(remaining: contentSize, padding: pad, emit: isFile) }
    }

    private mutating func finishExtended(_ type: UInt8) throws {
        switch type {
        case UInt8(ascii: "L"): longName = Self.string(extended[...])
        case UInt8(ascii: "K"): longLink = Self.string(extended[...])
        case UInt8(ascii: "x"):
            let prefix = Array("SCHILY.xattr.".utf8)
            for (key, value) in try Self.paxRecords(extended, offset) {
                if key.count > prefix.count, key.starts(with: prefix) {
                    paxXattrs.append(TarEntry.Attribute(name: Array(key.dropFirst(prefix.count)), value: value))
                } else {
                    pax[String(decoding: key, as: UTF8.self)] = value
                }
            }
        default: break  // global pax headers: nothing this reader needs
        }
        extended.removeAll(keepingCapacity: true)
    }

    /// "<length> <key>=<value>\n" records, in order (keys as bytes).
    static func paxRecords(_ b: [UInt8], _ at: UInt64) throws -> [([UInt8], [UInt8])] {
        var out: [([UInt8], [UInt8])] = []
        var i = 0
        while i < b.count {
            guard let space = b[i...].firstIndex(of: 32), let n = Int(String(decoding: b[i..<space], as: UTF8.self)),
                  n > space - i + 1, n <= b.count - i, b[i + n - 1] == 10,
                  let eq = b[(space + 1)..<(i + n)].firstIndex(of: UInt8(ascii: "=")) else {
                throw TarError.badField(name: "pax record", offset: at)
            }
            out.append((Array(b[(space + 1)..<eq]), Array(b[(eq + 1)..<(i + n - 1)])))
            i += n
        }
        return out
    }

    /// An octal field (NUL/space terminated) or GNU base-256: a first byte of
    /// 0x80 marks a positive big-endian number, 0xff a negative one (two's
    /// complement), as GNU tar writes times before 1970.
    static func number(_ f: ArraySlice<UInt8>, _ name: String, _ at: UInt64) throws -> Int64 {
        guard let first = f.first else { return 0 }
        if first == 0xff {
            var v: Int64 = -1
            for b in f.dropFirst() {
                guard v >= Int64.min >> 8 else { throw TarError.badField(name: name, offset: at) }
                v = v << 8 | Int64(b)
            }
            return v
        }
        if first & 0x80 != 0 {
            var v: Int64 = Int64(first & 0x3f)
            for b in f.dropFirst() {
                guard v <= Int64.max >> 8 else { throw TarError.badField(name: name, offset: at) }
                v = v << 8 | Int64(b)
            }
            return v
        }
        var v: Int64 = 0
        var seenDigit = false
        for b in f {
            if b == 0 || (b == 32 && seenDigit) { break }
            if b == 32 { continue }
            guard (48...55).contains(b), v < Int64.max >> 3 else { throw TarError.badField(name: name, offset: at) }
            v = v << 3 | Int64(b - 48); seenDigit = true
        }
        return v
    }

    /// A NUL-terminated field.
    static func string(_ f: ArraySlice<UInt8>) -> [UInt8] { Array(f.prefix { $0 != 0 }) }

    /// Drops leading "./" and "/" and trailing "/".
    static func normalise(_ p: [UInt8]) -> [UInt8] {
        var s = p[...]
        while true {
            if s.starts(with: [46, 47]) { s = s.dropFirst(2) } else if s.first == 47 { s = s.dropFirst() } else { break }
        }
        while s.last == 47 { s = s.dropLast() }
        return Array(s)
    }

    /// "1700000000.5" → (1700000000, 500000000); "-1.5" → (-2, 500000000):
    /// seconds rounded down and the non-negative nanoseconds after them. nil
    /// when malformed or beyond Int64 seconds.
    static func paxTime(_ s: String) -> (Int64, UInt32)? {
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty, let secs = Int64(first) else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let f = Int64(digits + String(repeating: "0", count: 9 - digits.count)) else { return nil }
            nanos = f
        }
        guard first.hasPrefix("-"), nanos > 0 else { return (secs, UInt32(nanos)) }
        let (down, overflow) = secs.subtractingReportingOverflow(1)
        return overflow ? nil : (down, UInt32(1_000_000_000 - nanos))
    }

    /// Refuses an absolute path or one with a ".." component.
    static func checkInside(_ path: [UInt8], _ at: UInt64) throws {
        if path.first == 47 || path.split(separator: 47, omittingEmptySubsequences: true).contains(where: { $0.elementsEqual([46, 46]) }) {
            throw TarError.unsafePath(path: String(decoding: path, as: UTF8.self), offset: at)
        }
    }
}
