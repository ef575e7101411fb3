/// An object read whole with a bound on its size (`ObjectStore.readWhole`).
public enum BoundedRead: Sendable, Equatable {
    /// Every byte of the object.
    case bytes([UInt8])
    /// Larger than the limit, refused unread (or read only up to the limit): its size
    /// when the store stated it, nil when only that it exceeds the limit is known.
    case tooLarge(UInt64?)
    /// Its size changed between the store's answer about it and the read (replaced meanwhile).
    case changed
}
