import CairnFormat

/// The `extra` keys of the drill and scrub records (`OpsRecord`), written and read only here.
extension Snapshot.ExtraKey {
    static let drillSource = Snapshot.ExtraKey("cairn.drill.source")
    static let drillKind = Snapshot.ExtraKey("cairn.drill.kind")
    static let drillOK = Snapshot.ExtraKey("cairn.drill.ok")
    static let drillSeconds = Snapshot.ExtraKey("cairn.drill.seconds")
    static let drillSnapshot = Snapshot.ExtraKey("cairn.drill.snapshot")
    static let drillMessage = Snapshot.ExtraKey("cairn.drill.message")
    static let drillPhases = Snapshot.ExtraKey("cairn.drill.phases")

    static let scrubClean = Snapshot.ExtraKey("cairn.scrub.clean")
    static let scrubRan = Snapshot.ExtraKey("cairn.scrub.ran")
    static let scrubMessage = Snapshot.ExtraKey("cairn.scrub.message")
    static let scrubSeconds = Snapshot.ExtraKey("cairn.scrub.seconds")
}
