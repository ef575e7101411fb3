import CairnFormat
import Foundation

/// Drill and scrub results, kept in the repository itself as small snapshots
/// tagged `cairn-ops`, so they survive the loss of the machine (and its cache)
/// and travel with copies. The facts are in the snapshot's `extra` map (read
/// without restoring anything); the content is the same record as JSON.
///
/// - a drill: name `cairn-drill.SOURCE`, extra `cairn.drill.*`
/// - a scrub slice run by `cairn run`: name `cairn-scrub`, extra `cairn.scrub.*`
public enum OpsRecord {
    public static let tag = "cairn-ops"
    public static let scrubName = "cairn-scrub"

    public static func drillName(source: String) -> String { "cairn-drill.\(source)" }

    /// One phase of a drill and its duration in seconds.
    public struct Phase: Sendable, Equatable {
        public var name: String
        public var seconds: Double
        public init(_ name: String, _ seconds: Double) { self.name = name; self.seconds = seconds }
    }

    /// A drill of one source.
    public struct Drill: Sendable, Equatable {
        public var source: String
        public var kind: String
        public var ok: Bool
        /// The measured RTO: the sum of the phases.
        public var seconds: Double
        public var phases: [Phase]
        /// The snapshot drilled.
        public var snapshot: String
        /// What failed, or a summary of what was proved.
        public var message: String
        /// Seconds since the epoch (the record snapshot's time).
        public var time: Double = 0

        public init(source: String, kind: String, ok: Bool, phases: [Phase], snapshot: String, message: String) {
            self.source = source; self.kind = kind; self.ok = ok; self.phases = phases
            self.seconds = phases.reduce(0) { $0 + $1.seconds }; self.snapshot = snapshot; self.message = message
        }

        public var extra: [String: String] {
            [String: String](extra: [
                .drillSource: source, .drillKind: kind, .drillOK: ok ? "true" : "false",
                .drillSeconds: String(format3(seconds)), .drillSnapshot: snapshot, .drillMessage: message,
                .drillPhases: phases.map { "\($0.name)=\(format3($0.seconds))" }.joined(separator: ","),
            ])
        }

        public init?(_ s: OpsSnapshot) {
            guard s.isOpsRecord, let source = s.extra[.drillSource] else { return nil }
            self.source = source
            kind = s.extra[.drillKind] ?? ""
            ok = s.extra[.drillOK] == "true"
            guard let seconds = OpsRecord.seconds(s.extra[.drillSeconds]) else { return nil }
            self.seconds = seconds
            snapshot = s.extra[.drillSnapshot] ?? ""
            message = s.extra[.drillMessage] ?? ""
            phases = (s.extra[.drillPhases] ?? "").split(separator: ",").compactMap { p in
                let kv = p.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, let v = OpsRecord.seconds(String(kv[1])) else { return nil }
                return Phase(String(kv[0]), v)
            }
            time = s.time
        }
    }

    /// A scrub slice's outcome.
    public struct Scrub: Sendable, Equatable {
        public var clean: Bool
        /// False when the scrub could not run at all.
        public var ran: Bool
        public var message: String
        public var seconds: Double
        public var time: Double = 0

        public init(clean: Bool, ran: Bool, message: String, seconds: Double) {
            self.clean = clean; self.ran = ran; self.message = message; self.seconds = seconds
        }

        public var extra: [String: String] {
            [String: String](extra: [
                .scrubClean: clean ? "true" : "false", .scrubRan: ran ? "true" : "false",
                .scrubMessage: message, .scrubSeconds: String(format3(seconds)),
            ])
        }

        public init?(_ s: OpsSnapshot) {
            guard s.isOpsRecord, s.name == OpsRecord.scrubName, let c = s.extra[.scrubClean] else { return nil }
            clean = c == "true"
            ran = s.extra[.scrubRan] != "false"
            message = s.extra[.scrubMessage] ?? ""
            guard let seconds = OpsRecord.seconds(s.extra[.scrubSeconds]) else { return nil }
            self.seconds = seconds
            time = s.time
        }
    }
}

extension OpsRecord {
    /// The most seconds a record may state: ten years.
    static let maxSeconds = 315_360_000.0

    /// A duration read from a record: 0 when absent or not a number (older
    /// records), nil (the record is unreadable) when it is a number no drill or
    /// scrub takes: negative, NaN, infinite or over ten years. Anyone holding the
    /// key can write a record, and such values crashed `status` and `report`.
    static func seconds(_ text: String?) -> Double? {
        guard let text, let v = Double(text) else { return 0 }
        guard v.isFinite, v >= 0, v <= maxSeconds else { return nil }
        return v
    }
}

/// Three decimals, without Foundation's formatter. Beyond 9e15 (where three
/// decimals mean nothing and v × 1000 leaves Int64) Swift's own form, which
/// Prometheus reads too: `2.6e+18`, `+Inf`, `NaN`.
func format3(_ v: Double) -> String {
    guard v.isFinite, abs(v) < 9e15 else { return v.isNaN ? "NaN" : v.isInfinite ? (v > 0 ? "+Inf" : "-Inf") : String(v) }
    let m = Int64((v * 1000).rounded())
    let frac = String(abs(m) % 1000)
    return "\(m / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
}
