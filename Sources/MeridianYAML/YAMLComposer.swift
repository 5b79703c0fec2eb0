import Yams

/// Turns YAML text into a `Yams.Node` tree without giving up at the first duplicate key.
///
/// Yams refuses a whole document when one mapping repeats a key, which would hide every other problem
/// in the file. So on each such refusal the first spelling of the key is renamed in the text (prefixed
/// with a placeholder) and the text is composed again; ``DuplicateKeys`` remembers the renames, and the
/// decoder reports each repeat at its own line.
package enum YAMLComposer {
    /// Bounds the compose-rename loop; a file with more repeated keys than this is reported as it stands.
    package static let maximumRenames = 64

    /// Composes `text`; `nil` (with an issue recorded) when it is not valid YAML or is empty.
    /// `document` names the kind of file in messages, e.g. "topology file".
    package static func compose<Issue: YAMLIssue>(
        _ text: String, document: String, issues: inout IssueCollector<Issue>
    ) -> (root: Yams.Node, duplicates: DuplicateKeys)? {
        let aliases = AliasScanner.aliases(in: text)
        guard aliases.isEmpty else {
            for location in aliases {
                issues.add(.syntax, at: location, "YAML aliases (*name) are not supported in \(document)s; write the value out")
            }
            return nil
        }
        var text = text
        var duplicates = DuplicateKeys()
        while true {
            let error: any Error
            do {
                guard let root = try Yams.compose(yaml: text) else {
                    issues.add(.missingField, at: SourceLocation(line: 1, column: 1), "the \(document) is empty")
                    return nil
                }
                return (root, duplicates)
            } catch let caught {
                error = caught
            }
            guard case .duplicatedKeysInMapping(let keys, let context) = error as? YamlError else {
                let (location, message) = describe(error, in: text, document: document)
                issues.add(.syntax, at: location, message)
                return nil
            }
            let key = keys.first ?? "?"
            let location = SourceLocation(context.mark)
            guard duplicates.count < maximumRenames,
                  let renamed = insert(duplicates.nextPlaceholder, at: location, in: text)
            else {
                issues.add(.duplicateKey, at: location, "key '\(key)' is repeated in this mapping")
                return nil
            }
            duplicates.record(original: key, at: location)
            text = renamed
        }
    }

    /// Inserts `prefix` before the unicode scalar at `location`, counting lines and columns as libyaml does.
    package static func insert(_ prefix: String, at location: SourceLocation, in text: String) -> String? {
        guard location.line >= 1, location.column >= 1 else { return nil }
        let scalars = Array(text.unicodeScalars)
        var line = 1
        var index = 0
        // libyaml breaks lines at \n, \r, \r\n, NEL, LS and PS.
        while line < location.line, index < scalars.count {
            switch scalars[index] {
            case "\r":
                if index + 1 < scalars.count, scalars[index + 1] == "\n" { index += 1 }
                line += 1
            case "\n", "\u{85}", "\u{2028}", "\u{2029}":
                line += 1
            default:
                break
            }
            index += 1
        }
        let target = index + location.column - 1
        guard line == location.line, target <= scalars.count else { return nil }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[..<target])
        result.append(contentsOf: prefix.unicodeScalars)
        result.append(contentsOf: scalars[target...])
        return String(result)
    }

    /// Position and wording for a Yams error.
    package static func describe(_ error: any Error, in text: String, document: String) -> (SourceLocation, String) {
        guard let yamlError = error as? YamlError else {
            return (.none, "cannot read YAML: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line))"
            }
            return (SourceLocation(mark), message)
        case .reader(let problem, let offset, _, _):
            return (location(ofCharacterOffset: offset, in: text), "invalid YAML: \(problem)")
        case .dataCouldNotBeDecoded:
            return (.none, "the \(document) is not UTF-8 text")
        default:
            return (.none, "cannot read YAML: \(yamlError)")
        }
    }

    private static func location(ofCharacterOffset offset: Int?, in text: String) -> SourceLocation {
        guard let offset, offset >= 0 else { return .none }
        var location = SourceLocation(line: 1, column: 1)
        for character in text.prefix(offset) {
            if character.isNewline {
                location.line += 1
                location.column = 1
            } else {
                location.column += 1
            }
        }
        return location
    }
}
