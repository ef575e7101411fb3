/// Turns a plan file's text into a `Plan`, collecting every problem with its
/// line and key. Strict: unknown keys, wrong types and dangling references
/// are errors.
public enum PlanDecoder {
    /// Parses and validates `text` (read from `file`, used in messages only) against the source
    /// kinds `capabilities` declares (CairnOps' `PlanDecoder.decode(_:file:)` passes the registry's).
    public static func decode(_ text: String, file: String, capabilities: PlanCapabilities) throws -> Plan {
        let root: TOMLTable
        do { root = try TOMLParser.parse(text) } catch let e as TOMLError {
            throw PlanError([PlanIssue(file: file, line: e.line, key: "", message: e.message)])
        }
        var d = Decoder(file: file)
        let plan = d.plan(root, capabilities: capabilities)
        if !d.issues.isEmpty { throw PlanError(d.issues) }
        return plan
    }

    private struct Decoder {
        let file: String
        var issues: [PlanIssue] = []

        mutating func fail(_ line: Int, _ key: String, _ message: String) {
            issues.append(PlanIssue(file: file, line: line, key: key, message: message))
        }

        mutating func unknown(_ t: TOMLTable, _ prefix: String, allowed: [String]) {
            for (k, n) in t.entries where !allowed.contains(k) {
                fail(n.line, prefix + k, "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
            }
        }

        mutating func table(_ n: TOMLNode?, _ key: String) -> TOMLTable? {
            guard let n else { return nil }
            guard case .table(let t) = n.value else { fail(n.line, key, "must be a table, not \(n.value.typeName)"); return nil }
            return t
        }

        mutating func string(_ t: TOMLTable, _ prefix: String, _ k: String, required: Bool = false) -> String? {
            guard let n = t[k] else {
                if required { fail(t.line, prefix + k, "is required") }
                return nil
            }
            guard case .string(let s) = n.value else { fail(n.line, prefix + k, "must be a string, not \(n.value.typeName)"); return nil }
            if s.isEmpty { fail(n.line, prefix + k, "must not be empty"); return nil }
            return s
        }

        mutating func bool(_ t: TOMLTable, _ prefix: String, _ k: String) -> Bool? {
            guard let n = t[k] else { return nil }
            guard case .boolean(let b) = n.value else { fail(n.line, prefix + k, "must be true or false, not \(n.value.typeName)"); return nil }
            return b
        }

        mutating func strings(_ t: TOMLTable, _ prefix: String, _ k: String, required: Bool = false) -> [String] {
            guard let n = t[k] else {
                if required { fail(t.line, prefix + k, "is required") }
                return []
            }
            guard case .array(let items) = n.value else { fail(n.line, prefix + k, "must be an array of strings, like [\"a\", \"b\"]"); return [] }
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item.value, !s.isEmpty else {
                    fail(item.line, prefix + k, "must hold non-empty strings only, not \(item.value.typeName)"); continue
                }
                out.append(s)
            }
            if required && items.isEmpty { fail(n.line, prefix + k, "must not be empty") }
            return out
        }

        mutating func duration(_ t: TOMLTable, _ prefix: String, _ k: String) -> Int64? {
            guard let n = t[k] else { return nil }
            guard case .string(let s) = n.value else {
                fail(n.line, prefix + k, "must be a duration string like \"26h\", not \(n.value.typeName)"); return nil
            }
            guard let v = PlanDuration.seconds(s) else { fail(n.line, prefix + k, "\(s.debugDescription) is not a duration (like 26h, 15m, 8d)"); return nil }
            return v
        }

        static func validName(_ s: String) -> Bool {
            !s.isEmpty && s != "." && s != ".." && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }

        // MARK: - Whole plan

