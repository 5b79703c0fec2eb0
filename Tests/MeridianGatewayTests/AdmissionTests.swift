import Foundation
import Testing
@testable import MeridianGateway

/// The gateway's per-address limits as a pure state machine, on a clock that only moves when told.
@Suite("Gateway admission (pure)")
struct AdmissionTests {
    typealias Instant = ContinuousClock.Instant
    static let start = ContinuousClock.now
    static func at(_ seconds: Double) -> Instant { start.advanced(by: .milliseconds(Int64(seconds * 1000))) }

    static func admission(total: Int = 10, perSource: Int = 2, logins: Int = 3, registrations: Int = 2) -> Admission<Instant> {
        Admission(limits: .init(
            maximumConnections: total, maximumConnectionsPerSource: perSource,
            loginsPerSourcePerMinute: logins, registrationsPerSourcePerMinute: registrations
        ))
    }

    @Test func connectionsAreCappedPerSourceAndInTotalAndSlotsComeBack() {
        var admission = Self.admission(total: 3, perSource: 2)
        #expect(admission.admit("10.0.0.1") == nil)
        #expect(admission.admit("10.0.0.1") == nil)
        #expect(admission.admit("10.0.0.1")?.code == .rateLimited, "a third from one address")
        #expect(admission.admit("10.0.0.2") == nil)
        #expect(admission.admit("10.0.0.3")?.code == .rateLimited, "the gateway is full")
        #expect(admission.connections == 3)
        admission.release("10.0.0.1")
        #expect(admission.connections(from: "10.0.0.1") == 1)
        #expect(admission.admit("10.0.0.3") == nil, "a released slot is free again")
        admission.release("never-admitted")
        #expect(admission.connections == 3, "releasing an unknown address changes nothing")
    }

    @Test func loginsRefillAtTheirRatePerMinute() {
        var admission = Self.admission(logins: 3)
        for _ in 0..<3 { #expect(admission.login(from: "a", now: Self.at(0)) == nil) }
        #expect(admission.login(from: "a", now: Self.at(0))?.code == .rateLimited)
        #expect(admission.login(from: "b", now: Self.at(0)) == nil, "another address has its own budget")
        #expect(admission.login(from: "a", now: Self.at(10))?.code == .rateLimited, "10 s refill half a login")
        #expect(admission.login(from: "a", now: Self.at(20)) == nil, "20 s refill one login (3 a minute)")
        #expect(admission.login(from: "a", now: Self.at(20))?.code == .rateLimited)
    }

    @Test func registrationsAreCountedOnceAccountsExist() {
        var admission = Self.admission(registrations: 2)
        #expect(admission.mayRegister(from: "a", now: Self.at(0)) == nil)
        admission.registered(from: "a", now: Self.at(0))
        admission.registered(from: "a", now: Self.at(0))
        #expect(admission.mayRegister(from: "a", now: Self.at(1))?.code == .rateLimited)
        admission.registered(from: "a", now: Self.at(1))  // a login that raced past the check: counted, floor at 0
        #expect(admission.mayRegister(from: "a", now: Self.at(29))?.code == .rateLimited)
        #expect(admission.mayRegister(from: "a", now: Self.at(31)) == nil, "30 s refill one registration (2 a minute)")
    }

    @Test func aFloodOfAddressesDoesNotGrowMemoryWithoutBound() {
        var admission = Admission<Instant>(
            limits: .init(maximumConnections: 10, maximumConnectionsPerSource: 2, loginsPerSourcePerMinute: 5, registrationsPerSourcePerMinute: 5),
            maximumSources: 100
        )
        for index in 0..<1_000 { _ = admission.login(from: "10.0.\(index / 250).\(index % 250)", now: Self.at(Double(index) / 10)) }
        #expect(admission.rememberedSources <= 100)
    }
}
