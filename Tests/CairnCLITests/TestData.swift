import CairnTestSupport
import Foundation

enum TestData {
    /// `count` pseudo-random bytes from `seed` (`SplitMix64`, CairnTestSupport).
    static func random(_ count: Int, seed: UInt64) -> Data {
        var rng = SplitMix64(seed: seed)
        var d = Data(count: count)
        d.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            let words = count / 8
            let w = raw.baseAddress!
            for i in 0..<words { w.storeBytes(of: rng.next(), toByteOffset: i * 8, as: UInt64.self) }
            var last = rng.next()
            for i in (words * 8)..<count { raw[i] = UInt8(truncatingIfNeeded: last); last >>= 8 }
        }
        return d
    }

    /// Compressible text of about `count` bytes: lines of words.
    static func text(_ count: Int, seed: UInt64) -> Data {
        let words = ["INSERT", "INTO", "accounts", "VALUES", "(42,", "'cairn',", "NULL);", "backup", "chunk",
                     "snapshot", "repository", "the", "of", "a", "--", "restore", "pack", "index"]
        var rng = SplitMix64(seed: seed)
        var s = ""
        s.reserveCapacity(count + 64)
        var lineLength = 0
        while s.utf8.count < count {
            let w = words[Int(rng.next() % UInt64(words.count))]
            s += w
            lineLength += w.count + 1
            if lineLength > 60 && rng.next() % 4 == 0 { s += "\n"; lineLength = 0 } else { s += " " }
        }
        return Data(s.utf8.prefix(count))
    }

    /// Writes `count` bytes from /dev/urandom to `url` (fast, for large inputs).
    static func writeURandom(_ count: Int, to url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let src = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        let dst = try FileHandle(forWritingTo: url)
        defer { try? src.close(); try? dst.close() }
        var left = count
        while left > 0 {
            let n = min(left, 4 << 20)
            guard let d = try src.read(upToCount: n), !d.isEmpty else { throw CLIError.setup("short read from /dev/urandom") }
            try dst.write(contentsOf: d)
            left -= d.count
        }
    }

    /// True when the two files hold the same bytes (streamed, for large files).
    static func filesEqual(_ a: URL, _ b: URL) throws -> Bool {
        let ha = try FileHandle(forReadingFrom: a), hb = try FileHandle(forReadingFrom: b)
        defer { try? ha.close(); try? hb.close() }
        while true {
            let da = try ha.read(upToCount: 4 << 20) ?? Data()
            let db = try hb.read(upToCount: 4 << 20) ?? Data()
            if da != db { return false }
            if da.isEmpty { return true }
        }
    }
}
