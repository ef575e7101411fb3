import CairnCrypto
import CairnFormat
import CairnStorage
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// Finds the key file a passphrase opens, treating every key file as
/// untrusted input (anyone who can write to the store can add some):
///
/// - each is size-checked before it is read, and decoded only within the
///   scrypt bounds of format-spec §6, so one junk file costs little;
/// - the key file that opened the repository last time (a hint in the local
///   cache, never trusted beyond being tried first) is tried first, then the
///   others cheapest first, several key derivations at a time;
/// - key files costlier than the default are tried only within a budget of
///   work, and all key files together within a larger one (restic stops
///   after 20 key files), so a wrong passphrase is reported in seconds
///   whatever was added; `--key-hint` names the key file to try first;
/// - a key file that cannot be decoded, or whose bytes do not hash to its
///   name, is reported as damaged or tampered, never as "wrong passphrase".
struct KeyUnlocker {
    let store: any ObjectStore
    let passphrase: [UInt8]
    let configObject: [UInt8]
    let hints: KeyHints?
    /// A key file id or unique prefix to try before anything else (`--key-hint`, `CAIRN_KEY_HINT`).
    var explicitHint: String? = nil
    /// Where damaged, renamed and weak key files are reported.
    var warnings: any WarningReporter = IgnoredWarnings()

    /// What opened the repository.
    struct Unlocked {
        let config: RepositoryConfig
        let keys: Keyring
        let keyName: String
        let keyFile: KeyFile
    }

    /// Key derivations run at once (each takes 32 MiB at the default cost).
    static var parallelism: Int { max(1, min(4, sysconfProcessors())) }
    /// Work spent on key files costlier than the default before giving up on them: 16 default
    /// derivations, enough for one key file at the most a reader accepts.
    static let costlyBudget = ScryptParameters.maximumWork
    /// Work spent on all key files together (the hints excepted): 64 default derivations (their
    /// time: Docs/performance.md, "Hostile input"). Thousands of junk key files then cost a
    /// bounded time, cheap ones less each.
    static let totalBudget = 64 * ScryptParameters.default.work

    /// Why `config` did not open with a key file the passphrase opened.
    private var configProblem: String? {
        get { state.configProblem }
        nonmutating set { state.configProblem = newValue }
    }
    final class State: @unchecked Sendable { var configProblem: String? }
    let state = State()

    /// A key file read and decoded, waiting to be tried.
    private struct Candidate {
        let name: String
        let file: KeyFile
        /// Bytes do not hash to the name: altered or renamed.
        let tampered: Bool
    }

    func unlock(keyNames: [String]) async throws -> Unlocked {
        guard !keyNames.isEmpty else { throw CairnError.noKeyFile(store.location) }
        var damaged: [(name: String, why: String)] = []
        var tried = 0
        var tamperedTried: [String] = []
        var derived: [DerivationKey: [UInt8]] = [:]

        // The operator's hint, then the cache's, each on its own: in the usual case the only key file read.
        var firsts: [String] = []
        if let explicitHint {
            let spec = explicitHint.lowercased()
            let matches = keyNames.filter { $0.hasPrefix(spec) }
            guard !spec.isEmpty, matches.count == 1 else {
                throw CairnError.invalidArgument("--key-hint \(explicitHint.debugDescription) matches \(matches.isEmpty ? "no" : String(matches.count)) key files of the repository ('cairn key list' shows their ids)")
            }
            firsts.append(matches[0])
        }
        if let h = hints?.load(configObject: configObject), keyNames.contains(h), !firsts.contains(h) { firsts.append(h) }
        var remaining = keyNames.filter { !firsts.contains($0) }
        for hinted in firsts {
            switch await read(hinted) {
            case .failure(let p): damaged.append((hinted, p.why))
            case .success(let c):
                tried += 1
                if c.tampered { tamperedTried.append(c.name) }
                if let u = try await attempt([c], derived: &derived) { return finish(u, damaged: damaged) }
            }
        }

        // The rest, read all at once: cheapest first, then those made on this host by this user, then newest.
        var candidates: [Candidate] = []
        for (name, result) in await readAll(remaining) {
            switch result {
            case .failure(let p): damaged.append((name, p.why))
            case .success(let c): candidates.append(c)
            }
        }
        remaining = []
        let host = Host.name, user = Host.user
        candidates.sort { a, b in
            let ka = (a.file.scrypt.work, a.file.host == host && a.file.user == user ? 0 : 1, -a.file.createdNanos)
            let kb = (b.file.scrypt.work, b.file.host == host && b.file.user == user ? 0 : 1, -b.file.createdNanos)
            return ka != kb ? ka < kb : a.name < b.name
        }
        var costlySpent: UInt64 = 0, spent: UInt64 = 0
        var untried = 0, overBudget = 0
        var i = 0
        while i < candidates.count {
            var batch: [Candidate] = []
            while i < candidates.count, batch.count < Self.parallelism {
                let c = candidates[i]; i += 1
                guard spent + c.file.scrypt.work <= Self.totalBudget else { overBudget += 1; continue }
                if c.file.scrypt.work > ScryptParameters.default.work {
                    guard costlySpent + c.file.scrypt.work <= Self.costlyBudget else { untried += 1; continue }
                    costlySpent += c.file.scrypt.work
                }
                spent += c.file.scrypt.work
                batch.append(c)
            }
            if batch.isEmpty { continue }
            tried += batch.count
            tamperedTried += batch.filter(\.tampered).map(\.name)
            if let u = try await attempt(batch, derived: &derived) { return finish(u, damaged: damaged) }
        }
        throw failure(tried: tried, untried: untried, overBudget: overBudget, tampered: tamperedTried, damaged: damaged)
    }

