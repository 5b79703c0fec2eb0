import Foundation
import MeridianCluster
import MeridianMatchmaking
import MeridianWire
import SwiftProtobuf

// The region's call arguments and results travel as `meridian.region.v1` messages
// (Protos/region.proto): regions run different versions during a rolling upgrade.

extension SkillRating {
    package var proto: Meridian_Region_V1_Skill {
        .with {
            $0.rating = rating
            $0.deviation = deviation
            $0.volatility = volatility
        }
    }

    package init(proto: Meridian_Region_V1_Skill) {
        self.init(rating: proto.rating, deviation: proto.deviation, volatility: proto.volatility)
    }
}

// The conformance lives here: the matchmaking module is pure and knows nothing of the cluster.
extension SkillRating: ProtobufRepresented {}

extension PlayerView: ProtobufRepresented {
    package var proto: Meridian_Region_V1_PlayerView {
        .with {
            $0.id = id.wire
            $0.displayName = displayName
            $0.homeRegion = homeRegion
            $0.epoch = epoch
            $0.state = state
            $0.xp = xp
            $0.level = level
            $0.ledgerSequence = ledgerSequence
            $0.balances = balances
            $0.skill = skill.proto
        }
    }

    package init(proto: Meridian_Region_V1_PlayerView) throws {
        id = try UUID(wire: proto.id, "player id")
        displayName = proto.displayName
        homeRegion = proto.homeRegion
        epoch = proto.epoch
        state = proto.state
        xp = proto.xp
        level = proto.level
        ledgerSequence = proto.ledgerSequence
        balances = proto.balances
        skill = SkillRating(proto: proto.skill)
    }
}

extension LedgerReceiptView: ProtobufRepresented {
    package var proto: Meridian_Region_V1_LedgerReceipt {
        .with {
            $0.sequence = sequence
            $0.kind = kind
            $0.balancesAfter = balancesAfter
            $0.replayed = replayed
        }
    }

    package init(proto: Meridian_Region_V1_LedgerReceipt) throws {
        sequence = proto.sequence
        kind = proto.kind
        balancesAfter = proto.balancesAfter
        replayed = proto.replayed
    }
}

extension TradeDeliveryMessage: ProtobufRepresented {
    package var proto: Meridian_Region_V1_TradeDelivery {
        .with {
            $0.tradeID = tradeID.wire
            $0.giver = giver.wire
            $0.receiver = receiver.wire
            $0.items = items
        }
    }

    package init(proto: Meridian_Region_V1_TradeDelivery) throws {
        tradeID = try UUID(wire: proto.tradeID, "trade id")
        giver = try UUID(wire: proto.giver, "giver")
        receiver = try UUID(wire: proto.receiver, "receiver")
        items = proto.items
    }
}

extension DeliveryOutcome: ProtobufRepresented {
    package var proto: Meridian_Region_V1_DeliveryOutcome {
        .with {
            $0.accepted = accepted
            $0.reason = reason
        }
    }

    package init(proto: Meridian_Region_V1_DeliveryOutcome) throws {
        self.init(accepted: proto.accepted, reason: proto.reason)
    }
}

extension MatchAssignment: ProtobufRepresented {
    package var proto: Meridian_Region_V1_MatchAssignment {
        .with {
            $0.matchID = matchID.wire
            $0.region = region
            $0.shard = Int64(shard)
            $0.node = node
            $0.incarnation = incarnation
        }
    }

    package init(proto: Meridian_Region_V1_MatchAssignment) throws {
        self.init(
            matchID: try UUID(wire: proto.matchID, "match id"), region: proto.region, shard: Int(clamping: proto.shard),
            node: proto.node, incarnation: proto.incarnation
        )
    }
}

extension QueueTicket: ProtobufRepresented {
    package var proto: Meridian_Region_V1_QueueTicket {
        .with {
            $0.id = id.wire
            $0.members = members.map { member in
                .with {
                    $0.player = member.player.wire
                    $0.homeRegion = member.homeRegion
                }
            }
            $0.rttMs = rttMilliseconds.mapValues(Int64.init)
            $0.visitedRegions = visitedRegions
            $0.queuedAt = queuedAt
        }
    }

    package init(proto: Meridian_Region_V1_QueueTicket) throws {
        id = try UUID(wire: proto.id, "ticket id")
        members = try proto.members.map { Member(player: try UUID(wire: $0.player, "party member"), homeRegion: $0.homeRegion) }
        rttMilliseconds = proto.rttMs.mapValues { Int(clamping: $0) }
        visitedRegions = proto.visitedRegions
        queuedAt = proto.queuedAt
    }
}

extension PlayerSession: ProtobufRepresented {
    package var proto: Meridian_Region_V1_Session {
        .with {
            switch self {
            case .idle:
                $0.idle = .init()
            case .queued(let ticket, let region):
                $0.queued = .with {
                    $0.ticket = ticket.proto
                    $0.region = region
                }
            case .inMatch(let assignment):
                $0.inMatch = assignment.proto
            }
        }
    }

    package init(proto: Meridian_Region_V1_Session) throws {
        switch proto.state {
        case .idle:
            self = .idle
        case .queued(let queued):
            self = .queued(try QueueTicket(proto: queued.ticket), region: queued.region)
        case .inMatch(let assignment):
            self = .inMatch(try MatchAssignment(proto: assignment))
        case nil:
            throw WireDecodingError("a player session without a state (a newer node's kind of session?)")
        }
    }
}

extension MatchResultMessage: ProtobufRepresented {
    package var proto: Meridian_Region_V1_MatchResult {
        .with {
            $0.matchID = matchID.wire
            $0.player = player.wire
            $0.outcome = outcome
            $0.placement = Int64(placement)
            $0.xp = xp
            $0.rewards = rewards
            if let skillAfter { $0.skillAfter = skillAfter.proto }
            $0.finishedAt = finishedAt
        }
    }

    package init(proto: Meridian_Region_V1_MatchResult) throws {
        matchID = try UUID(wire: proto.matchID, "match id")
        player = try UUID(wire: proto.player, "player")
        outcome = proto.outcome
        placement = Int(clamping: proto.placement)
        xp = proto.xp
        rewards = proto.rewards
        skillAfter = proto.hasSkillAfter ? SkillRating(proto: proto.skillAfter) : nil
        finishedAt = proto.finishedAt
    }
}

extension MatchHistoryEntry: ProtobufRepresented {
    package var proto: Meridian_Region_V1_MatchHistoryEntry {
        .with {
            $0.matchID = matchID.wire
            $0.outcome = outcome
            $0.xp = xp
            $0.finishedAt = finishedAt
        }
    }

    package init(proto: Meridian_Region_V1_MatchHistoryEntry) throws {
        matchID = try UUID(wire: proto.matchID, "match id")
        outcome = proto.outcome
        xp = proto.xp
        finishedAt = proto.finishedAt
    }
}

extension SessionVersion: ProtobufRepresented {
    package var proto: Meridian_Region_V1_SessionVersion {
        .with {
            $0.instance = instance
            $0.number = number
        }
    }

    package init(proto: Meridian_Region_V1_SessionVersion) {
        self.init(instance: proto.instance, number: proto.number)
    }
}

extension WatchedSession: ProtobufRepresented {
    package var proto: Meridian_Region_V1_WatchedSession {
        .with {
            $0.session = session.proto
            $0.version = version.proto
        }
    }

    package init(proto: Meridian_Region_V1_WatchedSession) throws {
        self.init(session: try PlayerSession(proto: proto.session), version: SessionVersion(proto: proto.version))
    }
}
