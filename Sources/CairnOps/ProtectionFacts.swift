/// A repository's protection against deletion (Docs/immutability.md), as `status` measures it.
public struct ProtectionFacts: Sendable, Equatable {
    /// `governance` or `compliance`; nil without Object Lock.
    public var mode: String?
    public var lockDays: Int?
    /// The bucket's versioning (`Enabled`, `Suspended`, `Off`); nil for stores other than S3.
    public var versioning: String?
    /// The newest snapshot and the earliest retain-until date of the objects it needs
    /// (seconds since 1970; 0 when one of them has no lock); nil without a lock or a snapshot.
    public var newestSnapshot: String?
    public var newestLockedUntil: Int64?
    /// Why the protection could not be measured.
    public var error: String?

    public init(mode: String? = nil, lockDays: Int? = nil, versioning: String? = nil, newestSnapshot: String? = nil,
                newestLockedUntil: Int64? = nil, error: String? = nil) {
        self.mode = mode; self.lockDays = lockDays; self.versioning = versioning; self.newestSnapshot = newestSnapshot
        self.newestLockedUntil = newestLockedUntil; self.error = error
    }

    /// What falls short of `immutable-days = days` at `now`, one line each.
    public func problems(immutableDays days: Int, now: Double) -> [String] {
        if let error { return ["the protection cannot be measured (immutable-days = \(days)): \(error)"] }
        var out: [String] = []
        guard mode != nil else {
            return ["immutable-days = \(days) but the repository has no S3 Object Lock: copy it into a locked one ('cairn copy --to NEW --object-lock compliance --lock-days N', Docs/immutability.md)"]
        }
        if versioning != "Enabled" { out.append("bucket versioning is \(versioning ?? "unknown"), not Enabled: deleted or overwritten objects cannot be recovered from versions") }
        if let until = newestLockedUntil {
            if until == 0 {
                out.append("the newest snapshot \(newestSnapshot.map { String($0.prefix(8)) } ?? "") needs objects without a lock: run 'cairn lock extend'")
            } else if Double(until) < now + Double(days) * 86_400 {
                let left = max(0, (Double(until) - now) / 86_400)
                out.append("the newest snapshot \(newestSnapshot.map { String($0.prefix(8)) } ?? "") stays locked only \(Int(left)) more day(s), under immutable-days = \(days): run 'cairn lock extend' (or 'cairn run') and check that --lock-days exceeds \(days)")
            }
        }
        return out
    }
}
