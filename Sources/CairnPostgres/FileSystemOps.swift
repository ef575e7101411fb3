import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small file-system steps with errors that name the path.
enum FileSystemOps {
    static func makeDirectory(_ path: String, mode: mode_t, parents: Bool = false) throws {
        if parents {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)]) }
            catch { throw PostgresError.pgdata("cannot create \(path): \(error.localizedDescription)") }
            return
        }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw PostgresError.pgdata("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw PostgresError.pgdata("cannot move \(from) to \(to): \(String(cString: strerror(errno)))") }
    }
}
