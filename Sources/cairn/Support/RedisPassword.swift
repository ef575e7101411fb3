import CairnEngine
import CairnRepository
import Foundation

/// The Redis password: `--redis-password-file`, else `REDISCLI_AUTH` (as
/// redis-cli reads it). Never an argument, never printed.
enum RedisPassword {
    static func read(file: String?) throws -> [UInt8]? {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CairnError.invalidArgument("cannot read the Redis password file \(file)")
            }
            var bytes = [UInt8](data)
            while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
            guard !bytes.isEmpty else { throw CairnError.invalidArgument("the Redis password file \(file) is empty") }
            return bytes
        }
        if let p = ProcessInfo.processInfo.environment["REDISCLI_AUTH"], !p.isEmpty { return Array(p.utf8) }
        return nil
    }
}
