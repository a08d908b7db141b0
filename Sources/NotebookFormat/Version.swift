/// The one place medrepl's version is written down.
///
/// ```swift
/// print(MedreplVersion.string)   // "0.1.0"
/// ```
public enum MedreplVersion {
    /// Semantic version of medrepl; recorded in every notebook header it writes.
    public static let string = "0.1.0"
}
