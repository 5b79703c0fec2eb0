import Foundation
import MeridianCluster
import PropertyBased
import Testing

/// The compact binary argument encoding (``WireCodable``) on generated values.
@Suite("Compact binary encoding properties")
struct WireCodablePropertyTests {
    static func roundTrip<T: WireCodable & Equatable>(_ value: T) throws -> (T, atEnd: Bool) {
        var writer = WireWriter()
        try writer.write(value)
        var reader = WireReader(bytes: writer.bytes)
        let decoded: T = try reader.read()
        return (decoded, reader.isAtEnd)
    }

    @Test("integers of every width and sign come back as they went")
    func integers() async {
        await propertyCheck(count: 300, input: Gen.int64(in: .min ... .max), Gen.uint64(in: 0...UInt64.max), Gen.int32(in: .min ... .max), Gen.uint8(in: 0...255)) { a, b, c, d in
            let value = [WireCodableTests.Sample(id: UUID(), name: "", scores: [Int(a)], weights: [:], note: nil, flag: false, big: b, small: c)]
            let (decoded, atEnd) = try Self.roundTrip(value)
            #expect(decoded == value && atEnd)
            let (byte, byteAtEnd) = try Self.roundTrip(d)
            #expect(byte == d && byteAtEnd)
        }
    }

    @Test("strings, collections and optionals come back as they went")
    func structures() async {
        await propertyCheck(input: Gen.latin1.string(of: 0...30).array(of: 0...5), Gen.double(in: -1e9...1e9).array(of: 0...5), Gen.bool) { names, weights, flag in
            let sample = WireCodableTests.Sample(
                id: UUID(), name: names.joined(separator: "✓"), scores: weights.map { Int($0) },
                weights: Dictionary(zip(names, weights), uniquingKeysWith: max), note: flag ? names.first : nil,
                flag: flag, big: UInt64(names.count), small: Int32(weights.count)
            )
            let (decoded, atEnd) = try Self.roundTrip(sample)
            #expect(decoded == sample && atEnd)
        }
    }

    /// What the arbitrary-bytes property decodes: no floating point (NaN is not equal to
    /// itself) and no dictionary (its order is not the encoding's).
    struct Plain: WireCodable, Equatable {
        var names: [String?]
        var numbers: [Int32]
        var id: UUID?
        var flag: Bool

        init(from reader: inout WireReader) throws {
            (names, numbers, id, flag) = (try reader.read(), try reader.read(), try reader.read(), try reader.read())
        }

        func encode(to writer: inout WireWriter) throws {
            try writer.write(names); try writer.write(numbers); try writer.write(id); try writer.write(flag)
        }
    }

    @Test("arbitrary bytes are a WireDecodingError or a value that comes back through its own encoding")
    func arbitraryBytes() async {
        await propertyCheck(count: 1000, input: Gen.uint8(in: 0...3).array(of: 0...64)) { bytes in
            var reader = WireReader(bytes: bytes)
            let value: Plain
            do {
                value = try reader.read()
            } catch {
                #expect(error is WireDecodingError, "\(error)")
                return
            }
            let (again, atEnd) = try Self.roundTrip(value)
            #expect(again == value && atEnd)
        }
    }
}
