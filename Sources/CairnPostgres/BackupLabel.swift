/// The facts in a `backup_label` file, as `pg_backup_stop` returns it:
/// `START WAL LOCATION: 0/2000028 (file 000000010000000000000002)`,
/// `START TIMELINE: 1`, `START TIME: …`, `LABEL: …`.
public struct BackupLabel: Sendable, Equatable {
    public var startLSN: LSN
    public var startWALFile: String
    public var timeline: UInt32
    public var label: String

    public init(parsing text: String) throws {
        var start: LSN? = nil, file: String? = nil, tli: UInt32? = nil, label = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("START WAL LOCATION: ") {
                let rest = line.dropFirst("START WAL LOCATION: ".count).split(separator: " ")
                start = rest.first.flatMap { LSN(String($0)) }
                if let i = rest.firstIndex(of: "(file"), i + 1 < rest.count { file = String(rest[i + 1].dropLast()) }
            } else if line.hasPrefix("START TIMELINE: ") {
                tli = UInt32(line.dropFirst("START TIMELINE: ".count).trimmingCharacters(in: " "))
            } else if line.hasPrefix("LABEL: ") {
                label = String(line.dropFirst("LABEL: ".count))
            }
        }
        guard let start, let file, let tli else {
            throw PostgresError.other("backup_label from the server lacks START WAL LOCATION or START TIMELINE: \(text.prefix(200).debugDescription)")
        }
        startLSN = start; startWALFile = file; timeline = tli; self.label = label
    }
}
