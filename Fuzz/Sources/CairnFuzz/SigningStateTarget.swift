import CairnNode

/// A CometBFT `priv_validator_state.json`, read from a snapshot by `cairn
/// restore` of node data to refuse rolling the validator's signing state back.
enum SigningStateTarget {
    static let target = FuzzTarget(
        name: "signing-state", maxLength: 4096, summary: "SigningState.parse (priv_validator_state.json)",
        seeds: {
            [Array(#"{"height": "1234567", "round": 0, "step": 3, "signature": "abc", "signbytes": "00"}"#.utf8),
             Array(#"{"height":"0","round":0,"step":0}"#.utf8)]
        },
        run: { bytes in
            guard let state = try? SigningState.parse(bytes) else { return }
            require(state == state && !(state < state), "a signing state does not compare equal to itself")
        })
}