        mutating func plan(_ root: TOMLTable, capabilities: PlanCapabilities) -> Plan {
            unknown(root, "", allowed: ["repository", "source", "drill"])
            var repositories: [PlanRepository] = []
            if let reps = table(root["repository"], "repository") {
                for (name, n) in reps.entries {
                    guard let t = table(n, "repository.\(name)") else { continue }
                    if let r = repository(name, t, capabilities) { repositories.append(r) }
                }
            }
            if repositories.isEmpty && !issues.contains(where: { $0.key.hasPrefix("repository") }) {
                fail(root["repository"]?.line ?? 1, "repository", "the plan needs at least one [repository.NAME] with a url")
            }
            var sources: [PlanSource] = []
            if let srcs = table(root["source"], "source") {
                for (name, n) in srcs.entries {
                    guard let t = table(n, "source.\(name)") else { continue }
                    if let s = source(name, t, capabilities) { sources.append(s) }
                }
            }
            let known = Set(repositories.map(\.name))
            for r in repositories {
                if let from = r.copyFrom {
                    if from == r.name { fail(r.line, "repository.\(r.name).copy-from", "a repository cannot copy from itself") }
                    else if !known.contains(from) { fail(r.line, "repository.\(r.name).copy-from", "no repository named \(from.debugDescription) (have: \(known.sorted().joined(separator: ", ")))") }
                }
            }
            // Replication chains are fine (a <- b <- c); a cycle would copy forever.
            let copyFrom = Dictionary(repositories.compactMap { r in r.copyFrom.map { (r.name, $0) } }, uniquingKeysWith: { a, _ in a })
            for r in repositories where r.copyFrom != nil {
                var seen: [String] = [r.name], next = r.copyFrom
                while let n = next, known.contains(n), n != r.name, !seen.contains(n) { seen.append(n); next = copyFrom[n] }
                if let n = next, n == r.name, seen.count > 1 {
                    fail(r.line, "repository.\(r.name).copy-from", "replication cycle: " + (seen + [r.name]).joined(separator: " <- "))
                }
            }
            for s in sources where !known.contains(s.repository) {
                fail(s.line, "source.\(s.name).repository", "no repository named \(s.repository.debugDescription) (have: \(known.sorted().joined(separator: ", ")))")
            }
            var seen: [String: String] = [:]
            for s in sources {
                let k = s.repository + "\u{0}" + s.snapshotName
                if let other = seen[k] { fail(s.line, "source.\(s.name)", "writes the same snapshot name \(s.snapshotName.debugDescription) into \(s.repository) as source.\(other)") }
                seen[k] = s.name
            }
            var drill = DrillSettings()
            if let t = table(root["drill"], "drill") {
                unknown(t, "drill.", allowed: ["scratch-dir", "pg-bin", "redis-server", "pg-user"])
                drill.scratchDir = string(t, "drill.", "scratch-dir")
                drill.pgBin = string(t, "drill.", "pg-bin")
                drill.redisServer = string(t, "drill.", "redis-server")
                if let u = string(t, "drill.", "pg-user") { drill.pgUser = u }
            }
            return Plan(file: file, repositories: repositories, sources: sources, drill: drill)
        }

