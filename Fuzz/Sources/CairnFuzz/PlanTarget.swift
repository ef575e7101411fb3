import CairnOps
import CairnPlan

/// A plan file (`cairn plan check`, `run`, `status`, `drill`): the TOML
/// subset parser, then the typed plan and its validation.
enum PlanTarget {
    static let target = FuzzTarget(
        name: "plan", maxLength: 16 << 10, summary: "TOMLParser.parse and PlanDecoder.decode",
        run: { bytes in
            let text = bytes.text
            _ = try? TOMLParser.parse(text)
            _ = try? PlanDecoder.decode(text, file: "fuzz.toml")
        })
}
