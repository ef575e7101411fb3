#if canImport(Glibc)
import Glibc
#endif

/// The one place that builds a child process's environment: ours, without
/// the secrets the child has no business with (format of the threat model:
/// Docs/security.md).
///
/// Cairn reads its repository passphrase (`CAIRN_PASSWORD`, or the file
/// `CAIRN_PASSWORD_FILE` names, and the `_NEW_`, `_FROM_`, `_TO_` variants)
/// and the S3 credentials (`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, …)
/// from its environment. No child needs them: a `cairn` child gets what it
/// needs added explicitly (a passphrase *file*, never the passphrase), and a
/// PostgreSQL or Redis tool gets only its own service's password.
public enum ChildEnvironment {
    /// Who the child is, which decides the service passwords it keeps.
    public enum Purpose: Sendable {
        /// A helper that needs no secret at all (a decompressor, systemctl).
        case tool
        /// The operator's own command (`backup --stdin-from-command`): keeps
        /// the service passwords it may need (PGPASSWORD for a pg_dump, …),
        /// never Cairn's own secrets.
        case userCommand
        /// pg_dump, pg_restore, pg_basebackup, pg_ctl, initdb, psql: keep `PGPASSWORD`.
        case postgres
        /// redis-server, redis-cli: keep `REDISCLI_AUTH`.
        case redis
        /// Cairn itself (`cairn run`'s steps): the caller adds the passphrase file.
        case cairn
    }

    /// Cairn's own secrets and the object store's credentials: no child gets these.
    public static func isCairnSecret(_ name: String) -> Bool {
        if name.hasPrefix("CAIRN_") && name.contains("PASSWORD") { return true }
        return ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN"].contains(name)
    }

    /// Passwords of the services Cairn backs up, and who may see them.
    static func keepsServiceSecret(_ name: String, _ purpose: Purpose) -> Bool? {
        switch name {
        case "PGPASSWORD": return purpose == .postgres || purpose == .userCommand
        case "REDISCLI_AUTH": return purpose == .redis || purpose == .userCommand
        default: return nil
        }
    }

    /// Whether a child for `purpose` must not see `name`.
    public static func isWithheld(_ name: String, from purpose: Purpose) -> Bool {
        if isCairnSecret(name) { return true }
        if let keeps = keepsServiceSecret(name, purpose) { return !keeps }
        return false
    }

    /// `base` (default: this process's environment) without what a child for
    /// `purpose` must not see, then `adding` (which may set anything: it is the
    /// caller's explicit choice, e.g. a `cairn` child's CAIRN_PASSWORD_FILE).
    public static func build(for purpose: Purpose, adding: [String: String] = [:], base: [String: String]? = nil) -> [String: String] {
        var env = (base ?? current()).filter { !isWithheld($0.key, from: purpose) }
        env.merge(adding) { $1 }
        return env
    }

    /// This process's environment, read from `environ` (not cached: `PgEnvFile` sets variables at run time).
    public static func current() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
}
