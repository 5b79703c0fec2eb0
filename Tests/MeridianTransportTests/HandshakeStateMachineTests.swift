import Foundation
import MeridianTransport
import MeridianWire
import Testing

/// The three-message handshake as a pure state machine: no channel, no clock.
@Suite("Handshake state machine")
struct HandshakeStateMachineTests {
    typealias Machine = HandshakeStateMachine

    private static let dialerInfo = Fixtures.local("eu-west-1", region: "eu-west", address: "10.0.0.1:7401", topologyVersion: 3)
    private static let acceptorInfo = Fixtures.local("us-east-1", region: "us-east", address: "10.0.0.2:7401", topologyVersion: 4)

    /// A fresh acceptor waiting for a hello.
    private func makeAcceptor(_ info: LocalHandshakeInfo = HandshakeStateMachineTests.acceptorInfo) -> Machine {
        var machine = Machine(local: info)
        machine.startAccepting()
        return machine
    }

    @Test("dialer and acceptor with the same secret complete, and each learns who the other is")
    func happyPath() throws {
        var dialer = Machine(local: Self.dialerInfo)
        var acceptor = makeAcceptor()
        let hello = dialer.startDialing()
        #expect(!dialer.isComplete && !acceptor.isComplete)

        let ack = try #require(acceptor.receive(hello).sent)
        #expect(!acceptor.isComplete)

        let (proof, dialerView) = try #require(dialer.receive(ack).sentAndCompleted)
        #expect(dialer.isComplete)
        #expect(dialerView.peer == Self.acceptorInfo.identity)
        #expect(dialerView.peerTopologyVersion == 4)
        #expect(dialerView.dialed)

        let acceptorView = try #require(acceptor.receive(proof).completed)
        #expect(acceptor.isComplete)
        #expect(acceptorView.peer == Self.dialerInfo.identity)
        #expect(acceptorView.peerTopologyVersion == 3)
        #expect(!acceptorView.dialed)
    }

    @Test("on a TLS link the peer is the node its certificate names: the acceptor and the dialer refuse any other, and a certificate naming none")
    func certifiedNode() throws {
        // The acceptor checks the hello's node against the dialer's certificate.
        for certified in ["eu-west-2", nil] as [String?] {
            var dialer = Machine(local: Self.dialerInfo)
            var acceptor = makeAcceptor()
            let rejection = acceptor.receive(dialer.startDialing(), certification: .tls(certifiedNode: certified)).rejection
            #expect(rejection?.reason == .authenticationFailed)
            #expect(rejection?.error.code == .authenticationFailed)
            #expect(!acceptor.isComplete)
        }
        // The dialer checks the ack's node against the acceptor's certificate.
        var dialer = Machine(local: Self.dialerInfo)
        var acceptor = makeAcceptor()
        let ack = try #require(acceptor.receive(dialer.startDialing(), certification: .tls(certifiedNode: "eu-west-1")).sent)
        let rejection = dialer.receive(ack, certification: .tls(certifiedNode: "us-east-2")).rejection
        #expect(rejection?.reason == .authenticationFailed)
        #expect(!dialer.isComplete)
        // Matching certificates on both sides complete.
        var honestDialer = Machine(local: Self.dialerInfo)
        var honestAcceptor = makeAcceptor()
        let honestAck = try #require(honestAcceptor.receive(honestDialer.startDialing(), certification: .tls(certifiedNode: "eu-west-1")).sent)
        let (proof, _) = try #require(honestDialer.receive(honestAck, certification: .tls(certifiedNode: "us-east-1")).sentAndCompleted)
        #expect(honestAcceptor.receive(proof, certification: .tls(certifiedNode: "eu-west-1")).completed != nil)
    }

    @Test("a hello from another cluster is rejected with wrongCluster")
    func wrongCluster() {
        var dialer = Machine(local: Fixtures.local("eu-west-1", cluster: "some-other-cluster"))
        var acceptor = makeAcceptor()
        let rejection = acceptor.receive(dialer.startDialing()).rejection
        #expect(rejection?.reason == .wrongCluster)
        #expect(rejection?.error.code == .wrongCluster)
        #expect(!acceptor.isComplete)
    }

