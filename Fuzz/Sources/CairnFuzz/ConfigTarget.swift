import CairnFormat

/// The `config` object's plaintext, and the chunkers its profiles describe.
enum ConfigTarget {
    static let target = FuzzTarget(
        name: "config", maxLength: 4096, summary: "RepositoryConfig.decode, then a FastCDC per profile",
        seeds: {
            let id = [UInt8](repeating: 9, count: 32)
            return [RepositoryConfig(repositoryID: id, createdNanos: 1_700_000_000_000_000_000).encoded(),
                    RepositoryConfig(repositoryID: id, createdNanos: 0, packSize: 1 << 16, compressionLevel: 0,
                                     profiles: [ChunkerProfile(name: "x", minimumSize: 64, averageSize: 256, maximumSize: 1024, normalization: 3)],
                                     chunkerSeed: 42).encoded()]
        },
        run: { bytes in
            guard let config = try? RepositoryConfig.decode(bytes) else { return }
            require(config.encoded() == bytes, "config does not re-encode to its bytes")
            let sample = [UInt8](repeating: 0x5a, count: 4096)
            for profile in config.profiles {
                let chunker: FastCDC
                do { chunker = try FastCDC(profile.parameters(seed: config.chunkerSeed ?? 1)) } catch {
                    fatalError("a profile the config accepted makes no chunker: \(error)")
                }
                let cuts = chunker.chunks(of: sample)
                require(cuts.reduce(0) { $0 + $1.length } == sample.count, "chunks do not cover the input")
            }
        })
}