    // MARK: reading

    private func read(_ name: String) async -> Result<Candidate, KeyFileProblem> {
        let key = ObjectKey(.keys, name)
        do {
            let bytes = try await MetadataObjects.read(store, key)
            let file = try KeyFile.decode(bytes)
            return .success(Candidate(name: name, file: file, tampered: !MetadataObjects.matchesName(key, bytes)))
        } catch StorageError.notFound {
            return .failure(KeyFileProblem("was removed while it was read"))
        } catch CairnError.damagedObject(_, let why) {
            return .failure(KeyFileProblem(why))
        } catch {
            return .failure(KeyFileProblem(describe(error)))
        }
    }

    private func readAll(_ names: [String]) async -> [(String, Result<Candidate, KeyFileProblem>)] {
        await withTaskGroup(of: (Int, Result<Candidate, KeyFileProblem>).self) { group in
            var out = [(String, Result<Candidate, KeyFileProblem>)?](repeating: nil, count: names.count)
            var next = 0
            func launch() {
                guard next < names.count else { return }
                let i = next, name = names[next]; next += 1
                group.addTask { (i, await read(name)) }
            }
            for _ in 0..<16 { launch() }
            while let (i, r) = await group.next() {
                out[i] = (names[i], r)
                launch()
            }
            return out.compactMap { $0 }
        }
    }

    // MARK: trying

    private struct DerivationKey: Hashable {
        let salt: [UInt8]
        let parameters: ScryptParameters
    }

    /// Derives the batch's key-encryption keys in parallel (each salt and
    /// parameter set once) and returns the first candidate that opens.
    private func attempt(_ batch: [Candidate], derived: inout [DerivationKey: [UInt8]]) async throws -> Unlocked? {
        let needed = Array(Set(batch.map { DerivationKey(salt: $0.file.salt, parameters: $0.file.scrypt) }).filter { derived[$0] == nil })
        let passphrase = self.passphrase
        // A derivation the library refuses leaves that key file unopened, like a wrong passphrase.
        let keks = await withTaskGroup(of: (DerivationKey, [UInt8]?).self) { group in
            for d in needed {
                group.addTask { (d, try? Scrypt.derive(passphrase: passphrase, salt: d.salt, parameters: d.parameters)) }
            }
            var out: [DerivationKey: [UInt8]] = [:]
            for await (d, kek) in group { out[d] = kek ?? [] }
            return out
        }
        derived.merge(keks) { $1 }
        for c in batch {
            guard let kek = derived[DerivationKey(salt: c.file.salt, parameters: c.file.scrypt)], kek.count == 32,
                  let keys = Keyring.unwrap(c.file, kek: kek) else { continue }
            // The passphrase is right for this key file: a config that does not open or decode with
            // it is damaged (or, rarely, the key file was copied from another repository; another
            // key file may still open it).
            let config: RepositoryConfig
            do { config = try RepositoryConfig.decode(try keys.openObject(.config, configObject)) } catch {
                configProblem = configProblem ?? "\(describe(error)) (\(configObject.count) bytes)"
                continue
            }
            if c.tampered {
                warnings.warn("key file \(c.name.prefix(12)) \(MetadataObjects.nameMismatch); it still opened the repository (its wrap is authentic): run 'cairn key passwd' to write it anew")
            }
            return Unlocked(config: config, keys: keys, keyName: c.name, keyFile: c.file)
        }
        return nil
    }

