/// A typed game setting: `max_party_size: 4`, `xp_multiplier: 1.5`, `pvp_enabled: true`, `motd: "…"`.
public enum ConfigValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case string(String)

    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): String(value)
        case .string(let value): value
        }
    }
}

/// Game settings by key. The typed getters return `nil` for a missing key or another type, so a
/// caller keeps its own default: `config.int("max_party_size") ?? 4`.
public struct GameConfig: Sendable, Hashable {
    public var values: [String: ConfigValue]

    public init(_ values: [String: ConfigValue] = [:]) {
        self.values = values
    }

    public subscript(key: String) -> ConfigValue? { values[key] }

    public func int(_ key: String) -> Int64? {
        if case .int(let value)? = values[key] { return value }
        return nil
    }

    /// A `double` setting; a whole number written without a decimal point (`2`) is read as `2.0`.
    public func double(_ key: String) -> Double? {
        switch values[key] {
        case .double(let value)?: value
        case .int(let value)?: Double(value)
        default: nil
        }
    }

    public func bool(_ key: String) -> Bool? {
        if case .bool(let value)? = values[key] { return value }
        return nil
    }

    public func string(_ key: String) -> String? {
        if case .string(let value)? = values[key] { return value }
        return nil
    }
}
