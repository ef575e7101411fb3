#if canImport(Glibc)
import Glibc
#endif

/// The one `posix_spawn` of a Cairn child: the child starts with an empty signal mask and the
/// signals the caller names back at their default action (Cairn blocks and handles SIGINT and
/// SIGTERM itself, and ignores SIGPIPE; a child must not inherit either), optionally in a session
/// of its own. The caller sets up the child's descriptors in `fileActions`.
public enum ProcessSpawn {
    /// Starts `argv[0]` (a path) with `argv` and exactly `environment`; its pid, or the `Errno`
    /// posix_spawn returned.
    public static func spawn(
        _ argv: [String], environment: [String: String], fileActions: inout posix_spawn_file_actions_t,
        defaultSignals: [Int32], newSession: Bool = false
    ) throws(Errno) -> pid_t {
        guard let program = argv.first else { throw Errno(EINVAL) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in defaultSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        // POSIX_SPAWN_SETSID (0x80, glibc 2.26) is not imported into Swift.
        let setsid: Int16 = newSession ? 0x80 : 0
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | setsid)
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &fileActions, &attr, cArgs, cEnv)
        guard rc == 0 else { throw Errno(rc) }
        return pid
    }
}
