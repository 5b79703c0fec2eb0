/// Finds YAML aliases (`*name`) in the text before it is composed.
///
/// Meridian's configuration files (topologies, catalogs) have no use for aliases, and an alias used as a
/// mapping key makes Yams hash the whole aliased tree; nested anchors grow that exponentially (a 30-line
/// file can take hours). So aliases are refused up front. The scan follows just enough YAML to skip
/// quoted text and comments.
package enum AliasScanner {
    package static func aliases(in text: String) -> [SourceLocation] {
        let scalars = Array(text.unicodeScalars)
        var found: [SourceLocation] = []
        var line = 1, column = 1
        var index = 0
        var nodeStart = true
        var afterSpace = true

        func isBlank(_ i: Int) -> Bool {
            i >= scalars.count || [" ", "\t", "\n", "\r"].contains(scalars[i])
        }
        func advance() {
            if scalars[index] == "\n" || (scalars[index] == "\r" && (index + 1 >= scalars.count || scalars[index + 1] != "\n")) {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += 1
        }

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\n", "\r":
                nodeStart = true
                afterSpace = true
                advance()
                continue
            case " ", "\t":
                afterSpace = true
                advance()
                continue
            case "#" where afterSpace:
                while index < scalars.count, scalars[index] != "\n", scalars[index] != "\r" { advance() }
                continue
            case "*" where nodeStart:
                found.append(SourceLocation(line: line, column: column))
                nodeStart = false
            case "\"" where nodeStart, "'" where nodeStart:
                advance()
                while index < scalars.count {
                    if scalar == "\"", scalars[index] == "\\", index + 1 < scalars.count {
                        advance()
                    } else if scalars[index] == scalar {
                        // '' inside single quotes is an escaped quote, not the end.
                        guard scalar == "'", index + 1 < scalars.count, scalars[index + 1] == "'" else { break }
                        advance()
                    }
                    advance()
                }
                nodeStart = false
            case "&" where nodeStart, "!" where nodeStart:
                // An anchor or tag comes before its node; the node still starts after it.
                while !isBlank(index) { advance() }
                afterSpace = false
                continue
            case "[", "{", ",":
                nodeStart = true
            case "-", ":", "?":
                // Indicators only when followed by a blank: `eu-west` and `127.0.0.1:7401` are plain text.
                nodeStart = isBlank(index + 1)
            default:
                nodeStart = false
            }
            afterSpace = false
            if index < scalars.count { advance() }
        }
        return found
    }
}
