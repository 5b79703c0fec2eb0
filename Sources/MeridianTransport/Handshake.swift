import Crypto
import Foundation
import MeridianWire

/// The version of the node-to-node protocol. Bump it for any change an older node cannot
/// read; the handshake refuses a peer with a different version.
public let clusterProtocolVersion: UInt32 = 2

/// What this node says about itself in a handshake.
public struct LocalHandshakeInfo: Sendable {
    public var cluster: String
    public var identity: PeerIdentity
    public var topologyVersion: UInt64
    public var secret: ClusterSecret
    public var protocolVersion: UInt32 = clusterProtocolVersion

    public init(cluster: String, identity: PeerIdentity, topologyVersion: UInt64, secret: ClusterSecret) {
        self.cluster = cluster
        self.identity = identity
        self.topologyVersion = topologyVersion
        self.secret = secret
    }
}

/// What a link's TLS says about the peer, for the handshake.
package enum PeerCertification: Equatable {
    /// A plaintext link: the peer proves only that it knows the cluster secret.
    case none
    /// A mutual-TLS link: the node id the peer's verified certificate names (nil: it names none).
    case tls(certifiedNode: String?)
}

/// The outcome of a completed handshake, fired as a user inbound event from the pipeline head.
public struct HandshakeCompleted: Sendable {
    public var peer: PeerIdentity
    public var peerTopologyVersion: UInt64
    /// True when this side dialed the connection.
    public var dialed: Bool

    package init(peer: PeerIdentity, peerTopologyVersion: UInt64, dialed: Bool) {
        self.peer = peer
        self.peerTopologyVersion = peerTopologyVersion
        self.dialed = dialed
    }
}