        mutating func repository(_ name: String, _ t: TOMLTable, _ caps: PlanCapabilities) -> PlanRepository? {
            let p = "repository.\(name)."
            if !Self.validName(name) { fail(t.line, "repository.\(name)", "a repository name may hold letters, digits, '-', '_' and '.' only") }
            unknown(t, p, allowed: ["url", "password-file", "keep", "prune", "copy-from", "scrub", "cache-dir", "immutable-days", "maintenance-credentials"])
            let url = string(t, p, "url", required: true)
            let pass = string(t, p, "password-file", required: true)
            var keep = KeepPolicy()
            if let kn = t["keep"], let kt = table(kn, p + "keep") {
                for (k, v) in kt.entries {
                    let key = p + "keep." + k
                    if KeepPolicy.countKeys.contains(k) {
                        switch v.value {
                        case .integer(let i) where i >= 0: keep.rules.append((k, String(i)))
                        case .string(let s) where KeepPolicy.validCount(s): keep.rules.append((k, s))
                        default: fail(v.line, key, "must be a number of snapshots (like 7) or \"unlimited\"")
                        }
                    } else if KeepPolicy.durationKeys.contains(k) {
                        if case .string(let s) = v.value, KeepPolicy.validDuration(s) { keep.rules.append((k, s)) }
                        else { fail(v.line, key, "must be a retention duration like \"1y\", \"6m\" (months) or \"30d\"") }
                    } else if k == KeepPolicy.tagKey {
                        switch v.value {
                        case .string(let s): keep.rules.append((k, s))
                        case .array(let a):
                            for item in a {
                                if case .string(let s) = item.value { keep.rules.append((k, s)) } else { fail(item.line, key, "must hold strings") }
                            }
                        default: fail(v.line, key, "must be a tag list string (\"a,b\") or an array of them")
                        }
                    } else {
                        fail(v.line, key, "unknown retention rule (expected one of: \((KeepPolicy.countKeys + KeepPolicy.durationKeys + ["tag"]).joined(separator: ", ")))")
                    }
                }
            }
            var scrub = ScrubSettings()
            if let sn = t["scrub"], let st = table(sn, p + "scrub") {
                let sp = p + "scrub."
                unknown(st, sp, allowed: ["enabled", "read-data", "max-duration", "max-age"])
                if let b = bool(st, sp, "enabled") { scrub.enabled = b }
                if let b = bool(st, sp, "read-data") { scrub.readData = b }
                if st["max-duration"] != nil { scrub.maxDuration = duration(st, sp, "max-duration") }
                if st["max-age"] != nil { scrub.maxAge = duration(st, sp, "max-age") }
            }
            let copyFrom = string(t, p, "copy-from")
            guard let url, let pass else { return nil }
            var immutableDays: Int?
            if let v = t["immutable-days"] {
                if case .integer(let d) = v.value, d >= 1, d <= 36_500 { immutableDays = Int(d) }
                else { fail(v.line, p + "immutable-days", "must be a number of days, 1 to 36500") }
            }
            var r = PlanRepository(name: name, url: url, passwordFile: pass, keep: keep, prune: bool(t, p, "prune") ?? true,
                                   copyFrom: copyFrom, scrub: scrub, cacheDir: string(t, p, "cache-dir"), line: t.line)
            r.immutableDays = immutableDays
            r.maintenanceCredentials = string(t, p, "maintenance-credentials")
            return r
        }

        mutating func source(_ name: String, _ t: TOMLTable, _ caps: PlanCapabilities) -> PlanSource? {
            let p = "source.\(name)."
            if !Self.validName(name) { fail(t.line, "source.\(name)", "a source name may hold letters, digits, '-', '_' and '.' only") }
            guard let declaration = sourceKind(t, p, caps) else { return nil }
            let repository = string(t, p, "repository", required: true)
            var schedule: Schedule? = nil
            if let s = string(t, p, "schedule") {
                switch Schedule.parse(s) {
                case .success(let v): schedule = v
                case .failure(let e): fail(t["schedule"]?.line ?? t.line, p + "schedule", e.message)
                }
            }
            if let why = declaration.notScheduled, schedule != nil {
                fail(t["schedule"]?.line ?? t.line, p + "schedule", why)
            }
            let rpo = duration(t, p, "rpo"), rto = duration(t, p, "rto")
            let tags = strings(t, p, "tags")
            var snapshotName = declaration.snapshotNameKey.flatMap { string(t, p, $0) } ?? declaration.defaultSnapshotName ?? name
            if let n = string(t, p, "snapshot-name") { snapshotName = n }
            if snapshotName.contains("/") || snapshotName == "." || snapshotName == ".." {
                fail(t.line, p + "snapshot-name", "must not contain '/' or be '.' or '..'")
            }
            let settings = sourceSettings(t, p, declaration)
            for problem in declaration.check?(settings) ?? [] {
                fail(settings.line(of: problem.key) ?? t.line, p + problem.key, problem.message)
            }
            let checks = declaration.takesChecks ? drillChecks(t, p, source: name) : []
            guard let repository else { return nil }
            return PlanSource(name: name, kind: declaration.kind, repository: repository, snapshotName: snapshotName, schedule: schedule,
                              rpo: rpo, rto: rto, tags: tags, settings: settings, checks: checks, line: t.line)
        }

