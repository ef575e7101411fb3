import CairnEngine
import CairnRepository
import CairnFormat
import Foundation

/// The path lists of `backup --files-from` / `--files-from-verbatim`.
enum FilesFromList {
    /// Lists larger than this are refused (a list is read whole): 64 MiB is about a million paths.
    static let maximumBytes = 64 << 20

    /// The paths `file` lists ("-": standard input).
    /// - verbatim: NUL-separated when the list has a NUL byte, else one path a
    ///   line with nothing ignored (only the final newline); otherwise one path
    ///   a line with surrounding blanks trimmed, empty lines and '#' comments ignored.
    static func read(_ file: String, verbatim: Bool) throws -> [String] {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readData(ofLength: maximumBytes + 1)
        } else {
            guard let handle = FileHandle(forReadingAtPath: file) else {
                throw CairnError.invalidArgument("cannot read the path list \(file): \(String(cString: strerror(errno)))")
            }
            defer { try? handle.close() }
            data = (try? handle.read(upToCount: maximumBytes + 1)) ?? Data()
        }
        guard data.count <= maximumBytes else {
            throw CairnError.invalidArgument("the path list \(file) is larger than \(maximumBytes >> 20) MiB: split it")
        }
        let bytes = [UInt8](data)
        var paths: [String] = []
        if verbatim {
            let separator: UInt8 = bytes.contains(0) ? 0 : 10
            var parts = bytes.split(separator: separator, omittingEmptySubsequences: false)
            if parts.last?.isEmpty == true { parts.removeLast() }
            for (n, p) in parts.enumerated() {
                guard !p.isEmpty else { throw CairnError.invalidArgument("the path list \(file) has an empty entry (number \(n + 1))") }
                paths.append(try text(Array(p), file: file))
            }
        } else {
            for raw in bytes.split(separator: 10, omittingEmptySubsequences: false) {
                let line = try text(Array(raw), file: file).trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
                if line.isEmpty || line.hasPrefix("#") { continue }
                paths.append(line)
            }
        }
        return paths
    }

    /// Paths travel as `String`s to the archiver: a name that is not UTF-8 is refused rather than altered.
    private static func text(_ bytes: [UInt8], file: String) throws -> String {
        let s = String(decoding: bytes, as: UTF8.self)
        guard Array(s.utf8) == bytes else {
            throw CairnError.invalidArgument("the path list \(file) names a path that is not UTF-8 (\(EscapedText.escape(bytes))): back up its directory instead")
        }
        return s
    }
}
