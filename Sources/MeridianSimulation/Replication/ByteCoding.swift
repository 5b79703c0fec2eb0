/// Appends LEB128 varints and fixed-width fields to a byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            self.bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        self.bytes.append(UInt8(v))
    }

    /// Signed values zig-zag encoded so small magnitudes stay one byte.
    mutating func signed(_ value: Int64) {
        self.varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func byte(_ value: UInt8) { self.bytes.append(value) }
}

/// Reads what ``ByteWriter`` wrote; every read checks bounds.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func byte() throws(SnapshotDecodingError) -> UInt8 {
        guard self.offset < self.bytes.count else { throw SnapshotDecodingError(reason: "truncated at byte \(self.offset)") }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    mutating func varint() throws(SnapshotDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try self.byte()
            guard shift < 64 else { throw SnapshotDecodingError(reason: "varint too long at byte \(self.offset)") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    mutating func signed() throws(SnapshotDecodingError) -> Int64 {
        let v = try self.varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    var isAtEnd: Bool { self.offset == self.bytes.count }
}

/// A snapshot packet that could not be decoded or applied.
public struct SnapshotDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, for logs (never contains the payload).
    public var reason: String
    public var description: String { "snapshot decoding failed: \(self.reason); the client should wait for the next full snapshot" }
}