    @Test("a different protocol version is rejected with unsupportedVersion, by the acceptor and by the dialer")
    func unsupportedVersion() throws {
        // The acceptor sees the dialer's version in the hello.
        var newer = Self.dialerInfo
        newer.protocolVersion = clusterProtocolVersion + 1
        var dialer = Machine(local: newer)
        var acceptor = makeAcceptor()
        let rejection = acceptor.receive(dialer.startDialing()).rejection
        #expect(rejection?.reason == .unsupportedVersion)
        #expect(rejection?.error.code == .unsupportedVersion)

        // The dialer checks the version in the ack.
        var current = Machine(local: Self.dialerInfo)
        var older = makeAcceptor()
        var ack = try #require(older.receive(current.startDialing()).sent)
        ack.helloAck.protocolVersion = clusterProtocolVersion + 1
        let dialerRejection = current.receive(ack).rejection
        #expect(dialerRejection?.reason == .unsupportedVersion)
        #expect(dialerRejection?.error.code == .unsupportedVersion)
        #expect(!current.isComplete)
    }

    @Test("an acceptor that does not know the secret is caught by the dialer")
    func acceptorWithWrongSecret() throws {
        var dialer = Machine(local: Self.dialerInfo)
        var impostor = makeAcceptor(Fixtures.local("us-east-1", region: "us-east", address: "10.0.0.2:7401", secret: Fixtures.otherSecret))
        let ack = try #require(impostor.receive(dialer.startDialing()).sent)
        let rejection = dialer.receive(ack).rejection
        #expect(rejection?.reason == .authenticationFailed)
        #expect(rejection?.error.code == .authenticationFailed)
        #expect(!dialer.isComplete)
    }

    @Test("a dialer that does not know the secret is caught by the acceptor")
    func dialerWithWrongSecret() throws {
        // An honest dialer with the wrong secret gives up at the ack (it cannot verify it) ...
        let wrongInfo = Fixtures.local("eu-west-1", region: "eu-west", address: "10.0.0.1:7401", secret: Fixtures.otherSecret)
        var honest = Machine(local: wrongInfo)
        var acceptor = makeAcceptor()
        let firstAck = try #require(acceptor.receive(honest.startDialing()).sent)
        #expect(honest.receive(firstAck).rejection?.error.code == .authenticationFailed)

        // ... so play a dialer that presses on: it gets an ack it can verify from an accomplice
        // that shares its wrong secret and answers with the acceptor's identity and nonce, then
        // sends the real acceptor the proof computed with the wrong secret.
        let nonce = Machine.makeNonce()
        var dialer = Machine(local: wrongInfo)
        var real = makeAcceptor()
        var accomplice = makeAcceptor(Fixtures.local("us-east-1", region: "us-east", address: "10.0.0.2:7401", secret: Fixtures.otherSecret, topologyVersion: 4))
        let hello = dialer.startDialing()
        _ = try #require(real.receive(hello, nonce: nonce).sent)
        let forgedAck = try #require(accomplice.receive(hello, nonce: nonce).sent)
        let (forgedProof, _) = try #require(dialer.receive(forgedAck).sentAndCompleted)

        let rejection = real.receive(forgedProof).rejection
        #expect(rejection?.reason == .authenticationFailed)
        #expect(rejection?.error.code == .authenticationFailed)
        #expect(!real.isComplete)
    }

    @Test("a HelloProof replayed from another session fails, because the acceptor's nonce differs")
    func replayedProof() throws {
        // Session 1, recorded by an eavesdropper.
        var dialer = Machine(local: Self.dialerInfo)
        var first = makeAcceptor()
        let hello = dialer.startDialing()
        let ack = try #require(first.receive(hello).sent)
        let (proof, _) = try #require(dialer.receive(ack).sentAndCompleted)
        #expect(first.receive(proof).completed != nil)

        // Session 2: the eavesdropper replays the hello and the proof.
        var second = makeAcceptor()
        _ = try #require(second.receive(hello).sent)
        let rejection = second.receive(proof).rejection
        #expect(rejection?.reason == .authenticationFailed)
        #expect(!second.isComplete)

        // Control: had the acceptor reused its nonce, the same proof would have passed.
        var reusedNonce = makeAcceptor()
        _ = try #require(reusedNonce.receive(hello, nonce: Array(ack.helloAck.nonce)).sent)
        #expect(reusedNonce.receive(proof).completed != nil)
    }

