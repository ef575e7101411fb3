/// A file name PostgreSQL hands to `archive_command`: a segment
/// (`000000010000000A000000FE`), a partial segment (`….partial`), a backup
/// history file (`….00000028.backup`) or a timeline history file (`00000002.history`).
public struct WALFileName: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case segment, partial, backup, history
    }

    public let name: String
    public let kind: Kind
    public let timeline: UInt32
    /// For segment-based names: the two 8-digit halves (log id and segment within it).
    public let logID: UInt32
    public let segmentInLog: UInt32

    /// Parses a name; nil when it is none of the four kinds.
    public init?(_ name: String) {
        let u = Array(name.utf8)
        func hex(_ r: Range<Int>) -> UInt32? {
            guard r.upperBound <= u.count, u[r].allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 70) }) else { return nil }
            return UInt32(String(decoding: u[r], as: UTF8.self), radix: 16)
        }
        self.name = name
        if u.count == 16, let tli = hex(0..<8), String(decoding: u[8...], as: UTF8.self) == ".history" {
            kind = .history; timeline = tli; logID = 0; segmentInLog = 0
            return
        }
        guard u.count >= 24, let tli = hex(0..<8), let log = hex(8..<16), let seg = hex(16..<24) else { return nil }
        timeline = tli; logID = log; segmentInLog = seg
        let rest = String(decoding: u[24...], as: UTF8.self)
        if rest.isEmpty { kind = .segment }
        else if rest == ".partial" { kind = .partial }
        else if u.count == 40, rest.hasSuffix(".backup"), hex(25..<33) != nil, u[24] == 46 { kind = .backup }
        else { return nil }
        guard tli > 0 else { return nil }
    }

    /// The segment number, given the cluster's segment size (`wal_segment_size`).
    public func segmentNumber(segmentSize: UInt64) -> UInt64 {
        UInt64(logID) * (0x1_0000_0000 / segmentSize) + UInt64(segmentInLog)
    }

    /// The name of segment `number` on `timeline` (PostgreSQL's `XLogFileName`).
    public static func segment(timeline: UInt32, number: UInt64, segmentSize: UInt64) -> String {
        let perLog = 0x1_0000_0000 / segmentSize
        return hex8(UInt64(timeline)) + hex8(number / perLog) + hex8(number % perLog)
    }

    /// `0000000N.history`.
    public static func history(timeline: UInt32) -> String { hex8(UInt64(timeline)) + ".history" }

    public var description: String { name }

    static func hex8(_ v: UInt64) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// True for a name PostgreSQL may pass: at most 64 ASCII letters, digits and dots.
    public static func isPlausible(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 }
            && name != "." && name != ".."
    }
}
