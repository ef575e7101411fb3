import Foundation

/// A CometBFT validator's last signing state (`priv_validator_state.json`):
/// the height, round and step it last signed. The validator refuses to sign
/// at or below it; restoring an older file removes that guard and lets the
/// validator double-sign (slashing, tombstoning).
///
/// Pure: parses bytes, compares; no I/O.
public struct SigningState: Comparable, Sendable, CustomStringConvertible {
    public var height: Int64
    public var round: Int64
    public var step: Int64

    public init(height: Int64, round: Int64, step: Int64) {
        self.height = height; self.round = round; self.step = step
    }

    /// The file name CometBFT uses.
    public static let fileName = "priv_validator_state.json"
    /// Key files whose restore deserves a warning (a second signer with the same key double-signs).
    public static let keyFileNames: Set<String> = ["priv_validator_key.json", "node_key.json"]

    /// Parses the JSON; CometBFT writes the height as a string ("height": "123") and round and step as numbers.
    public static func parse(_ bytes: [UInt8]) throws -> SigningState {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw SigningStateError("is not a JSON object")
        }
        func field(_ name: String) throws -> Int64 {
            switch object[name] {
            case let s as String:
                guard let v = Int64(s) else { throw SigningStateError("has a non-numeric \(name) \(s.debugDescription)") }
                return v
            case let n as NSNumber:
                let d = n.doubleValue
                guard d == d.rounded(), abs(d) < 9e18 else { throw SigningStateError("has a \(name) that is not an integer") }
                return n.int64Value
            case nil: throw SigningStateError("has no \(name)")
            default: throw SigningStateError("has a \(name) that is neither a number nor a string")
            }
        }
        return SigningState(height: try field("height"), round: try field("round"), step: try field("step"))
    }

    public static func < (a: SigningState, b: SigningState) -> Bool {
        (a.height, a.round, a.step) < (b.height, b.round, b.step)
    }

    public var description: String { "height \(height), round \(round), step \(step)" }
}

/// Why a signing-state file could not be read.
public struct SigningStateError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
