/// Carries a non-Sendable value into a closure that runs elsewhere when the
/// caller guarantees exclusive use: it awaits the closure before touching the
/// value again (the archiver's `ChunkReader`, read a batch at a time).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
