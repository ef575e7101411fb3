import CairnEngine
import CairnRepository
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--exclude` / `--exclude-file` globs (fnmatch). A pattern without '/'
/// matches an entry's name anywhere ("*.tmp", "LOCK"); a pattern with '/'
/// matches the path below the backed-up argument ("data/cs.wal", "data/*.log").
/// A trailing '/' matches directories only.
struct ExcludePatterns: Sendable {
    let patterns: [String]

    /// Patterns from the command line and a file (one per line, '#' comments, blank lines ignored).
    init(patterns: [String], file: String?) throws {
        var all = patterns
        if let file {
            guard !file.isEmpty else { throw CairnError.usage("--exclude-file is empty: name a file of patterns") }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CairnError.invalidArgument("cannot read the exclude file \(file)")
            }
            for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let t = line.trimmingCharacters(in: .whitespaces)
                if !t.isEmpty && !t.hasPrefix("#") { all.append(t) }
            }
        }
        for p in all where p.isEmpty || p == "/" {
            throw CairnError.usage("empty --exclude pattern")
        }
        self.patterns = all
    }

    /// True when the entry at `relativePath` (below the argument) is left out.
    func excludes(_ relativePath: String, isDirectory: Bool) -> Bool {
        let name = relativePath.split(separator: "/").last.map(String.init) ?? relativePath
        for var p in patterns {
            if p.hasSuffix("/") {
                guard isDirectory else { continue }
                p.removeLast()
            }
            if p.hasPrefix("/") { p.removeFirst() }
            let subject = p.contains("/") ? relativePath : name
            if fnmatch(p, subject, p.contains("/") ? FNM_PATHNAME : 0) == 0 { return true }
        }
        return false
    }

    /// The archiver's hook, or nil when there is nothing to exclude.
    var hook: (@Sendable (String, Bool) -> Bool)? {
        guard !patterns.isEmpty else { return nil }
        let me = self
        return { me.excludes($0, isDirectory: $1) }
    }
}
