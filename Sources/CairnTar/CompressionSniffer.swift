/// Recognises compressed input by its first bytes. Compressed streams defeat
/// content-defined chunking (one changed byte changes everything after it),
/// so the CLI warns and offers `--decompress`.
public enum CompressionSniffer {
    public enum Format: String, Sendable, CaseIterable {
        case gzip, zstd, xz, bzip2

        /// The command that decompresses it from stdin to stdout.
        public var decompressor: [String] {
            switch self {
            case .gzip: return ["gzip", "-dc"]
            case .zstd: return ["zstd", "-dcq"]
            case .xz: return ["xz", "-dc"]
            case .bzip2: return ["bzip2", "-dc"]
            }
        }
    }

    /// Bytes needed to decide.
    public static let prefixLength = 6

    public static func detect(_ prefix: [UInt8]) -> Format? {
        func starts(_ m: [UInt8]) -> Bool { prefix.count >= m.count && Array(prefix.prefix(m.count)) == m }
        if starts([0x1f, 0x8b]) { return .gzip }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if starts([0x42, 0x5a, 0x68]) && prefix.count >= 4 && (0x31...0x39).contains(prefix[3]) { return .bzip2 }
        return nil
    }
}
