import Foundation
import XCTest

/// Issue 17 (restic conventions): shell completion scripts for bash, zsh and
/// fish, installed by the command README.md documents. The bash script is
/// sourced by a real bash and the fish script by fish, each asked to complete; zsh parses its own.
final class CompletionScriptTests: CLITestCase {
    private func script(_ shell: String) throws -> URL {
        let r = try ok(["--generate-completion-script", shell])
        let url = tmp.appendingPathComponent("cairn.\(shell)")
        try r.stdout.write(to: url)
        return url
    }

    /// What bash completes for `line` (the cursor at its end) after sourcing the script.
    private func bashCompletes(_ script: URL, _ line: String) throws -> [String] {
        let driver = """
            source \(Self.quote(script.path)) || exit 9
            complete -p cairn >/dev/null || exit 8
            COMP_LINE=\(Self.quote(line)); COMP_POINT=${#COMP_LINE}
            read -ra COMP_WORDS <<< "$COMP_LINE"
            case "$COMP_LINE" in *" ") COMP_WORDS+=("");; esac
            COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
            _cairn cairn "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let file = tmp.appendingPathComponent("driver.bash")
        try Data(driver.utf8).write(to: file)
        let r = try Self.shell("bash \(Self.quote(file.path))")
        XCTAssertEqual(r.status, 0, "bash could not source or run the completion script: \(r.err)")
        return r.out.split(separator: "\n").map(String.init)
    }

    func testBashSourcesTheScriptAndCompletesCommandsAndOptions() throws {
        let bash = try script("bash")
        XCTAssertEqual(try bashCompletes(bash, "cairn ba"), ["backup"])
        XCTAssertTrue(try bashCompletes(bash, "cairn backup --exclude-l").contains("--exclude-larger-than"))
        let key = try bashCompletes(bash, "cairn key ")
        XCTAssertTrue(key.contains("list") && key.contains("add"), "\(key)")
    }

    func testZshAndFishScriptsParse() throws {
        let ci = ProcessInfo.processInfo.environment["CI"] == "true"
        for (shell, check, marker) in [("zsh", "zsh -n", "#compdef cairn"), ("fish", "fish --no-execute", "complete -c 'cairn'")] {
            let url = try script(shell)
            let text = try String(contentsOf: url, encoding: .utf8)
            XCTAssertTrue(text.contains(marker), "\(shell) script: \(text.prefix(200))")
            XCTAssertTrue(text.contains("backup") && text.contains("exclude-larger-than"), "\(shell) script names the commands and options")
            guard try Self.shell("command -v \(shell)").status == 0 else {
                XCTAssertFalse(ci, "\(shell) is not installed (scripts/setup.sh installs it)")
                continue
            }
            let r = try Self.shell("\(check) \(Self.quote(url.path))")
            XCTAssertEqual(r.status, 0, "\(shell) cannot parse the script: \(r.err)")
            if shell == "fish" {
                // fish completes from the sourced script as at a prompt.
                let c = try Self.shell("fish -c \(Self.quote("source \(Self.quote(url.path)); complete -C 'cairn backup --exclude-l'"))")
                XCTAssertEqual(c.status, 0, c.err)
                XCTAssertTrue(c.out.hasPrefix("--exclude-larger-than\t"), c.out)
            }
        }
    }

    func testAnUnknownShellIsAUsageError() throws {
        let r = try fails(["--generate-completion-script", "tcsh"], code: 2)
        XCTAssertTrue(r.err.contains("tcsh"), r.summary)
    }
}
