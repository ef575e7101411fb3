import CairnRetention

/// A repository's retention, with the names of `cairn forget`'s flags:
/// `keep = { daily = 7, weekly = 4, monthly = 12 }` runs
/// `cairn forget --keep-daily 7 --keep-weekly 4 --keep-monthly 12`.
public struct KeepPolicy: Sendable, Equatable {
    /// Count rules (`last`, `hourly`, `daily`, `weekly`, `monthly`, `yearly`): a number, or "unlimited".
    public static let countKeys = ["last", "hourly", "daily", "weekly", "monthly", "yearly"]
    /// Duration rules, restic's durations (`2y5m7d3h`, where `m` is months).
    public static let durationKeys = ["within", "within-hourly", "within-daily", "within-weekly", "within-monthly", "within-yearly"]
    /// Tag rule: a string or an array of strings (`tag = ["keep"]`).
    public static let tagKey = "tag"

    /// `(flag value)` pairs in the order written: ("daily", "7").
    public var rules: [(key: String, value: String)] = []

    public init() {}

    public var isEmpty: Bool { rules.isEmpty }

    /// The `cairn forget` arguments: `--keep-daily 7 ...`.
    public var forgetArguments: [String] { rules.flatMap { ["--keep-\($0.key)", $0.value] } }

    public static func == (a: KeepPolicy, b: KeepPolicy) -> Bool {
        a.rules.map(\.key) == b.rules.map(\.key) && a.rules.map(\.value) == b.rules.map(\.value)
    }

    /// Checks a count rule's value ("7", "unlimited").
    static func validCount(_ s: String) -> Bool { RetentionPolicy.parseCount(s) != nil }
    /// Checks a duration rule's value ("1y", "2y5m").
    static func validDuration(_ s: String) -> Bool { RetentionDuration.parse(s) != nil }
}
