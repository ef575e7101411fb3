/// The version this build reports.
public enum CairnVersion {
    public static let string = "0.1.0"
}
