import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The local cache is per user and private (index, staging, key material
/// stays 0600/0700). When a configured cache directory belongs to another
/// user (root and postgres reading one env file that sets
/// CAIRN_CACHE_DIR=/var/lib/postgresql/.cache/cairn), using it would leave
/// files there that its owner cannot open: such a directory is skipped for
/// the next candidate.
enum CacheLocation {
    /// The first candidate this user owns, or may create as its own; the
    /// last resort is /tmp/cairn-cache-UID.
    static func choose(_ candidates: [String]) -> String {
        let uid = geteuid()
        for c in candidates where !c.isEmpty && usable(c, uid: uid) { return c }
        return "\(NSTemporaryDirectory())cairn-cache-\(uid)"
    }

    /// True when `path` exists as a directory owned by `uid`, or does not
    /// exist and its nearest existing ancestor is a directory owned by `uid`
    /// (a cache made there is this user's alone).
    static func usable(_ path: String, uid: uid_t) -> Bool {
        var p = path
        var st = stat()
        while true {
            if stat(p, &st) == 0 {
                return st.st_mode & S_IFMT == S_IFDIR && st.st_uid == uid
            }
            guard errno == ENOENT else { return false }
            guard let slash = p.lastIndex(of: "/") else { return true }   // relative, under the working directory
            p = slash == p.startIndex ? "/" : String(p[..<slash])
            if p == "/" { return uid == 0 }
        }
    }

    /// The candidates for this process: $CAIRN_CACHE_DIR, $XDG_CACHE_HOME/cairn,
    /// $HOME/.cache/cairn, then the home directory of the effective user.
    static func candidates(environment env: [String: String]) -> [String] {
        var out: [String] = []
        if let d = env["CAIRN_CACHE_DIR"], !d.isEmpty { out.append(d) }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { out.append(x + "/cairn") }
        if let h = env["HOME"], !h.isEmpty { out.append(h + "/.cache/cairn") }
        if let pw = getpwuid(geteuid()), let dir = pw.pointee.pw_dir {
            out.append(String(cString: dir) + "/.cache/cairn")
        }
        return out
    }
}
