import Foundation

/// A value that can travel as a distributed-actor argument or result.
///
/// Meridian's compact binary encoding: varints for integers, length-prefixed bytes for strings
/// and buffers, no field names and no reflection, so encoding a call costs about as much as
/// copying its bytes. Conformances exist for the standard scalar and collection types;
/// protobuf messages conform with one line (`extension MyMessage: WireCodable {}`, see
/// ``ProtobufWireCodable``); domain types write their fields in order.
///
/// Compatibility: the encoding has no field tags, so changing a type's fields changes the
/// wire format. Types that must evolve across versions should be protobuf messages.
public protocol WireCodable: Sendable {
    func encode(to writer: inout WireWriter) throws
    init(from reader: inout WireReader) throws
}

/// A decode failure: the bytes do not match the type the receiver expects.
public struct WireDecodingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "cannot decode arguments: \(message); are both nodes running the same version?" }
}

/// Appends the compact binary encoding of values.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Zig-zag, so small negative numbers stay small.
    public mutating func writeSigned(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func writeFixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeBytes(_ value: some Collection<UInt8>) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func write<T: WireCodable>(_ value: T) throws {
        try value.encode(to: &self)
    }
}

/// Reads values written by ``WireWriter``. Every read is bounds-checked: hostile bytes
/// produce a ``WireDecodingError``, never a crash or an oversized allocation.
public struct WireReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset: Int
    /// The actor system decoding; lets actor references be resolved while decoding.
    public let system: ClusterSystem?

    public init(bytes: [UInt8], system: ClusterSystem? = nil) {
        self.bytes = bytes
        self.offset = 0
        self.system = system
    }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw WireDecodingError("varint longer than 10 bytes") }
        }
        throw WireDecodingError("truncated varint")
    }

    public mutating func readSigned() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    public mutating func readFixed64() throws -> UInt64 {
        guard bytes.count - offset >= 8 else { throw WireDecodingError("truncated fixed64") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        offset += 8
        return value
    }

    public mutating func readBytes() throws -> ArraySlice<UInt8> {
        let count = try readVarint()
        guard count <= UInt64(bytes.count - offset) else {
            throw WireDecodingError("length \(count) runs past the end of the message")
        }
        let slice = bytes[offset..<(offset + Int(count))]
        offset += Int(count)
        return slice
    }

    /// A collection count, checked against the bytes left so a hostile count cannot make us
    /// reserve memory for elements that are not there.
    public mutating func readCount() throws -> Int {
        let count = try readVarint()
        guard count <= UInt64(bytes.count - offset) else {
            throw WireDecodingError("count \(count) exceeds the bytes left")
        }
        return Int(count)
    }

    public mutating func read<T: WireCodable>(_ type: T.Type = T.self) throws -> T {
        try T(from: &self)
    }
}
