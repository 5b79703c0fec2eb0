import Foundation
import MeridianCluster
import Testing

@Suite("Compact binary argument encoding")
struct WireCodableTests {
    struct Sample: WireCodable, Equatable {
        var id: UUID
        var name: String
        var scores: [Int]
        var weights: [String: Double]
        var note: String?
        var flag: Bool
        var big: UInt64
        var small: Int32

        func encode(to writer: inout WireWriter) throws {
            try writer.write(id); try writer.write(name); try writer.write(scores); try writer.write(weights)
            try writer.write(note); try writer.write(flag); try writer.write(big); try writer.write(small)
        }

        init(id: UUID, name: String, scores: [Int], weights: [String: Double], note: String?, flag: Bool, big: UInt64, small: Int32) {
            (self.id, self.name, self.scores, self.weights, self.note, self.flag, self.big, self.small) = (id, name, scores, weights, note, flag, big, small)
        }

        init(from reader: inout WireReader) throws {
            self.init(
                id: try reader.read(), name: try reader.read(), scores: try reader.read(), weights: try reader.read(),
                note: try reader.read(), flag: try reader.read(), big: try reader.read(), small: try reader.read()
            )
        }
    }

    static let sample = Sample(
        id: UUID(), name: "ünïcode ✓", scores: [0, -1, 1, .min, .max], weights: ["a": 0.5, "b": -2],
        note: nil, flag: true, big: .max, small: .min
    )

    static func encoded() throws -> [UInt8] {
        var writer = WireWriter()
        try writer.write(sample)
        return writer.bytes
    }

    @Test func valuesRoundTrip() throws {
        var reader = WireReader(bytes: try Self.encoded())
        #expect(try reader.read(Sample.self) == Self.sample)
        #expect(reader.isAtEnd)
    }

    @Test func everyTruncationIsAnErrorNotACrash() throws {
        let bytes = try Self.encoded()
        for length in 0..<bytes.count {
            var reader = WireReader(bytes: Array(bytes.prefix(length)))
            #expect(throws: WireDecodingError.self) { try reader.read(Sample.self) }
        }
    }

    @Test func hostileCountsAndLengthsAreRefusedBeforeAllocating() {
        // A count of 2^62 elements with nothing behind it.
        var count = WireWriter()
        count.writeVarint(1 << 62)
        var reader = WireReader(bytes: count.bytes)
        #expect(throws: WireDecodingError.self) { try reader.read([Int].self) }
        // A string claiming 1 GiB.
        var length = WireWriter()
        length.writeVarint(1 << 30)
        var stringReader = WireReader(bytes: length.bytes + [0x41])
        #expect(throws: WireDecodingError.self) { try stringReader.read(String.self) }
        // An 11-byte varint.
        var varintReader = WireReader(bytes: Array(repeating: 0xFF, count: 11))
        #expect(throws: WireDecodingError.self) { try varintReader.read(UInt64.self) }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var reader = WireReader(bytes: bytes)
            _ = try? reader.read(Sample.self)
        }
    }

    @Test func invalidUTF8AndOutOfRangeIntegersAreErrors() {
        var reader = WireReader(bytes: [2, 0xC3, 0x28])
        #expect(throws: WireDecodingError.self) { try reader.read(String.self) }
        var writer = WireWriter()
        writer.writeSigned(Int64(Int32.max) + 1)
        var intReader = WireReader(bytes: writer.bytes)
        #expect(throws: WireDecodingError.self) { try intReader.read(Int32.self) }
    }
}
