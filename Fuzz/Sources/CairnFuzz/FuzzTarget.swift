/// One libFuzzer target: a parser of bytes that come from the store, a stream
/// or a server, driven with arbitrary bytes. The parser may throw (that is its
/// job); it must never crash, hang or allocate without bound, and where the
/// format has one encoding per value, what it accepts must re-encode to the
/// same bytes.
struct FuzzTarget: Sendable {
    /// The name `scripts/fuzz.sh` and `CAIRN_FUZZ_TARGET` use.
    let name: String
    /// libFuzzer's `-max_len` for this target.
    let maxLength: Int
    /// What the target feeds and to which parser.
    let summary: String
    /// libFuzzer flags of its own. Targets that run Swift concurrency or Foundation keep
    /// caches alive across inputs, which makes libFuzzer scan for leaks after every input
    /// (fifty times the input's own cost): they turn leak detection off.
    var flags: [String] = []
    /// Seeds made with Cairn's own encoders, next to the generated corpus
    /// (`Fuzz/make_seeds.py`): inputs the fuzzer could hardly find alone
    /// (zstd frames, sealed headers).
    var seeds: @Sendable () -> [[UInt8]] = { [] }
    /// Runs one input.
    let run: @Sendable ([UInt8]) -> Void

    /// Every target, in the order `--list` and `all` use.
    static let all: [FuzzTarget] = [
        PackTarget.target, IndexDeltaTarget.target, TreeTarget.target, ContentListTarget.target,
        SnapshotTarget.target, KeyFileTarget.target, KeyReplacementTarget.target, ForgetRecordTarget.target, ConfigTarget.target,
        SnapshotCatalogueTarget.target, ForgetRecordSetTarget.target,
        LockTarget.target,
        EnvelopeTarget.target, BlobTarget.target,
        RDBTarget.target, RESPTarget.target, TarTarget.target, PlanTarget.target,
        BackupLabelTarget.target, WALHeaderTarget.target, TimelineHistoryTarget.target, S3Target.target,
        SigningStateTarget.target, OpsRecordsTarget.target, RetentionTarget.target,
    ]
}

/// Fails the run (libFuzzer records the input) when an invariant does not hold.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz invariant: \(message())", file: file, line: line) }
}
