/// A TCP endpoint written as `host:port` in topology files (`127.0.0.1:7401`, `[::1]:7401`).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address, without the brackets an IPv6 literal is written with.
    public var host: String
    /// TCP port, 1...65535 in a valid topology.
    public var port: Int

    /// Creates an endpoint without checking it; ``Topology/validate(file:)`` checks a whole topology.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 hosts in brackets: `[::1]:7401`); `nil` when malformed or the port is not 1...65535.
    public init?(parsing text: String) {
        guard case .success(let parsed) = Self.parse(text) else { return nil }
        self = parsed
    }

    /// `host:port`, with brackets around an IPv6 host so the text parses back to the same value.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The reason an address was refused, worded for an operator reading a topology error.
    enum ParseFailure: Error, Equatable {
        case malformed(String)
        case badPort(String)

        var reason: String {
            switch self {
            case .malformed(let reason), .badPort(let reason): reason
            }
        }
    }

    /// Like ``init(parsing:)`` but says what is wrong, so the loader can report it.
    static func parse(_ text: String) -> Result<HostPort, ParseFailure> {
        let expected = "expected host:port such as 127.0.0.1:7401"
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"),
                  text[text.index(after: close)...].hasPrefix(":")
            else { return .failure(.malformed("'\(text)' is not a valid address; \(expected) or [::1]:7401")) }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(.malformed("'\(text)' has no port; \(expected)"))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(.malformed("'\(text)' looks like an IPv6 address; write it in brackets, e.g. [::1]:7401"))
            }
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "[" || $0 == "]" }) else {
            return .failure(.malformed("'\(text)' has no valid host; \(expected)"))
        }
        // Only ASCII digits: Int("+80") and non-ASCII digits would otherwise slip through.
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText)
        else { return .failure(.badPort("'\(text)' has a bad port '\(portText)'; ports are 1...65535")) }
        guard (1...65_535).contains(port) else {
            return .failure(.badPort("'\(text)' has a bad port \(port); ports are 1...65535"))
        }
        return .success(HostPort(host: String(host), port: port))
    }
}