/// The three-message handshake as a pure state machine.
///
/// ```
/// dialer                      acceptor
///   Hello(cluster, version, identity, nonceD) ->
///                           <- HelloAck(identity, nonceA, mac_acceptor)
///   HelloProof(mac_dialer)  ->
/// ```
/// Each MAC is HMAC-SHA256 keyed by the cluster secret over a canonical transcript of both
/// hellos and a role label, so neither side can replay the other's proof, and the nonces
/// make an old transcript useless on a new connection.
package struct HandshakeStateMachine {
    package enum Action {
        case send(Envelope)
        case complete(HandshakeCompleted)
        case sendAndComplete(Envelope, HandshakeCompleted)
        case reject(Meridian_Cluster_V1_Reject.Reason, TransportError)
    }

    private enum State {
        case idle
        case dialerAwaitingAck(hello: Meridian_Cluster_V1_Hello)
        case acceptorAwaitingHello
        case acceptorAwaitingProof(hello: Meridian_Cluster_V1_Hello, ack: Meridian_Cluster_V1_HelloAck)
        case completed
        case failed
    }

    private let local: LocalHandshakeInfo
    private var state: State = .idle

    package init(local: LocalHandshakeInfo) {
        self.local = local
    }

    package var isComplete: Bool {
        if case .completed = state { return true }
        return false
    }

    /// The dialer's first message.
    package mutating func startDialing(nonce: [UInt8] = Self.makeNonce()) -> Envelope {
        var hello = Meridian_Cluster_V1_Hello()
        hello.cluster = local.cluster
        hello.protocolVersion = local.protocolVersion
        hello.from = local.identity.proto
        hello.topologyVersion = local.topologyVersion
        hello.nonce = Data(nonce)
        state = .dialerAwaitingAck(hello: hello)
        var envelope = Envelope()
        envelope.hello = hello
        return envelope
    }

    package mutating func startAccepting() {
        state = .acceptorAwaitingHello
    }

    /// - Parameter certification: What the link's TLS says about the peer (see ``PeerCertification``).
    package mutating func receive(_ envelope: Envelope, nonce: [UInt8] = Self.makeNonce(), certification: PeerCertification = .none) -> Action {
        switch (state, envelope.kind) {
        case (.acceptorAwaitingHello, .hello(let hello)):
            if let refusal = refuse(claimed: hello.from.node, certification) { return refusal }
            return acceptHello(hello, nonce: nonce)
        case (.dialerAwaitingAck(let hello), .helloAck(let ack)):
            if let refusal = refuse(claimed: ack.from.node, certification) { return refusal }
            return acceptAck(ack, hello: hello)
        case (.acceptorAwaitingProof(let hello, let ack), .helloProof(let proof)):
            let transcript = Self.transcript(role: "dialer", hello: hello, ack: ack)
            guard HMAC<SHA256>.isValidAuthenticationCode(proof.mac, authenticating: transcript, using: local.secret.key) else {
                return fail(.authenticationFailed, TransportError(.authenticationFailed, "peer \(PeerIdentity(proto: hello.from)) does not know the cluster secret; check MERIDIAN_CLUSTER_SECRET on both nodes"))
            }
            state = .completed
            return .complete(HandshakeCompleted(peer: PeerIdentity(proto: hello.from), peerTopologyVersion: hello.topologyVersion, dialed: false))
        case (_, .reject(let reject)):
            state = .failed
            return .reject(reject.reason, TransportError(Self.code(for: reject.reason), "peer refused the connection: \(reject.message)"))
        default:
            return fail(.protocolViolation, TransportError(.protocolViolation, "unexpected message during the handshake"))
        }
    }

    private mutating func acceptHello(_ hello: Meridian_Cluster_V1_Hello, nonce: [UInt8]) -> Action {
        guard hello.cluster == local.cluster else {
            return fail(.wrongCluster, TransportError(.wrongCluster, "peer belongs to cluster '\(hello.cluster)', this node to '\(local.cluster)'"))
        }
        guard hello.protocolVersion == local.protocolVersion else {
            return fail(.unsupportedVersion, TransportError(.unsupportedVersion, "peer speaks protocol version \(hello.protocolVersion), this node \(local.protocolVersion); upgrade the older node"))
        }
        guard hello.nonce.count == 32, !hello.from.node.isEmpty else {
            return fail(.protocolViolation, TransportError(.protocolViolation, "malformed hello"))
        }
        var ack = Meridian_Cluster_V1_HelloAck()
        ack.protocolVersion = local.protocolVersion
        ack.from = local.identity.proto
        ack.topologyVersion = local.topologyVersion
        ack.nonce = Data(nonce)
        ack.mac = Data(HMAC<SHA256>.authenticationCode(for: Self.transcript(role: "acceptor", hello: hello, ack: ack), using: local.secret.key))
        state = .acceptorAwaitingProof(hello: hello, ack: ack)
        var envelope = Envelope()
        envelope.helloAck = ack
        return .send(envelope)
    }

    private mutating func acceptAck(_ ack: Meridian_Cluster_V1_HelloAck, hello: Meridian_Cluster_V1_Hello) -> Action {
        guard ack.protocolVersion == local.protocolVersion else {
            return fail(.unsupportedVersion, TransportError(.unsupportedVersion, "peer speaks protocol version \(ack.protocolVersion), this node \(local.protocolVersion)"))
        }
        guard ack.nonce.count == 32,
              HMAC<SHA256>.isValidAuthenticationCode(ack.mac, authenticating: Self.transcript(role: "acceptor", hello: hello, ack: ack), using: local.secret.key)
        else {
            return fail(.authenticationFailed, TransportError(.authenticationFailed, "peer at the other end does not know the cluster secret"))
        }
        var proof = Meridian_Cluster_V1_HelloProof()
        proof.mac = Data(HMAC<SHA256>.authenticationCode(for: Self.transcript(role: "dialer", hello: hello, ack: ack), using: local.secret.key))
        var envelope = Envelope()
        envelope.helloProof = proof
        state = .completed
        return .sendAndComplete(envelope, HandshakeCompleted(peer: PeerIdentity(proto: ack.from), peerTopologyVersion: ack.topologyVersion, dialed: true))
    }

    /// On a TLS link the peer is who its certificate says, or nobody.
    private mutating func refuse(claimed node: String, _ certification: PeerCertification) -> Action? {
        guard case .tls(let certified) = certification, certified != node else { return nil }
        guard let certified else {
            return fail(.authenticationFailed, TransportError(.authenticationFailed, "peer claiming to be node '\(node)' has a certificate that names no node (a subject alternative name \(ClusterTLS.nodeURI("<id>")))"))
        }
        return fail(.authenticationFailed, TransportError(.authenticationFailed, "peer claims to be node '\(node)' but its certificate is node '\(certified)'s"))
    }

    private mutating func fail(_ reason: Meridian_Cluster_V1_Reject.Reason, _ error: TransportError) -> Action {
        state = .failed
        return .reject(reason, error)
    }

    package static func makeNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Canonical bytes: each field length-prefixed, so no two different transcripts collide.
    static func transcript(role: String, hello: Meridian_Cluster_V1_Hello, ack: Meridian_Cluster_V1_HelloAck) -> Data {
        var data = Data()
        func field(_ bytes: some Sequence<UInt8>) {
            let array = Array(bytes)
            withUnsafeBytes(of: UInt32(array.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: array)
        }
        func number(_ value: UInt64) {
            withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) }
        }
        func identity(_ id: Meridian_Cluster_V1_NodeIdentity) {
            field(id.node.utf8); number(id.incarnation); field(id.region.utf8); field(id.address.utf8)
        }
        field("meridian-handshake-v1/\(role)".utf8)
        field(hello.cluster.utf8)
        number(UInt64(hello.protocolVersion))
        identity(hello.from)
        number(hello.topologyVersion)
        field(hello.nonce)
        number(UInt64(ack.protocolVersion))
        identity(ack.from)
        number(ack.topologyVersion)
        field(ack.nonce)
        return data
    }

    static func code(for reason: Meridian_Cluster_V1_Reject.Reason) -> TransportError.Code {
        switch reason {
        case .wrongCluster: .wrongCluster
        case .unsupportedVersion: .unsupportedVersion
        case .authenticationFailed: .authenticationFailed
        case .frameTooLarge: .frameTooLarge
        case .shuttingDown: .shutdown
        default: .protocolViolation
        }
    }
}
