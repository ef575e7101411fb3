/// Failures of the cryptographic layer.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The ciphertext or its associated data was altered, or the key is wrong.
    case authenticationFailed
    /// Input that cannot be a sealed message (too short).
    case malformed(String)
    /// OpenSSL reported an error.
    case library(String)

    public var description: String {
        switch self {
        case .authenticationFailed: return "authentication failed: the data was altered or the key is wrong"
        case .malformed(let what): return "malformed encrypted data: \(what)"
        case .library(let what): return "OpenSSL failure in \(what)"
        }
    }
}
