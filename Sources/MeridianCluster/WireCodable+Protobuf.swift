import SwiftProtobuf

/// Protobuf messages travel as their serialized bytes: declare `extension MyMessage: WireCodable {}`.
extension WireCodable where Self: SwiftProtobuf.Message {
    public func encode(to writer: inout WireWriter) throws {
        let bytes: [UInt8] = try serializedBytes()
        writer.writeBytes(bytes)
    }

    public init(from reader: inout WireReader) throws {
        let bytes = try reader.readBytes()
        do {
            try self.init(serializedBytes: Array(bytes))
        } catch {
            throw WireDecodingError("\(Self.protoMessageName): \(error)")
        }
    }
}
