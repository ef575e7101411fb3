import CairnEngine
import CairnRepository
import CairnStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL client program (`pg_dump`, `pg_restore`) run as a child with
/// its settings in the environment (never on its command line), standard
/// error kept in a temporary file for the failure message.
final class ChildProcess: @unchecked Sendable {
    let program: String
    private let process = Process()
    private let stderrPath: String
    let stdoutPipe = Pipe()
    let stdinPipe = Pipe()

    /// Finds `name` in $CAIRN_PG_BIN, then PATH, then /usr/lib/postgresql/<newest>/bin.
    static func locate(_ name: String) throws -> String {
        let env = ProcessInfo.processInfo.environment
        var dirs: [String] = []
        if let bin = env["CAIRN_PG_BIN"], !bin.isEmpty { dirs.append(bin) }
        dirs += (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        if let versions = try? DirectoryReader.stringNames("/usr/lib/postgresql") {
            dirs += versions.compactMap { Int($0) }.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        }
        for d in dirs where access(d + "/" + name, X_OK) == 0 { return d + "/" + name }
        throw PostgresError.programNotFound(name)
    }

    init(_ name: String, arguments: [String], environment: [String: String], stdin: Bool, stdout: Bool) throws {
        program = name
        process.executableURL = URL(fileURLWithPath: try Self.locate(name))
        process.arguments = arguments
        // Never Cairn's passphrase or the store's credentials (ChildEnvironment); PG* settings and PGPASSWORD stay.
        process.environment = ChildEnvironment.build(for: .postgres, adding: environment)
        stderrPath = NSTemporaryDirectory() + "cairn-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil, attributes: [.posixPermissions: 0o600])
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        if stdout { process.standardOutput = stdoutPipe }
        if stdin { process.standardInput = stdinPipe }
    }

    deinit {
        unlink(stderrPath)
        for t in undo { Interruption.shared.unregister(t) }
    }

    /// What an interrupted cairn removes or stops: the stderr file, the child.
    private var undo: [UInt64] = []

    func start() throws {
        undo.append(Interruption.shared.register("temporary output", .unlink(stderrPath)))
        do { try process.run() } catch { throw PostgresError.other("cannot start \(program): \(error.localizedDescription)") }
        undo.append(Interruption.shared.register("child process", .forwardSignal(process.processIdentifier)))
    }

    /// Waits for the exit without blocking a thread of the cooperative pool for long.
    func wait() async -> Int32 {
        while process.isRunning { try? await Task.sleep(nanoseconds: 5_000_000) }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    var standardError: String {
        (FileManager.default.contents(atPath: stderrPath).map { String(decoding: $0, as: UTF8.self) } ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Throws `childFailed` unless the exit status was 0.
    func check() async throws {
        let status = await wait()
        guard status == 0 else { throw PostgresError.childFailed(program: program, status: status, stderr: standardError) }
    }

    /// Waits up to `timeout` seconds for the exit; then stops the child
    /// (SIGTERM, SIGKILL 3 s later) and returns nil.
    func wait(timeout: Double) async -> Int32? {
        let deadline = Clock.monotonic() + timeout
        while process.isRunning {
            if Clock.monotonic() >= deadline {
                process.terminate()
                let killAt = Clock.monotonic() + 3
                while process.isRunning {
                    if Clock.monotonic() >= killAt { kill(process.processIdentifier, SIGKILL) }
                    try? await Task.sleep(nanoseconds: 10_000_000)
                }
                return nil
            }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return await wait()
    }
}