    private func finish(_ u: Unlocked, damaged: [(name: String, why: String)]) -> Unlocked {
        hints?.store(keyName: u.keyName, configObject: configObject)
        for d in damaged.prefix(3) {
            warnings.warn("key file \(d.name.prefix(12)) is damaged or tampered (\(d.why)): it was skipped; remove it with 'cairn key remove' if it is junk")
        }
        if damaged.count > 3 { warnings.warn("\(damaged.count - 3) more key files are damaged or tampered; 'cairn key list' shows them") }
        let p = u.keyFile.scrypt
        if p.isWeakerThanDefault {
            warnings.warn("key file \(u.keyName.prefix(12)) uses weak scrypt parameters (logN=\(p.logN) r=\(p.r) p=\(p.p); the default is logN=15 r=8 p=1): a stolen copy is cheaper to guess at; run 'cairn key passwd' to rewrap it")
        }
        return u
    }

    private func failure(tried: Int, untried: Int, overBudget: Int, tampered: [String], damaged: [(name: String, why: String)]) -> CairnError {
        if let configProblem { return .damagedConfig(location: store.location, reason: configProblem) }
        let untried = untried + overBudget
        if tried == 0 && untried == 0 {
            // Nothing could even be tried: every key file is damaged.
            let first = damaged[0]
            let more = damaged.count > 1 ? " (and \(damaged.count - 1) more key files are damaged too)" : ""
            return .keyFileDamaged(store.location, "key file \(first.name.prefix(12)) is damaged or tampered: \(first.why)\(more)")
        }
        var notes: [String] = []
        if !tampered.isEmpty {
            notes.append("key file \(tampered[0].prefix(12)) is damaged or tampered (\(MetadataObjects.nameMismatch))" + (tampered.count > 1 ? " and \(tampered.count - 1) more" : ""))
        }
        if !damaged.isEmpty {
            notes.append("key file \(damaged[0].name.prefix(12)) is damaged or tampered (\(damaged[0].why))" + (damaged.count > 1 ? " and \(damaged.count - 1) more" : ""))
        }
        if untried > overBudget {
            notes.append("\(untried - overBudget) key files with costlier scrypt parameters were not tried (more than the unlock budget)")
        }
        if overBudget > 0 {
            notes.append("\(overBudget) more key files were not tried (the unlock budget is \(Self.totalBudget / ScryptParameters.default.work) default key derivations): name yours with --key-hint ID or CAIRN_KEY_HINT, and remove junk ones ('cairn key list')")
        }
        if tampered.count == tried && untried == 0 {
            // Every key file that could be tried had been altered: the passphrase may well be right.
            return .keyFileDamaged(store.location, notes.joined(separator: "; ") + "; no intact key file opens with this passphrase")
        }
        return .wrongPassphrase(store.location, tried: tried, notes: notes)
    }
}

/// Why a key file could not be tried.
struct KeyFileProblem: Error { let why: String; init(_ why: String) { self.why = why } }

/// The local cache's record of which key file opened a repository last
/// (`<cache>/keys-used/<hash of the config object>`): only the order in which
/// key files are tried depends on it.
struct KeyHints: Sendable {
    let directory: String

    init(cacheBase: String) { directory = cacheBase + "/keys-used" }

    private func path(_ configObject: [UInt8]) -> String {
        directory + "/" + Hex.encode(SHA256.hash(configObject)).prefix(32)
    }

    func load(configObject: [UInt8]) -> String? {
        let fd = open(path(configObject), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 65)
        let n = (try? bytes.withUnsafeMutableBytes { try FileDescriptorIO.readFull(fd, into: $0) }) ?? -1
        guard n == 64, let name = String(validating: bytes[0..<64], as: UTF8.self), ChunkID(hex: name) != nil else { return nil }
        return name
    }

    /// Best effort: a cache that cannot be written costs only the order next time.
    func store(keyName: String, configObject: [UInt8]) {
        guard load(configObject: configObject) != keyName else { return }
        guard (try? FileSystem.makeDirectories(directory)) != nil else { return }
        let final = path(configObject), temp = final + ".tmp\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let ok = (try? Array(keyName.utf8).withUnsafeBytes { try FileDescriptorIO.writeAll(fd, $0) }) != nil
        close(fd)
        if !ok || rename(temp, final) != 0 { unlink(temp) }
    }
}
