import CairnRepository
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// The background fetcher's secrets on its standard input (`WALFetcherLauncher` writes them,
/// `wal-fetch-ahead` reads them): `passphrase HEX` and `env NAME HEX` lines, so that no secret is
/// ever on the fetcher's command line or in its environment.
public enum WALFetcherSecrets {
    /// The message for `passphrase` and `variables` (name, value).
    public static func encode(passphrase: [UInt8], variables: [(String, String)]) -> [UInt8] {
        var out = Array("passphrase ".utf8) + Array(hex(passphrase).utf8) + [10]
        for (name, value) in variables { out += Array("env \(name) \(hex(Array(value.utf8)))\n".utf8) }
        return out
    }

    /// Reads the message from `fd` (at most 64 KiB): the passphrase, and the variables to set.
    /// Throws `CairnError.noPassphrase` when it holds no passphrase.
    public static func read(fd: Int32) throws -> (passphrase: [UInt8], variables: [(String, String)]) {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while data.count < 1 << 16 {
            guard let n = try? buf.withUnsafeMutableBytes({ try FileDescriptorIO.read(fd, into: $0) }), n > 0 else { break }
            data += buf[0..<n]
        }
        defer { for i in data.indices { data[i] = 0 } }
        var passphrase: [UInt8]? = nil
        var variables: [(String, String)] = []
        for line in data.split(separator: 10) {
            let parts = line.split(separator: 32).map { Array($0) }
            if parts.count == 2, parts[0] == Array("passphrase".utf8), let p = unhex(parts[1]) { passphrase = p }
            else if parts.count == 3, parts[0] == Array("env".utf8), let v = unhex(parts[2]) {
                variables.append((String(decoding: parts[1], as: UTF8.self), String(decoding: v, as: UTF8.self)))
            }
        }
        guard let passphrase, !passphrase.isEmpty else { throw CairnError.noPassphrase }
        return (passphrase, variables)
    }

    /// What the fetcher does with its standard input: reads the message from `fd`, sets the variables
    /// the launcher pipes (`WALFetcherLauncher.pipedVariables`, and no other), and returns the passphrase.
    public static func receive(fd: Int32) throws -> [UInt8] {
        let secrets = try read(fd: fd)
        for (name, value) in secrets.variables where WALFetcherLauncher.pipedVariables.contains(name) { setenv(name, value, 1) }
        return secrets.passphrase
    }

    private static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.count * 2)
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func unhex(_ s: [UInt8]) -> [UInt8]? {
        guard s.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            default: return nil
            }
        }
        var out: [UInt8] = []
        var i = 0
        while i < s.count {
            guard let hi = v(s[i]), let lo = v(s[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
