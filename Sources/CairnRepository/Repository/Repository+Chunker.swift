import CairnFormat

extension Repository {
    /// The chunker of a profile under this repository's secret seed.
    public func chunker(profile: String) throws -> FastCDC {
        guard let p = config.profile(named: profile) else {
            throw CairnError.usage("unknown chunker profile \(profile.debugDescription); known: \(config.profiles.map(\.name).joined(separator: ", "))")
        }
        return try FastCDC(p.parameters(seed: chunkerSeed))
    }

    /// The seed of this repository's chunker: the config's shared seed when it
    /// has one (`cairn init --copy-chunker-from`), else the one derived from the master key.
    public var chunkerSeed: UInt64 { config.chunkerSeed ?? keys.chunkerSeed }
}
