import SwiftProtobuf

/// Protobuf messages travel as their serialized bytes: declare `extension MyMessage: WireCodable {}`.
extension WireCodable where Self: SwiftProtobuf.Message {
    public func encode(to writer: inout WireWriter) throws {
        try writer.writeMessage(self)
    }

    public init(from reader: inout WireReader) throws {
        self = try reader.readMessage()
    }
}

// A domain type that must stay readable across versions travels as a protobuf message:
// `encode` writes `try writer.writeMessage(proto)`, `init(from:)` reads `reader.readMessage()`.
extension WireWriter {
    /// Writes `message` as its length-prefixed protobuf bytes.
    public mutating func writeMessage(_ message: some SwiftProtobuf.Message) throws {
        let bytes: [UInt8] = try message.serializedBytes()
        writeBytes(bytes)
    }
}

extension WireReader {
    /// Reads a message written by ``WireWriter/writeMessage(_:)``.
    public mutating func readMessage<Message: SwiftProtobuf.Message>(_ type: Message.Type = Message.self) throws -> Message {
        let bytes = try readBytes()
        do {
            return try Message(serializedBytes: Array(bytes))
        } catch {
            throw WireDecodingError("\(Message.protoMessageName): \(error)")
        }
    }
}
