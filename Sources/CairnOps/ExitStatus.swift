/// The exit codes of the `cairn` command-line contract, in one table
/// (Docs/operations.md lists them for scripts and monitoring).
public enum ExitStatus {
    /// Success.
    public static let success: Int32 = 0
    /// The command failed (any error a person must act on).
    public static let failure: Int32 = 1
    /// Bad usage: an unknown option, a bad value, a missing argument.
    public static let usage: Int32 = 2
    /// Partly done: `cairn run` with warnings, a backup that skipped unreadable files.
    public static let partial: Int32 = 3
    /// `scrub`/`repair` found damage.
    public static let damage: Int32 = 4
    /// `status`: an objective (RPO, RTO, scrub) is breached.
    public static let breach: Int32 = 5
    /// `wal-fetch`: the archive could not be read. Above 125 so that PostgreSQL stops recovery
    /// instead of taking the exit for "no such segment" and ending recovery early.
    public static let walUnavailable: Int32 = 128
}
