/// Keys renamed by ``YAMLComposer`` to get past Yams' duplicate-key refusal.
package struct DuplicateKeys {
    private static let prefix = "__meridian_duplicate_"

    private struct Rename {
        var original: String
        /// Position in the text as it was when this rename was made.
        var location: SourceLocation
        var length: Int
    }

    private var renames: [Rename] = []

    package init() {}

    package var count: Int { renames.count }

    /// The text inserted before the next renamed key; unlikely to be written by hand.
    package var nextPlaceholder: String { "\(Self.prefix)\(renames.count)__" }

    package mutating func record(original: String, at location: SourceLocation) {
        renames.append(Rename(original: original, location: location, length: nextPlaceholder.unicodeScalars.count))
    }

    /// For a key produced by a rename: the original spelling and where it was written in the user's file.
    package func original(of key: String) -> (name: String, location: SourceLocation)? {
        guard key.hasPrefix(Self.prefix) else { return nil }
        let digits = key.dropFirst(Self.prefix.count).prefix { $0.isASCII && $0.isNumber }
        guard let index = Int(digits), renames.indices.contains(index) else { return nil }
        return (renames[index].original, unwind(renames[index].location, through: index))
    }

    /// Maps a position in the composed (renamed) text back to the user's file: a placeholder shifts
    /// everything after it on its line.
    package func userLocation(_ location: SourceLocation) -> SourceLocation {
        unwind(location, through: renames.count)
    }

    private func unwind(_ location: SourceLocation, through end: Int) -> SourceLocation {
        var location = location
        for rename in renames[..<end].reversed()
        where rename.location.line == location.line && location.column > rename.location.column {
            location.column -= rename.length
        }
        return location
    }
}
