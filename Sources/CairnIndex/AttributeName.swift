/// A (key, name) of `snapshot_attributes`: what `attribute_counts` counts.
struct AttributeName: Hashable {
    let key: String
    let name: String
}
