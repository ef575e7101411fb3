import ArgumentParser
import CairnOps
import CairnPlan
import Foundation

/// `--plan FILE` (default $CAIRN_PLAN, else ./cairn.toml, else /etc/cairn/cairn.toml).
struct PlanOptions: ParsableArguments {
    @Option(help: "The plan file (default: $CAIRN_PLAN, else ./cairn.toml, else /etc/cairn/cairn.toml).")
    var plan: String?

    /// The plan file in effect.
    func path() throws -> String {
        if let plan, !plan.isEmpty { return plan }
        if let p = ProcessInfo.processInfo.environment["CAIRN_PLAN"], !p.isEmpty { return p }
        for p in ["cairn.toml", "/etc/cairn/cairn.toml"] where FileManager.default.fileExists(atPath: p) { return p }
        throw PlanLoadError.message("no plan file: give --plan FILE or set CAIRN_PLAN (see Docs/operations.md)")
    }

    /// What this build can do that plans may ask for.
    static var capabilities: PlanCapabilities {
        SourceRegistry.planCapabilities
    }

    /// Reads and validates the plan; an invalid plan prints every problem and exits 1.
    func load() throws -> Plan {
        let file = try path()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PlanLoadError.message("cannot read the plan file \(file): \(String(cString: strerror(errno)))")
        }
        do {
            return try PlanDecoder.decode(String(decoding: data, as: UTF8.self), file: file, capabilities: Self.capabilities)
        } catch let e as PlanError {
            for i in e.issues { Terminal.error(i.description) }
            throw CommandFailure.failed("\(e.issues.count) problem(s) in \(file); fix them and run 'cairn plan check'")
        }
    }
}

/// A plan that cannot be found or read.
enum PlanLoadError: Error, CustomStringConvertible {
    case message(String)
    var description: String { switch self { case .message(let m): return m } }
}