        /// The kind-specific keys of a source table, each read as its kind declared it.
        mutating func sourceSettings(_ t: TOMLTable, _ p: String, _ declaration: SourceDeclaration) -> SourceSettings {
            var settings = SourceSettings()
            for key in declaration.keys {
                guard let node = t[key.name] else {
                    if key.required { fail(t.line, p + key.name, "is required") }
                    continue
                }
                switch key.type {
                case .string:
                    if let v = string(t, p, key.name) { settings.set(key.name, .string(v), line: node.line) }
                case .strings:
                    settings.set(key.name, .strings(strings(t, p, key.name, required: key.required)), line: node.line)
                case .bool:
                    if let v = bool(t, p, key.name) { settings.set(key.name, .bool(v), line: node.line) }
                }
            }
            return settings
        }

        /// A source's kind (one `capabilities` declares), checked against the build's capabilities,
        /// and its keys checked against those of its kind (a key of another kind is named as such).
        mutating func sourceKind(_ t: TOMLTable, _ p: String, _ caps: PlanCapabilities) -> SourceDeclaration? {
            guard let kindText = string(t, p, "kind", required: true) else { return nil }
            guard let declaration = caps.declaration(of: kindText) else {
                let names = caps.sources.map(\.kind.rawValue).joined(separator: " | ")
                fail(t["kind"]?.line ?? t.line, p + "kind", "\(kindText.debugDescription) is not a source kind (\(names))")
                return nil
            }
            let kind = declaration.kind
            if let why = caps.unavailableKinds[kind] { fail(t["kind"]?.line ?? t.line, p + "kind", "\(kind.rawValue) sources are not available in this build: \(why)") }
            let common = ["kind", "repository", "schedule", "rpo", "rto", "tags", "snapshot-name"]
            let specific = declaration.keyNames
            for (k, n) in t.entries where !common.contains(k) && !specific.contains(k) {
                let other = caps.sources.first { $0.keyNames.contains(k) }
                fail(n.line, p + k, other.map { "not a key of \(kind.rawValue) sources (it belongs to \($0.kind.rawValue))" }
                     ?? "unknown key (expected one of: \((common + specific).joined(separator: ", ")))")
            }
            return declaration
        }

        /// A source's `[[source.NAME.check]]` tables: the drill's SQL checks and what each must return.
        mutating func drillChecks(_ t: TOMLTable, _ p: String, source name: String) -> [DrillCheck] {
            guard let cn = t["check"] else { return [] }
            guard case .array(let items) = cn.value else {
                fail(cn.line, p + "check", "write checks as [[source.\(name).check]] tables with sql and expect")
                return []
            }
            var checks: [DrillCheck] = []
            for item in items {
                guard case .table(let ct) = item.value else { fail(item.line, p + "check", "write checks as [[source.\(name).check]] tables"); continue }
                let cp = p + "check."
                unknown(ct, cp, allowed: ["sql", "expect", "database", "name"])
                let sql = string(ct, cp, "sql", required: true)
                var expect: CheckExpectation? = nil
                if let e = string(ct, cp, "expect", required: true) {
                    switch CheckExpectation.parse(e) {
                    case .success(let v): expect = v
                    case .failure(let err): fail(ct["expect"]?.line ?? ct.line, cp + "expect", err.message)
                    }
                }
                if let sql, let expect {
                    checks.append(DrillCheck(sql: sql, expect: expect, database: string(ct, cp, "database"), name: string(ct, cp, "name"), line: ct.line))
                }
            }
            return checks
        }
    }
}
