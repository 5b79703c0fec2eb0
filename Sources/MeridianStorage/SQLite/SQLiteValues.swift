import Foundation
import NIOCore
import SQLiteNIO

/// Conversions between the domain types and SQLite values: UUIDs as lowercase text, times as integer
/// microseconds since 1970, quantities as 64-bit integers.
enum SQLiteValue {
    static func uuid(_ id: UUID) -> SQLiteData { .text(id.lowercasedString) }
    static func optionalUUID(_ id: UUID?) -> SQLiteData { id.map(uuid) ?? .null }
    static func int(_ value: Int64) -> SQLiteData { .integer(SQLiteInt64(value)) }
    static func text(_ value: String) -> SQLiteData { .text(value) }
    static func date(_ date: Date) -> SQLiteData { .integer(SQLiteInt64(micros(date))) }

    static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// `?, ?, …` with `count` placeholders.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// `(?, ?), (?, ?), …`: `rows` tuples of `columns` placeholders.
    static func tuples(rows: Int, columns: Int) -> String {
        let tuple = "(" + placeholders(columns) + ")"
        return Array(repeating: tuple, count: rows).joined(separator: ", ")
    }
}

extension SQLiteRow {
    private func value(_ column: String) throws(StorageError) -> SQLiteData {
        guard let data = self.column(column) else { throw .corrupt("SQLite result has no column \(column)") }
        return data
    }

    func uuid(_ column: String) throws(StorageError) -> UUID {
        guard case .text(let text) = try value(column), let id = UUID(uuidString: text) else {
            throw .corrupt("column \(column) does not hold a UUID")
        }
        return id
    }

    func optionalUUID(_ column: String) throws(StorageError) -> UUID? {
        if case .null = try value(column) { return nil }
        return try uuid(column)
    }

    func int64(_ column: String) throws(StorageError) -> Int64 {
        guard case .integer(let value) = try value(column) else { throw .corrupt("column \(column) does not hold an integer") }
        return Int64(value)
    }

    func double(_ column: String) throws(StorageError) -> Double {
        switch try value(column) {
        case .float(let value): return value
        case .integer(let value): return Double(value)
        default: throw .corrupt("column \(column) does not hold a number")
        }
    }

    func string(_ column: String) throws(StorageError) -> String {
        guard case .text(let text) = try value(column) else { throw .corrupt("column \(column) does not hold text") }
        return text
    }

    func optionalString(_ column: String) throws(StorageError) -> String? {
        if case .null = try value(column) { return nil }
        return try string(column)
    }

    func date(_ column: String) throws(StorageError) -> Date {
        Date(timeIntervalSince1970: Double(try int64(column)) / 1_000_000)
    }

    func optionalDate(_ column: String) throws(StorageError) -> Date? {
        if case .null = try value(column) { return nil }
        return try date(column)
    }

    func blob(_ column: String) throws(StorageError) -> ByteBuffer {
        switch try value(column) {
        case .blob(let buffer): return buffer
        default: throw .corrupt("column \(column) does not hold a blob")
        }
    }

    func enumValue<T: RawRepresentable>(_ column: String, as type: T.Type) throws(StorageError) -> T where T.RawValue == String {
        let raw = try string(column)
        guard let value = T(rawValue: raw) else { throw .corrupt("column \(column) holds unknown value \"\(raw)\"") }
        return value
    }
}
