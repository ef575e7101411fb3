/// A push parser for tar streams (ustar, POSIX pax and GNU long names): feed
/// it bytes in pieces of any size and it reports each member's header, its
/// content in the pieces it arrived in, and the member's end. Memory stays
/// bounded: one 512-byte header block, plus an extended header of at most
/// 1 MiB. Regular files, directories, symbolic and hard links are reported;
/// device nodes and FIFOs are refused. Pure: no I/O.
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
        let kind: TarEntry.Kind
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = path.last == 47 ? .directory : .file
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "2"): kind = .symlink(target: link)
        case UInt8(ascii: "1"): kind = .hardLink(target: Self.normalise(link))
        default: throw TarError.unsupportedType(type: type, path: display)
        }
        var entry = TarEntry(path: Self.normalise(path), kind: kind, mode: UInt32(truncatingIfNeeded: try Self.number(h[100..<108], "mode", at)) & 0o7777)
        entry.uid = UInt32(truncatingIfNeeded: try Self.number(h[108..<116], "uid", at))
        entry.gid = UInt32(truncatingIfNeeded: try Self.number(h[116..<124], "gid", at))
        entry.mtimeNanos = try Self.number(h[136..<148], "mtime", at) &* 1_000_000_000
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
        if let t = pax["mtime"].flatMap({ Self.paxTime(String(decoding: $0, as: UTF8.self)) }) { entry.mtimeNanos = t }
        pax.removeAll(); longName = nil; longLink = nil
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
        case UInt8(ascii: "x"): pax.merge(try Self.paxRecords(extended, offset)) { $1 }
        default: break  // global pax headers: nothing this reader needs
        }
        extended.removeAll(keepingCapacity: true)
    }

    /// "<length> <key>=<value>\n" records.
    static func paxRecords(_ b: [UInt8], _ at: UInt64) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        var i = 0
        while i < b.count {
            guard let space = b[i...].firstIndex(of: 32), let n = Int(String(decoding: b[i..<space], as: UTF8.self)),
                  n > space - i + 1, i + n <= b.count, b[i + n - 1] == 10,
                  let eq = b[(space + 1)..<(i + n)].firstIndex(of: UInt8(ascii: "=")) else {
                throw TarError.badField(name: "pax record", offset: at)
            }
            out[String(decoding: b[(space + 1)..<eq], as: UTF8.self)] = Array(b[(eq + 1)..<(i + n - 1)])
            i += n
        }
        return out
    }

    /// An octal field (NUL/space terminated) or GNU base-256 (high bit set).
    static func number(_ f: ArraySlice<UInt8>, _ name: String, _ at: UInt64) throws -> Int64 {
        guard let first = f.first else { return 0 }
        if first & 0x80 != 0 {
            var v: Int64 = Int64(first & 0x3f)
            for b in f.dropFirst() {
                guard v < Int64.max >> 8 else { throw TarError.badField(name: name, offset: at) }
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

    /// "1700000000.5" → nanoseconds.
    static func paxTime(_ s: String) -> Int64? {
        let parts = s.split(separator: ".", maxSplits: 1)
        guard let first = parts.first, let secs = Int64(first) else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard let f = Int64(digits + String(repeating: "0", count: 9 - digits.count)) else { return nil }
            nanos = secs < 0 || first.hasPrefix("-") ? -f : f
        }
        return secs &* 1_000_000_000 &+ nanos
    }
}
