import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianMatchmaking
import MeridianStorage

/// A player's actor: runs only on the player's owner node in its home region and owns the
/// player's data there. Every other node and region reaches the player through it.
///
/// Created on first use by the node's activator for `/player/` (see ``RegionServices``) and
/// passivated when unused while idle (``readyToPassivate()``): a node keeps the players in
/// use, not every player that ever logged in there.
/// Every write carries the epoch this actor read from the store and the activation it claimed
/// there (``Activation``); the store refuses it inside the write's transaction when the player was
/// frozen or moved on (transfer fencing) or when another node activated the player since (a
/// failover in a region whose nodes share one store). An actor refused for its activation is
/// deposed: it writes no more and hands every call to the node serving the player now.
public distributed actor PlayerHome: PassivatableActor {
    public typealias ActorSystem = ClusterSystem

    let playerID: UUID
    let services: RegionServices
    private var epoch: Epoch?
    /// Claimed from the store before the first write (``claimActivation()``); nil until then.
    private var activation: Activation?
    /// The claim in flight: concurrent first writes share it (a second claim would depose the first).
    private var claiming: Task<ActivationClaim, any Error>?
    /// Set once a write was refused for an older activation: another node serves the player now.
    private var deposed = false
    /// The player's epoch when this actor claimed its activation.
    private var claimedAtEpoch: Epoch?
    /// What the player is doing now (online players only; not persisted — a restarted home
    /// node starts every player idle, and a match still running elsewhere delivers its result
    /// idempotently all the same).
    private(set) var session: PlayerSession = .idle {
        didSet {
            sessionVersion.number += 1
            services.sessionChanged(of: playerID, home: self, to: session)
            tellListener()
        }
    }
    /// Orders the pushes of ``session`` to the listener (``SessionVersion``).
    private var sessionVersion = SessionVersion(instance: UInt64.random(in: 1...UInt64.max), number: 0)
    /// Where the player's connection is served: told of every session change.
    private var listener: ClusterActorID?
    /// Invitations received and the party joined (online players only; going offline leaves).
    private var party = PartyMembership()
    /// Matches whose result this actor applied (the newest few): a late assignment to one of
    /// them (a retried call that crossed the result) must not seat the player in a match that
    /// is over.
    private var finishedMatches: [UUID] = []
    /// Set once this instance was passivated; calls about the session then go to the instance
    /// that serves the player now (``successor()``).
    private var retired = false

    init(playerID: UUID, services: RegionServices, actorSystem: ClusterSystem) {
        self.playerID = playerID
        self.services = services
        self.actorSystem = actorSystem
    }

    /// Registers the player in this (its home) region. Idempotent: an existing player is returned.
    public distributed func create(displayName: String) async throws -> PlayerView {
        if try await services.store.player(playerID) == nil {
            do {
                _ = try await services.store.createPlayer(NewPlayer(id: playerID, displayName: displayName, homeRegion: services.region))
            } catch {
                // Created concurrently is fine; anything else is the caller's error.
                if try await services.store.player(playerID) == nil { throw error }
            }
        }
        return try await view()
    }

    public distributed func view() async throws -> PlayerView {
        let profile = try await loadProfile()
        return PlayerView(profile: profile, balances: try await services.store.balances(of: playerID))
    }

    public distributed func grant(item: String, count: Int64, idempotencyKey: String) async throws -> LedgerReceiptView {
        try actorSystem.requireMemberCaller(for: "grant items")
        if let next = try successor() { return try await next.grant(item: item, count: count, idempotencyKey: idempotencyKey) }
        return try await append(.grant([ItemKind(item): count]), key: idempotencyKey, reason: "grant")
    }

    public distributed func consume(item: String, count: Int64, idempotencyKey: String) async throws -> LedgerReceiptView {
        if let next = try successor() { return try await next.consume(item: item, count: count, idempotencyKey: idempotencyKey) }
        return try await append(.consume([ItemKind(item): count]), key: idempotencyKey, reason: "consume")
    }

    /// Gives `items` to `receiver` (home region `receiverRegion`, possibly another one).
    ///
    /// The giver's leg (debit into escrow + an outbox row) commits here in one transaction;
    /// the node's ``TradeRelay`` then delivers the receiver's leg and retries until the
    /// receiver's region credits it or refuses it (then the giver is refunded). A crash at
    /// any point leaves the outbox row, so the trade completes after restart — never half.
    /// Idempotent by `tradeID`.
    public distributed func trade(tradeID: UUID, to receiver: UUID, receiverRegion: String, items: [String: Int64]) async throws -> LedgerReceiptView {
        if let next = try successor() {
            return try await next.trade(tradeID: tradeID, to: receiver, receiverRegion: receiverRegion, items: items)
        }
        let receipt = try await write { [playerID] epoch, activation in
            .tradeOut(TradeOutRequest(
                tradeID: tradeID,
                giver: playerID,
                giverEpoch: epoch,
                giverActivation: activation,
                receiver: receiver,
                destinationRegion: receiverRegion,
                items: ItemQuantities(items),
                reason: "trade"
            ))
        }
        services.faults.reached(.afterTradeOut)
        services.relay.nudge()
        return LedgerReceiptView(receipt)
    }

    // MARK: Session

    public distributed func currentSession() async throws -> PlayerSession {
        if let next = try successor() { return try await next.currentSession() }
        return session
    }

    /// Pushes every later change of the player's session to `listener` and returns the session
    /// now. A player has one connection: an earlier listener elsewhere is told it was replaced
    /// (its gateway closes that connection).
    public distributed func watchSession(listener: ClusterActorID) async throws -> WatchedSession {
        if let next = try successor() { return try await next.watchSession(listener: listener) }
        if let previous = self.listener, previous != listener {
            let (player, system) = (playerID, actorSystem)
            Task {
                // Best effort: a gateway that does not hear it keeps a connection that no longer gets session changes.
                try? await SessionListener.resolve(id: previous, using: system).sessionReplaced(player: player)
            }
        }
        self.listener = listener
        return WatchedSession(session: session, version: sessionVersion)
    }

    /// The player's connection at `listener` closed: stop telling it.
    public distributed func unwatchSession(listener: ClusterActorID) async throws {
        if let next = try successor() { return try await next.unwatchSession(listener: listener) }
        if self.listener == listener {
            self.listener = nil
            party.leave(everything: true)
        }
    }

    // MARK: Party

    /// `leader` invites this player into its party. Refused while the player is offline (no
    /// connection watches the session) or holds too many invitations; the player's connection
    /// is told (a PartyInvitation push).
    public distributed func invite(from leader: UUID, leaderName: String) async throws {
        if let next = try successor() { return try await next.invite(from: leader, leaderName: leaderName) }
        guard let listener, leader != playerID else {
            throw PlayerSessionError(.notInvitable, "the player cannot be invited now")
        }
        try party.invite(from: leader, leaderName: leaderName, now: actorSystem.clock.now)
        let (player, system) = (playerID, actorSystem)
        Task {
            // Best effort: an invitation the client never saw just expires.
            try? await SessionListener.resolve(id: listener, using: system).partyInvited(player: player, leader: leader, leaderName: leaderName)
        }
    }

    /// The player (from its own session) joins the party of `leader`, who invited it.
    public distributed func acceptInvitation(from leader: UUID) async throws {
        if let next = try successor() { return try await next.acceptInvitation(from: leader) }
        try party.accept(from: leader, now: actorSystem.clock.now)
    }

    /// The player leaves the party it joined.
    public distributed func leaveParty() async throws {
        if let next = try successor() { return try await next.leaveParty() }
        party.leave()
    }

    // MARK: Passivation

    /// Only an idle player nobody is watching: the session and its listener live only here. A
    /// deposed actor always (another node serves the player).
    public func readyToPassivate() -> Bool {
        if deposed { return true }
        guard case .idle = session else { return false }
        if let listener, actorSystem.mayBeAlive(listener) { return false }
        return true
    }

    public func passivated() {
        retired = true
    }

    /// The instance serving the player since this one was passivated or deposed (nil while this
    /// one serves). A caller that held on to this instance reaches the live session through it.
    ///
    /// A deposed instance on the node that serves the player by the cluster's view — another
    /// node took the player over while this one was out of its view, and has since gone or
    /// given way — leaves at once instead of waiting to go idle (it never would while callers
    /// keep finding it, and would refuse them all): what it holds in memory is stale, and a
    /// fresh instance, idle and claiming the player anew at its first write, serves from then on.
    private func successor() throws -> PlayerHome? {
        if retired { return try PlayerHome.resolve(id: id, using: actorSystem) }
        guard deposed else { return nil }
        guard let owner = actorSystem.playerOwner(of: playerID, region: services.region, topology: services.topology) else {
            throw ClusterError(.nodeUnreachable, "no node of region \(services.region) is up to serve player \(playerID); retry")
        }
        if owner == actorSystem.nodeID {
            actorSystem.retire(self)
            retired = true
            services.logger.notice("player served by this node again: a fresh instance takes over from the deposed one", metadata: ["meridian.player": "\(playerID)"])
            return try PlayerHome.resolve(id: id, using: actorSystem)
        }
        return try PlayerDirectory(system: actorSystem, topology: services.topology).home(of: playerID, region: services.region)
    }

    /// Pushes the session to the listener, retried until it lands or the listener is gone (its
    /// gateway follows the session by these pushes alone; the version orders them there).
    private func tellListener() {
        guard let listener else { return }
        let (player, system, session, version) = (playerID, actorSystem, session, sessionVersion)
        Task {
            let policy = RetryPolicy(limit: .seconds(30), initialPause: .milliseconds(50), maximumPause: .seconds(1))
            _ = try? await policy.run(retryIf: { error in
                guard let error = error as? ClusterError else { return true }
                switch error.code {
                case .nodeDown, .actorNotFound, .targetNotFound, .shutdown, .cancelled: return false
                default: return true
                }
            }) {
                try await SessionListener.resolve(id: listener, using: system).sessionChanged(player: player, session: session, version: version)
            }
        }
    }

    /// The matchmaker of `region` takes the player's ticket: the player becomes queued and the
    /// reply is the rating the matchmaker must use (from the player's data, never the client's).
    /// Idempotent for the same ticket (the queue is rebuilt from these after a failover).
    public distributed func beginQueue(ticket: QueueTicket, region: String) async throws -> SkillRating {
        if let next = try successor() { return try await next.beginQueue(ticket: ticket, region: region) }
        // A party's ticket is led by its first member; every other member must have joined that
        // leader's party from its own (live) session — a client never queues someone else at will.
        if let leader = ticket.members.first?.player, leader != playerID {
            guard listener != nil, party.consents(to: leader) else {
                throw PlayerSessionError(.noPartyConsent, "player \(playerID) has not joined the party of \(leader)")
            }
        }
        switch session {
        case .idle:
            session = .queued(ticket, region: region)
        case .queued(let current, _) where current.id == ticket.id:
            session = .queued(ticket, region: region)
        case .queued(let current, let queuedIn):
            throw PlayerSessionError(.alreadyQueued, "player \(playerID) is already queued in \(queuedIn) with ticket \(current.id); cancel it first")
        case .inMatch(let match):
            throw PlayerSessionError(.alreadyInMatch, "player \(playerID) is in match \(match.matchID) on \(match.node); finish or leave it first")
        }
        return try await loadProfile().skill
    }

    /// The ticket's matchmaker moved (its node was lost) and takes the ticket again: accepted
    /// only while the player still waits with this ticket — never from idle, so a ticket
    /// cancelled meanwhile is not brought back.
    public distributed func continueQueue(ticket: QueueTicket, region: String) async throws -> SkillRating {
        if let next = try successor() { return try await next.continueQueue(ticket: ticket, region: region) }
        guard case .queued(let current, _) = session, current.id == ticket.id else {
            throw PlayerSessionError(.notQueued, "player \(playerID) no longer waits with ticket \(ticket.id) (now: \(session.summary))")
        }
        session = .queued(ticket, region: region)
        return try await loadProfile().skill
    }

    /// The ticket left the queue without a match (cancelled or expired). Returns whether the player was queued with it.
    @discardableResult
    public distributed func endQueue(ticketID: UUID) async throws -> Bool {
        if let next = try successor() { return try await next.endQueue(ticketID: ticketID) }
        guard case .queued(let current, _) = session, current.id == ticketID else { return false }
        session = .idle
        return true
    }

    /// The ticket was matched: the player is seated in `match`. Refused when the player is no
    /// longer queued with this ticket (cancelled meanwhile) — the matchmaker then frees the seat.
    public distributed func matchAssigned(ticketID: UUID, match: MatchAssignment) async throws {
        if let next = try successor() { return try await next.matchAssigned(ticketID: ticketID, match: match) }
        if finishedMatches.contains(match.matchID) {
            if case .queued(let current, _) = session, current.id == ticketID { session = .idle }
            throw PlayerSessionError(.notQueued, "match \(match.matchID) is already over for player \(playerID)")
        }
        switch session {
        case .queued(let current, _) where current.id == ticketID:
            session = .inMatch(match)
            // Seated on a node already declared down: the game layer's pass on that membership
            // change may have looked before this seat was recorded, so end it here. (The seat is
            // recorded before this looks, and the pass looks after the change: one of them sees it.)
            if actorSystem.membership.isDeclaredDown(node: match.node, incarnation: match.incarnation) {
                _ = try? await endMatch(match.matchID, outcome: .serverLost)
            }
        case .inMatch(let current) where current.matchID == match.matchID:
            return
        default:
            throw PlayerSessionError(.notQueued, "player \(playerID) is not queued with ticket \(ticketID) (now: \(session.summary))")
        }
    }

    /// Applies the player's result of a match exactly once: history, XP, rating and rewards in
    /// one ledger transaction keyed by the match id. A repeat returns the original receipt with
    /// `replayed == true`. The player is idle afterwards if they were in that match.
    public distributed func applyMatchResult(_ result: MatchResultMessage) async throws -> LedgerReceiptView {
        if let next = try successor() { return try await next.applyMatchResult(result) }
        guard result.player == playerID else {
            throw StorageError(.invalidArgument, "result for player \(result.player) sent to player \(playerID)")
        }
        guard let outcome = MatchOutcome(rawValue: result.outcome) else {
            throw StorageError(.invalidArgument, "unknown match outcome \(result.outcome)")
        }
        let record = MatchRecord(
            matchID: result.matchID, player: playerID,
            finishedAt: Date(timeIntervalSince1970: result.finishedAt), outcome: outcome, xpAwarded: result.xp
        )
        let receipt: LedgerReceipt
        do {
            receipt = try await write { epoch, activation in
                .matchResult(MatchResultApplication(
                    record: record, epoch: epoch, activation: activation,
                    rewards: ItemQuantities(result.rewards), skillAfter: result.skillAfter
                ))
            }
        } catch {
            if let next = try successor() { return try await next.applyMatchResult(result) }
            // The player moved home meanwhile: the result follows them (idempotent there by the match id).
            if (error as? StorageError)?.code == .tombstoned, let moved = try await movedHome() {
                let forwarded = try await moved.applyMatchResult(result)
                matchFinished(result.matchID)
                return forwarded
            }
            throw error
        }
        matchFinished(result.matchID)
        return LedgerReceiptView(receipt)
    }

    private func matchFinished(_ matchID: UUID) {
        if case .inMatch(let match) = session, match.matchID == matchID { session = .idle }
        if !finishedMatches.contains(matchID) {
            finishedMatches.append(matchID)
            if finishedMatches.count > 16 { finishedMatches.removeFirst() }
        }
    }

    /// The node running the player's match is gone (that incarnation is down): the match ends
    /// for this player with a `server_lost` result (no reward; exactly once like any result),
    /// so nobody is left stuck and the player may queue again. Returns whether it applied.
    @discardableResult
    public distributed func serverLost(node: String, incarnation: UInt64) async throws -> Bool {
        if let next = try successor() { return try await next.serverLost(node: node, incarnation: incarnation) }
        guard case .inMatch(let match) = session, match.node == node, match.incarnation == incarnation else { return false }
        return try await endMatch(match.matchID, outcome: .serverLost)
    }

    /// The player's match no longer exists on its (live) node — it ended without this player's
    /// result reaching here: the match ends for this player as `abandoned` (no reward).
    @discardableResult
    public distributed func matchVanished(matchID: UUID) async throws -> Bool {
        if let next = try successor() { return try await next.matchVanished(matchID: matchID) }
        guard case .inMatch(let match) = session, match.matchID == matchID else { return false }
        return try await endMatch(matchID, outcome: .abandoned)
    }

    private func endMatch(_ matchID: UUID, outcome: MatchOutcome) async throws -> Bool {
        let result = MatchResultMessage(
            matchID: matchID, player: playerID, outcome: outcome.rawValue, placement: 0,
            xp: 0, rewards: [:], skillAfter: nil, finishedAt: Date()
        )
        do {
            _ = try await applyMatchResult(result)
        } catch let error as StorageError where error.code == .idempotencyConflict {
            // The match's own result was recorded after all (it is the one that counts).
        }
        matchFinished(matchID)
        return true
    }

    /// The player's actor in the region the directory names now, when the player moved away from
    /// this one (this store keeps a tombstone).
    private func movedHome() async throws -> PlayerHome? {
        guard let region = await services.movedAway(playerID) else { return nil }
        return try PlayerDirectory(system: actorSystem, topology: services.topology).home(of: playerID, region: region)
    }

    /// The player's most recent matches, newest first.
    public distributed func recentMatches(limit: Int) async throws -> [MatchHistoryEntry] {
        try await services.store.matchHistory(of: playerID, limit: min(max(limit, 1), 100)).map(MatchHistoryEntry.init)
    }

    private func append(_ operation: LedgerOperation, key: String, reason: String) async throws -> LedgerReceiptView {
        LedgerReceiptView(try await write { [playerID] epoch, activation in
            .append(LedgerAppend(player: playerID, epoch: epoch, activation: activation, idempotencyKey: key, operation: operation, reason: reason))
        })
    }

    /// Every write of this actor: `command` built on this actor's fence (``writeFence()``) and
    /// submitted to the node's ledger writer, learning from a fencing refusal:
    /// - a stale epoch is read again, and the write made once more;
    /// - a lost activation deposes this actor (``successor()`` then names the node serving
    ///   now) — unless the player came back to this node since this actor claimed it (a transfer
    ///   away and back: its epoch moved on, and the import activated it anew here). Then the
    ///   actor claims the player again and writes once more.
    /// Every write is idempotent (by its key, trade id or match id), so a repeat cannot apply twice.
    private func write(_ command: (Epoch, Activation) -> LedgerCommand) async throws -> LedgerReceipt {
        var attempt = 0
        while true {
            attempt += 1
            let (epoch, activation) = try await writeFence()
            do {
                return try await services.writer.submit(command(epoch, activation))
            } catch {
                switch error.code {
                case .staleEpoch:
                    self.epoch = nil
                    if attempt < 3 { continue }
                case .activationLost where !deposed:
                    if attempt < 3, try await cameBackSinceClaimed() {
                        self.activation = nil
                        self.epoch = nil
                        continue
                    }
                    deposed = true
                    services.activationLost(playerID)
                default:
                    break
                }
                throw error
            }
        }
    }

    /// Whether the player left this region and came back to this node since this actor claimed
    /// it: its epoch is not the one of the claim, and this node serves it.
    private func cameBackSinceClaimed() async throws -> Bool {
        guard let claimedAtEpoch,
              actorSystem.playerOwner(of: playerID, region: services.region, topology: services.topology) == actorSystem.nodeID
        else { return false }
        return try await loadProfile().epoch != claimedAtEpoch
    }

    /// The epoch and activation every write presents: the activation is claimed in the store before
    /// the first write (once, however many writes wait for it), the epoch read again after a refusal.
    private func writeFence() async throws -> (Epoch, Activation) {
        if deposed {
            // Deposed while the caller waited: its write must not be made here (it retries where the player is served).
            throw ClusterError(.nodeUnreachable, "player \(playerID) is served by another node now; retry")
        }
        let activation = try await claimActivation()
        if let epoch { return (epoch, activation) }
        return (try await loadProfile().epoch, activation)
    }

    private func claimActivation() async throws -> Activation {
        if let activation { return activation }
        let claim = claiming ?? Task { [services, playerID] in
            try await services.store.claimActivation(of: playerID, node: services.node)
        }
        claiming = claim
        defer { claiming = nil }
        let claimed = try await claim.value
        if activation == nil {
            activation = claimed.activation
            epoch = claimed.profile.epoch
            claimedAtEpoch = claimed.profile.epoch
        }
        return activation ?? claimed.activation
    }

    private func loadProfile() async throws -> PlayerProfile {
        guard let profile = try await services.store.player(playerID) else {
            throw StorageError(.playerNotFound, "player \(playerID) does not exist in region \(services.region)")
        }
        epoch = profile.epoch
        return profile
    }
}
