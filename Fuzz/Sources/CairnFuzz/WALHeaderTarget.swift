import CairnPostgres

/// What `wal push` reads from a segment before storing it (the long page
/// header), and the names and positions it parses from PostgreSQL and the store.
enum WALHeaderTarget {
    static let target = FuzzTarget(
        name: "wal-header", maxLength: 4096, summary: "WALSegmentHeader, WALFileName and LSN parsing",
        run: { bytes in
            if let header = WALSegmentHeader(bytes) {
                require(header.segmentSize.nonzeroBitCount == 1, "segment size \(header.segmentSize) accepted")
            }
            let text = bytes.text
            if let name = WALFileName(text) {
                if name.kind != .history { _ = name.segmentNumber(segmentSize: 16 << 20) }
                require(name.name == text, "a WAL file name changed when parsed")
            }
            if let lsn = LSN(text) {
                require(LSN(lsn.description) == lsn, "an LSN does not survive its text form")
            }
        })
}
