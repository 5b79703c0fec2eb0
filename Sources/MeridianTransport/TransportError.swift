/// An error of the node-to-node transport. `code` says what happened; `message` says what to do.
public struct TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A frame's length prefix exceeded the configured maximum.
        case frameTooLarge
        /// Bytes that are not a valid envelope, or a message that is not allowed now.
        case protocolViolation
        /// The peer belongs to another cluster.
        case wrongCluster
        /// The peer speaks a protocol version this node does not.
        case unsupportedVersion
        /// The peer could not prove it knows the cluster secret (or we could not).
        case authenticationFailed
        /// The handshake did not complete in time.
        case handshakeTimeout
        /// Nothing was received for longer than the idle timeout.
        case idleTimeout
        /// Too many bytes are waiting to be written to this peer.
        case overloaded
        /// The peer could not be reached, or the connection closed before the message went out.
        case unreachable
        /// This transport is shutting down.
        case shutdown
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