    @Test("a proof is not accepted in place of the acceptor's MAC (roles are bound into the transcript)")
    func reflectedMac() throws {
        var dialer = Machine(local: Self.dialerInfo)
        var acceptor = makeAcceptor()
        let hello = dialer.startDialing()
        var ack = try #require(acceptor.receive(hello).sent)
        // Reflect the acceptor's own MAC back as the dialer's proof.
        var reflected = Envelope()
        reflected.helloProof.mac = ack.helloAck.mac
        #expect(acceptor.receive(reflected).rejection?.error.code == .authenticationFailed)

        // And a tampered ack (another identity) no longer verifies at the dialer.
        ack.helloAck.from.node = "someone-else"
        #expect(dialer.receive(ack).rejection?.error.code == .authenticationFailed)
    }

    @Test("a Call before the handshake is a protocolViolation, on both sides")
    func callBeforeHandshake() {
        var acceptor = makeAcceptor()
        let rejection = acceptor.receive(Fixtures.call(1)).rejection
        #expect(rejection?.reason == .protocolViolation)
        #expect(rejection?.error.code == .protocolViolation)

        var dialer = Machine(local: Self.dialerInfo)
        _ = dialer.startDialing()
        #expect(dialer.receive(Fixtures.call(1)).rejection?.error.code == .protocolViolation)

        // Nor may the dialer skip the ack and send its proof straight away.
        var skipped = makeAcceptor()
        var proof = Envelope()
        proof.helloProof.mac = Data(repeating: 0, count: 32)
        #expect(skipped.receive(proof).rejection?.error.code == .protocolViolation)
    }

    @Test("a malformed hello (short nonce, no node id) is a protocolViolation")
    func malformedHello() {
        var dialer = Machine(local: Self.dialerInfo)
        var hello = dialer.startDialing()
        hello.hello.nonce = Data(repeating: 1, count: 8)
        #expect(makeAcceptor().receiveOnce(hello).rejection?.error.code == .protocolViolation)

        var anonymous = dialer.startDialing()
        anonymous.hello.from.node = ""
        #expect(makeAcceptor().receiveOnce(anonymous).rejection?.error.code == .protocolViolation)
    }

    @Test("a Reject from the peer ends the handshake with the peer's reason")
    func peerReject() {
        var dialer = Machine(local: Self.dialerInfo)
        _ = dialer.startDialing()
        var reject = Envelope()
        reject.reject.reason = .wrongCluster
        reject.reject.message = "wrong cluster"
        let rejection = dialer.receive(reject).rejection
        #expect(rejection?.reason == .wrongCluster)
        #expect(rejection?.error.code == .wrongCluster)
        // Failed is final: a well-formed ack afterwards does not revive it.
        var acceptor = makeAcceptor()
        var other = Machine(local: Self.dialerInfo)
        if let ack = acceptor.receive(other.startDialing()).sent {
            #expect(dialer.receive(ack).rejection != nil)
        }
        #expect(!dialer.isComplete)
    }
}

extension HandshakeStateMachine {
    /// Receives on a copy, for one-shot checks.
    fileprivate func receiveOnce(_ envelope: Envelope) -> Action {
        var copy = self
        return copy.receive(envelope)
    }
}

extension HandshakeStateMachine.Action {
    var sent: Envelope? {
        if case .send(let envelope) = self { return envelope }
        return nil
    }

    var completed: HandshakeCompleted? {
        if case .complete(let completed) = self { return completed }
        return nil
    }

    var sentAndCompleted: (Envelope, HandshakeCompleted)? {
        if case .sendAndComplete(let envelope, let completed) = self { return (envelope, completed) }
        return nil
    }

    var rejection: (reason: Meridian_Cluster_V1_Reject.Reason, error: TransportError)? {
        if case .reject(let reason, let error) = self { return (reason, error) }
        return nil
    }
}
