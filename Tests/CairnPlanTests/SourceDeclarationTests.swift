import CairnPlan
import XCTest

/// The decoder knows no source kind of its own: a kind declared here, and only here, is
/// decoded with its keys typed, required and checked as declared (what a new source's adapter
/// declares, Docs/architecture.md "How to change Cairn").
final class SourceDeclarationTests: XCTestCase {
    static let tape: SourceDeclaration = {
        var d = SourceDeclaration(kind: "tape", keys: [.init("device", .string, required: true), .init("volumes", .strings), .init("rewind", .bool)])
        d.check = { s in s.string("device").map { $0.hasPrefix("/dev/") } == false ? [.init(key: "device", message: "must be a device under /dev")] : [] }
        return d
    }()
    static let feed: SourceDeclaration = {
        var d = SourceDeclaration(kind: "feed", keys: [.init("topic", .string)])
        d.notScheduled = "feed sources are pushed by the feeder, not on a schedule"
        d.snapshotNameKey = "feed-name"
        d.defaultSnapshotName = "the-feed"
        return d
    }()
    static let capabilities = PlanCapabilities(sources: [tape, feed])

    static func plan(_ sources: String) -> String {
        """
        [repository.r]
        url = "/backups/r"
        password-file = "/etc/cairn/r.pass"

        \(sources)
        """
    }

    private func issues(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try PlanDecoder.decode(text, file: "p.toml", capabilities: Self.capabilities)
            XCTFail("decoded", file: file, line: line)
            return ""
        } catch { return "\(error)" }
    }

    func testADeclaredKindDecodesWithItsTypedSettings() throws {
        let plan = try PlanDecoder.decode(Self.plan("""
            [source.backup-tape]
            kind = "tape"
            repository = "r"
            device = "/dev/st0"
            volumes = ["a", "b"]
            rewind = true
            schedule = "daily 03:00"

            [source.f]
            kind = "feed"
            repository = "r"
            """), file: "p.toml", capabilities: Self.capabilities)
        let tape = try XCTUnwrap(plan.source(named: "backup-tape"))
        XCTAssertEqual(tape.kind, "tape")
        XCTAssertEqual(tape.settings.string("device"), "/dev/st0")
        XCTAssertEqual(tape.settings.strings("volumes"), ["a", "b"])
        XCTAssertTrue(tape.settings.bool("rewind"))
        XCTAssertEqual(tape.settings.line(of: "device"), 8)
        XCTAssertEqual(tape.snapshotName, "backup-tape", "the source's name by default")
        let feed = try XCTUnwrap(plan.source(named: "f"))
        XCTAssertEqual(feed.snapshotName, "the-feed", "the kind's default name")
        XCTAssertNil(feed.settings.string("topic"))
        XCTAssertFalse(feed.settings.bool("rewind"))
    }

    func testTheDeclarationsRulesAreCheckedWithLinesAndKeys() {
        let text = issues(Self.plan("""
            [source.t]
            kind = "tape"
            repository = "r"
            device = "st0"
            volumes = "a"
            topic = "x"

            [source.u]
            kind = "tape"
            repository = "r"
            rewind = "yes"

            [source.f]
            kind = "feed"
            repository = "r"
            schedule = "daily 01:00"
            feed-name = "n"
            snapshot-name = "m"

            [source.x]
            kind = "disk"
            repository = "r"
            """))
        XCTAssertTrue(text.contains("p.toml:8: source.t.device: must be a device under /dev"), text)
        XCTAssertTrue(text.contains("p.toml:9: source.t.volumes: must be an array of strings"), text)
        XCTAssertTrue(text.contains("p.toml:10: source.t.topic: not a key of tape sources (it belongs to feed)"), text)
        XCTAssertTrue(text.contains("p.toml:12: source.u.device: is required"), text)
        XCTAssertTrue(text.contains("p.toml:15: source.u.rewind: must be true or false"), text)
        XCTAssertTrue(text.contains("p.toml:20: source.f.schedule: feed sources are pushed by the feeder, not on a schedule"), text)
        XCTAssertTrue(text.contains("source.x.kind: \"disk\" is not a source kind (tape | feed)"), text)
        XCTAssertFalse(text.contains("feed-name"), "the naming key is the kind's own: \(text)")
        // A declared kind this build cannot back up yet is refused by name, with the reason.
        var unavailable = Self.capabilities
        unavailable.unavailableKinds = ["feed": "no feeder in this build"]
        XCTAssertThrowsError(try PlanDecoder.decode(Self.plan("[source.f]\nkind = \"feed\"\nrepository = \"r\""), file: "p.toml", capabilities: unavailable)) { e in
            XCTAssertTrue("\(e)".contains("p.toml:6: source.f.kind: feed sources are not available in this build: no feeder in this build"), "\(e)")
        }
    }

    func testSnapshotNameWinsOverTheKindsNamingKey() throws {
        let plan = try PlanDecoder.decode(Self.plan("""
            [source.f]
            kind = "feed"
            repository = "r"
            feed-name = "n"

            [source.g]
            kind = "feed"
            repository = "r"
            feed-name = "n2"
            snapshot-name = "m"
            """), file: "p.toml", capabilities: Self.capabilities)
        XCTAssertEqual(plan.source(named: "f")?.snapshotName, "n")
        XCTAssertEqual(plan.source(named: "g")?.snapshotName, "m")
    }
}
