import Foundation

extension UUID {
    /// The UUID's 16 bytes as two big-endian halves: comparing them orders UUIDs as PostgreSQL does
    /// (byte-wise), without formatting strings (`uuidString` goes through `snprintf`).
    var orderKey: (UInt64, UInt64) {
        withUnsafeBytes(of: uuid) { bytes in
            (UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    static func byteOrder(_ lhs: UUID, _ rhs: UUID) -> Bool { lhs.orderKey < rhs.orderKey }
}

extension UUID {
    /// The canonical lowercase text form (`8-4-4-4-12` hex digits), formatted without `snprintf`:
    /// SQLite stores UUIDs as this text and binds one per row.
    var lowercasedString: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { buffer in
                digits.withUTF8Buffer { hex in
                    var out = 0
                    for (index, byte) in bytes.enumerated() {
                        if index == 4 || index == 6 || index == 8 || index == 10 {
                            buffer[out] = UInt8(ascii: "-")
                            out += 1
                        }
                        buffer[out] = hex[Int(byte >> 4)]
                        buffer[out + 1] = hex[Int(byte & 0x0F)]
                        out += 2
                    }
                    return out
                }
            }
        }
    }
}
