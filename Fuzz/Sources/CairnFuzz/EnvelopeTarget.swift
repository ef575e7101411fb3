import CairnCrypto
import CairnFormat

/// The envelope of the encrypted objects (`config`, `index/`, `snapshots/`,
/// `locks/`, `keys/replace-…`, forget records; key files share its header): magic and version checked before any
/// key is used, then the body opened with the metadata key and decoded.
///
/// The input is a whole object from the store. The bytes after the six header
/// bytes are also sealed by the harness under the kind the first byte selects
/// and read back through the full path, as from someone holding the key.
enum EnvelopeTarget {
    static let target = FuzzTarget(
        name: "envelope", maxLength: 16 << 10,
        summary: "ObjectEnvelope.open for every kind, then open + decode of a sealed body",
        seeds: {
            let bodies: [(ObjectKind, [UInt8])] = [
                (.snapshot, SampleValues.snapshot.encoded()), (.index, SampleValues.indexDelta.encoded()),
                (.lock, LockRecord(exclusive: false, host: "h", pid: 1, startNanos: 0, refreshNanos: 0, user: "u", operation: "backup").encoded()),
                (.config, RepositoryConfig(repositoryID: [UInt8](repeating: 1, count: 32), createdNanos: 0).encoded()),
            ]
            return bodies.map { kind, body in ObjectEnvelope.header(kind) + body }
        },
        run: run)

    static func run(_ bytes: [UInt8]) {
        for kind in ObjectKind.allCases {
            // `open` accepts config at every version this code reads (a v2
            // repository's config says 2), so the header is rebuilt with the
            // version the bytes carry.
            guard let (version, body) = try? ObjectEnvelope.openVersioned(bytes, kind: kind) else { continue }
            let header = ObjectEnvelope.header(kind, version: version)
            require(header + body == bytes, "envelope of \(kind) does not split at its header")
            _ = try? AESGCM.open(body, key: FuzzKeys.metadata, aad: header)
        }
        guard let first = bytes.first else { return }
        let kinds = ObjectKind.allCases.filter { $0 != .key }  // a key file is not sealed as a whole
        let kind = kinds[Int(first) % kinds.count]
        let plain = Array(bytes.dropFirst(ObjectEnvelope.headerLength))
        let header = ObjectEnvelope.header(kind)
        let object = header + FuzzKeys.sealMetadata(plain, aad: header)
        guard let body = try? ObjectEnvelope.open(object, kind: kind),
              let opened = try? AESGCM.open(body, key: FuzzKeys.metadata, aad: header) else {
            fatalError("an honest \(kind) envelope did not open")
        }
        require(opened == plain, "envelope opened to other bytes")
        switch kind {
        case .config: _ = try? RepositoryConfig.decode(opened)
        case .index: _ = try? IndexDelta.decode(opened)
        case .snapshot: _ = try? Snapshot.decode(opened)
        case .lock: _ = try? LockRecord.decode(opened)
        case .keyReplacement: _ = try? KeyReplacement.decode(opened)
        case .forgetRecord: _ = try? ForgetRecord.decode(opened)
        case .key: _ = try? KeyFile.decode(bytes)
        }
    }
}
