#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine and the clock.
package enum Host {
    package static var name: String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package static var user: String {
        if let pw = getpwuid(geteuid()), let n = pw.pointee.pw_name { return String(cString: n) }
        return String(geteuid())
    }
}

public enum Clock {
    /// Nanoseconds since the Unix epoch.
    public static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Seconds on a monotonic clock, for durations.
    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Small file-system helpers.
package enum FileSystem {
    /// The local cache holds plaintext file names, paths and snapshot metadata: its
    /// directory is the owner's only (0700) and its files 0600, also when an older
    /// Cairn or a lax umask made them readable. A file not there yet is created 0600
    /// first, so SQLite (which gives its journal and WAL files the database file's
    /// mode) never makes one readable by others. Best effort: a cache that cannot be
    /// tightened still works.
    package static func makePrivate(directory: String, files: [String]) {
        var st = stat()
        if lstat(directory, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid(), st.st_mode & 0o077 != 0 {
            _ = chmod(directory, st.st_mode & 0o7700)
        }
        for (i, name) in files.enumerated() {
            let path = directory + "/" + name
            // The first file (the database) is created when missing; the others only tightened.
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (i == 0 ? O_CREAT : 0), 0o600)
            guard fd >= 0 else { continue }
            if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == geteuid(), st.st_mode & 0o077 != 0 {
                _ = fchmod(fd, st.st_mode & 0o700)
            }
            close(fd)
        }
    }

    package static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/\(part)"
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw CairnError.io("cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// The number of online processors (2 where sysconf is missing).
package func sysconfProcessors() -> Int {
    #if canImport(Glibc)
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
    return 2
    #endif
}
