import ArgumentParser
import CairnOps
import CairnPlan
import Foundation

/// `cairn schedule install|list|remove`: systemd units that run `cairn run` on the plan's schedules.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Install, list or remove the systemd service and timer that run the plan.",
        discussion: """
            Each subcommand takes --json and then prints one JSON document.

            Examples:
              cairn schedule install --plan /etc/cairn/cairn.toml
              cairn schedule list --json
            """,
        subcommands: [ScheduleInstallCommand.self, ScheduleListCommand.self, ScheduleRemoveCommand.self])
}

/// Where units go: /etc/systemd/system, or ~/.config/systemd/user with --user.
struct ScheduleTarget: ParsableArguments {
    @Flag(help: "User units (~/.config/systemd/user, systemctl --user) instead of system units.")
    var user = false

    @Option(help: "Write the units into this directory instead (for packaging and tests).")
    var unitDir: String?

    var directory: String {
        if let unitDir { return unitDir }
        if user {
            let env = ProcessInfo.processInfo.environment
            let config = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (env["HOME"] ?? "/root") + "/.config"
            return config + "/systemd/user"
        }
        return "/etc/systemd/system"
    }

    @Flag(help: "Print one JSON document.")
    var json = false

    /// Runs systemctl when there is one and units went to a systemd directory; a warning otherwise.
    func systemctl(_ args: [String]) {
        guard unitDir == nil else { return }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemctl") || FileManager.default.isExecutableFile(atPath: "/bin/systemctl") else {
            Terminal.warn("systemctl not found: run 'systemctl \((user ? ["--user"] : []) + args)' yourself"); return
        }
        let path = FileManager.default.isExecutableFile(atPath: "/usr/bin/systemctl") ? "/usr/bin/systemctl" : "/bin/systemctl"
        if let r = try? ChildRunner.run([path] + (user ? ["--user"] : []) + args, timeout: 60), r.status != 0 {
            Terminal.warn("systemctl \(((user ? ["--user"] : []) + args).joined(separator: " ")) failed: \(r.lastErrorLine)")
        }
    }
}

struct ScheduleInstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "install", abstract: "Write cairn-run.service and cairn-run.timer for the plan and enable the timer.")

    @OptionGroup var planOptions: PlanOptions
    @OptionGroup var target: ScheduleTarget

    @Flag(help: "Print the units instead of writing them.")
    var dryRun = false

    func run() async throws {
        let plan = try planOptions.load()
        let path = try planOptions.path()
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let units = SystemdUnits.render(plan: plan, planPath: absolute, executable: ChildRunner.selfExecutable, user: target.user)
        if dryRun && target.json {
            Terminal.json(ScheduleJSON(directory: target.directory, dry_run: true, units: units.map { .init(name: $0.name, path: nil, text: $0.text) }))
            return
        }
        if dryRun {
            for (i, u) in units.enumerated() {
                Terminal.out("# --- \(u.name) ---")
                Terminal.out(u.text + (i + 1 < units.count ? "" : ""))
            }
            return
        }
        try FileManager.default.createDirectory(atPath: target.directory, withIntermediateDirectories: true)
        for u in units {
            let file = target.directory + "/" + u.name
            do { try Data(u.text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic) } catch {
                throw PlanLoadError.message("cannot write \(file): \(error.localizedDescription)")
            }
            if !target.json { Terminal.out("wrote \(file)") }
        }
        target.systemctl(["daemon-reload"])
        target.systemctl(["enable", "--now", SystemdUnits.timer])
        if target.json {
            Terminal.json(ScheduleJSON(directory: target.directory, dry_run: false,
                                       units: units.map { .init(name: $0.name, path: target.directory + "/" + $0.name, text: nil) }))
        }
    }
}

struct ScheduleListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Show the installed cairn units and their schedules.")

    @OptionGroup var target: ScheduleTarget

    func run() async throws {
        var found = false
        var listed: [ScheduleJSON.Unit] = []
        for name in [SystemdUnits.service, SystemdUnits.timer] {
            let file = target.directory + "/" + name
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            found = true
            let lines = text.split(separator: "\n").map(String.init)
            listed.append(.init(name: name, path: file, text: nil,
                                on_calendar: lines.filter { $0.hasPrefix("OnCalendar=") }.map { String($0.dropFirst("OnCalendar=".count)) },
                                exec_start: lines.filter { $0.hasPrefix("ExecStart=") }.map { String($0.dropFirst("ExecStart=".count)) }))
            if target.json { continue }
            let interesting = text.split(separator: "\n").filter { $0.hasPrefix("OnCalendar=") || $0.hasPrefix("ExecStart=") }
            Terminal.out("\(file)" + (interesting.isEmpty ? "" : ": " + interesting.joined(separator: "; ")))
        }
        if target.json {
            Terminal.json(ScheduleJSON(directory: target.directory, dry_run: nil, units: listed))
            return
        }
        if !found { Terminal.out("no cairn units in \(target.directory) (install them with 'cairn schedule install')") }
    }
}

struct ScheduleRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Disable and delete the cairn units.")

    @OptionGroup var target: ScheduleTarget

    func run() async throws {
        target.systemctl(["disable", "--now", SystemdUnits.timer])
        var removed: [String] = []
        for name in [SystemdUnits.timer, SystemdUnits.service] {
            let file = target.directory + "/" + name
            if FileManager.default.fileExists(atPath: file) {
                do { try FileManager.default.removeItem(atPath: file) } catch { throw PlanLoadError.message("cannot remove \(file): \(error.localizedDescription)") }
                if !target.json { Terminal.out("removed \(file)") }
                removed.append(file)
            }
        }
        if removed.isEmpty && !target.json { Terminal.out("no cairn units in \(target.directory)") }
        target.systemctl(["daemon-reload"])
        if target.json { Terminal.json(ScheduleRemovedJSON(directory: target.directory, removed: removed)) }
    }
}

/// `schedule install|list --json`.
struct ScheduleJSON: Encodable {
    struct Unit: Encodable {
        let name: String
        /// Where it is (nil: a dry run wrote nothing).
        let path: String?
        /// The unit's text (dry run only).
        let text: String?
        var on_calendar: [String]? = nil
        var exec_start: [String]? = nil
    }
    let directory: String
    let dry_run: Bool?
    let units: [Unit]
}

/// `schedule remove --json`.
struct ScheduleRemovedJSON: Encodable {
    let directory: String
    let removed: [String]
}
