/// Why a remote call failed. `code` is what a program switches on; `message` tells the
/// operator what happened and what to do.
public struct ClusterError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No reply before the call's deadline. The call may or may not have run.
        case timeout
        /// The actor's node is down, left, or restarted as a new incarnation.
        case nodeDown
        /// The node could not be reached (no address, connection failed or closed mid-call).
        case nodeUnreachable
        /// The node is up but has no actor at that path.
        case actorNotFound
        /// The remote node does not know the called function (a different build?).
        case targetNotFound
        /// The remote function threw; see ``remoteType`` and ``message``.
        case remoteError
        /// The arguments or the result could not be encoded or decoded.
        case serialization
        /// Too much is waiting to be sent to that node; retry later.
        case overloaded
        /// The caller's task was cancelled.
        case cancelled
        /// The actor system is shutting down.
        case shutdown
        /// The caller may not call this function: it is for the cluster's own nodes (an
        /// operator acts through the admin commands, with an admin token).
        case forbidden
    }

    public var code: Code
    public var message: String
    /// For ``Code/remoteError``: the Swift type of the error the remote function threw.
    public var remoteType: String?

    public init(_ code: Code, _ message: String, remoteType: String? = nil) {
        self.code = code
        self.message = message
        self.remoteType = remoteType
    }

    /// Whether the call was refused as ``Code/forbidden``, here or by the remote function.
    public var isForbidden: Bool {
        code == .forbidden || (code == .remoteError && (remoteType ?? "").hasSuffix("ClusterError") && message.hasPrefix("\(Code.forbidden.rawValue):"))
    }

    public static func remoteError(type: String, message: String) -> ClusterError {
        ClusterError(.remoteError, message, remoteType: type)
    }

    public var description: String {
        if let remoteType { return "\(code.rawValue) (\(remoteType)): \(message)" }
        return "\(code.rawValue): \(message)"
    }
}
