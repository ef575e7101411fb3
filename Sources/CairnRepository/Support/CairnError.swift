import CairnFormat
import CairnStorage
import CairnCrypto
import CairnIndex
import CairnCompression

/// The errors the engine reports. Each message says what is wrong and, where
/// possible, what to do. `cairn` exits 1 on any of them, 2 on `usage` (a bad
/// option value found only at run time; `CairnCommand.main`).
public enum CairnError: Error, CustomStringConvertible, Sendable {
    case notARepository(String)
    case alreadyARepository(String)
    /// No key file opens with the passphrase: how many were tried, and what else was found.
    case wrongPassphrase(String, tried: Int = 1, notes: [String] = [])
    /// The `config` object does not open or decode although the passphrase opened a key.
    case damagedConfig(location: String, reason: String)
    /// `keys/` is empty or missing.
    case noKeyFile(String)
    /// No intact key file could be tried: the reason names the damaged or tampered file.
    case keyFileDamaged(String, String)
    /// `key remove` of the key the command was opened with, without `--force`.
    case removingCurrentKey(String)
    /// The passphrase opened a key that an interrupted `key passwd` replaced (now finished).
    case passphraseReplaced(old: String, new: String)
    case noPassphrase
    case snapshotNotFound(String)
    case ambiguousSnapshot(String, [String])
    case pathNotFound(String)
    case damagedBlob(blob: String, pack: String, reason: String)
    case missingBlob(String)
    case missingPack(String)
    /// A store object (`snapshots/…`, `keys/…`, …) that cannot be used: too large, renamed or altered.
    case damagedObject(String, String)
    /// Restore could not prove every byte of `path` in `snapshot`.
    case restoreFailed(snapshot: String, path: String, reason: String)
    case lastKey
    case keyNotFound(String)
    case invalidArgument(String)
    /// A bad option value known only once the repository is open (an unknown
    /// chunker profile, ...): a usage error, exit 2.
    case usage(String)
    /// A backup stored none of its arguments (each could not be read: the warnings).
    case nothingSaved([String])
    case io(String)
    case other(String)

    public var description: String {
        switch self {
        case .notARepository(let p): return "\(p) is not a cairn repository (no config object): check --repo / CAIRN_REPO, or run 'cairn init'"
        case .alreadyARepository(let p): return "\(p) already holds a cairn repository; refusing to overwrite it"
        case .wrongPassphrase(let p, let tried, let notes):
            let what = tried == 1 ? "the repository's key file does not open" : "none of the \(tried) key files of the repository opens"
            return "wrong passphrase: \(what) with it (\(p))" + notes.map { "; " + $0 }.joined()
        case .damagedConfig(let location, let reason):
            return "the repository's config object (\(location)/config) is damaged: \(reason). Nothing can be opened without it: put that one object back from a copy of the repository (storage versioning, a file-system snapshot, a backup of the backup), then run 'cairn scrub'"
        case .noKeyFile(let p): return "no key file found in the repository at \(p) (keys/ is empty or missing): restore the key files from a copy of the repository"
        case .keyFileDamaged(let p, let why): return "\(why) (repository at \(p)): restore the key file from a copy of the repository, or open it with another passphrase"
        case .passphraseReplaced(let old, let new): return "this passphrase no longer opens the repository: 'cairn key passwd' replaced its key \(old.prefix(8)) with key \(new.prefix(8)) (the change had been interrupted and is now finished); use the new passphrase"
        case .removingCurrentKey(let k): return "refusing to remove key \(k.prefix(8)): it is the key this command opened the repository with, so the passphrase in use would stop working; add --force to remove it anyway"
        case .noPassphrase: return "no passphrase: set CAIRN_PASSWORD_FILE or --password-file (or CAIRN_PASSWORD), or run on a terminal to be asked"
        case .snapshotNotFound(let s): return "no snapshot matches \(s.debugDescription): list them with 'cairn snapshots'"
        case .ambiguousSnapshot(let s, let ids): return "snapshot prefix \(s.debugDescription) matches \(ids.count) snapshots (\(ids.prefix(4).joined(separator: ", "))): give more digits"
        case .pathNotFound(let p): return "\(p): no such file or directory"
        case .damagedBlob(let b, let p, let r): return "blob \(b) in pack \(p) is damaged: \(r)"
        case .missingBlob(let b): return "blob \(b) is named by no index object in the store (the local cache was checked against the store). If a prune ran while this command read the repository without its lock (--no-lock, or after 'cairn unlock'), run the command again; otherwise run 'cairn scrub', which tells index damage ('cairn index rebuild --read-packs' recovers that) from lost data"
        case .missingPack(let p): return "pack \(p) is missing from the store. If a prune ran while this command read the repository without its lock (--no-lock, or after 'cairn unlock'), run the command again; otherwise run 'cairn scrub' to see which snapshots it affects"
        case .damagedObject(let o, let r): return "\(o) is damaged: \(r)"
        case .restoreFailed(let s, let p, let r): return "restore of snapshot \(s) failed at \(p): \(r)"
        case .lastKey: return "refusing to remove the last key: the repository could never be opened again"
        case .keyNotFound(let k): return "no key with id \(k.debugDescription): list them with 'cairn key list'"
        case .invalidArgument(let m): return m
        case .usage(let m): return m
        case .nothingSaved(let why):
            return "nothing was backed up, no snapshot was saved: \(why.prefix(3).joined(separator: "; "))\(why.count > 3 ? "; and \(why.count - 3) more" : "")"
        case .io(let m): return m
        case .other(let m): return m
        }
    }
}

/// Turns any error from the lower layers into one line for a person.
public func describe(_ error: any Error) -> String {
    switch error {
    case let e as CairnError: return e.description
    case let e as StorageError: return e.description
    case let e as FormatError: return e.description
    case let e as CryptoError: return e.description
    case let e as CompressionError: return e.description
    case let e as SQLiteError: return e.description
    default: return String(describing: error)
    }
}
