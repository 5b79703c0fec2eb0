import Foundation
import Testing
@testable import MeridianStorage

/// The identity authority's storage (``AccountStore``) on both backends: accounts and their login
/// methods, the directory and its versions, refresh token rotation with reuse detection, and the
/// signing key set. Times are whole seconds, which both backends store exactly.
@Suite struct AccountStoreTests {
    // MARK: Accounts

    @Test(arguments: TestBackend.enabled)
    func createdAccountsReadBackByIdAndMethod(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            #expect(try await accounts.directoryVersion() == 0)
            let new = newAccount("alice", at: at(0))
            let alice = try await accounts.createAccount(new)
            #expect(alice == AccountRecord(
                id: new.id, displayName: "alice", state: .active, homeRegion: "eu-west", epoch: .initial, createdAt: at(0), directoryVersion: 1
            ))
            #expect(try await accounts.directoryVersion() == 1)
            #expect(try await accounts.account(new.id) == alice)
            #expect(try await accounts.account(PlayerID()) == nil)

            let found = try #require(try await accounts.account(method: new.method.key))
            #expect(found.account == alice)
            #expect(found.method == new.method)
            #expect(found.method.secret == "scrypt$alice")
            #expect(try await accounts.account(method: LoginMethodKey(kind: .password, subject: "nobody")) == nil)
            // Kinds are separate namespaces.
            #expect(try await accounts.account(method: LoginMethodKey(kind: .device, subject: "alice")) == nil)
            #expect(try await accounts.loginMethods(of: new.id) == [new.method])

            // A method without a secret (platform, dev) stores nil.
            let platform = LoginMethodRecord(key: LoginMethodKey(kind: .platform, subject: "steam|7656"), secret: nil, linkedAt: at(5))
            let bob = try await accounts.createAccount(NewAccount(displayName: "Bøb 🎮", homeRegion: "us-east", createdAt: at(5), method: platform))
            #expect(bob.directoryVersion == 2 && bob.displayName == "Bøb 🎮" && bob.homeRegion == "us-east")
            #expect(try await accounts.account(method: platform.key)?.method.secret == nil)
            #expect(try await accounts.account(method: platform.key)?.account == bob)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aTakenUsernameOrIdIsRefusedAndNothingIsWritten(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))

            // Same username, new id: refused, the new id has no account, the clock did not move.
            let copycat = newAccount("alice", name: "impostor")
            let code1 = await storageError { try await accounts.createAccount(copycat) }?.code
            #expect(code1 == .alreadyExists)
            #expect(try await accounts.account(copycat.id) == nil)
            #expect(try await accounts.account(method: copycat.method.key)?.account == alice)
            #expect(try await accounts.directoryVersion() == 1)

            // Same id, new username: refused, the username stays free.
            var sameID = newAccount("alice2")
            sameID.id = alice.id
            let code2 = await storageError { try await accounts.createAccount(sameID) }?.code
            #expect(code2 == .alreadyExists)
            #expect(try await accounts.account(method: sameID.method.key) == nil)
            #expect(try await accounts.account(alice.id) == alice)
            #expect(try await accounts.loginMethods(of: alice.id).map(\.key.subject) == ["alice"])
            #expect(try await accounts.directoryVersion() == 1)

            // The refusals gave their versions back: the next account takes version 2.
            #expect(try await accounts.createAccount(newAccount("carol")).directoryVersion == 2)
            #expect(try await accounts.directoryChanges(after: 0, limit: 10).map(\.displayName) == ["alice", "carol"])
        }
    }

    @Test(arguments: TestBackend.enabled)
    func malformedRequestsAreRefusedWithoutEchoingSecrets(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let longSubject = String(repeating: "s", count: LoginMethodKey.maximumSubjectBytes + 1)
            let refused: [(String, NewAccount)] = [
                ("empty name", newAccount("a", name: "")),
                ("name over 64 bytes", newAccount("b", name: String(repeating: "\u{20AC}", count: 22))),  // 66 bytes, 22 characters
                ("newline", newAccount("c", name: "evil\nname")),
                ("escape", newAccount("d", name: "red\u{1B}[31m")),
                ("empty subject", newAccount("")),
                ("long subject", newAccount(longSubject)),
                ("empty region", newAccount("e", region: "")),
            ]
            for (what, account) in refused {
                let error = await storageError { try await accounts.createAccount(account) }
                #expect(error?.code == .invalidArgument, "\(what)")
                #expect(error?.message.contains(longSubject) == false, "\(what)")
                #expect(error?.message.contains("scrypt$") == false, "\(what)")
            }
            #expect(try await accounts.directoryVersion() == 0)
            #expect(try await accounts.directoryChanges(after: 0, limit: 10).isEmpty)

            // Exactly at the limits is fine: 32 × "é" is 64 bytes; a 256-byte subject.
            let limit = try await accounts.createAccount(newAccount(String(repeating: "s", count: 256), name: String(repeating: "\u{E9}", count: 32)))
            #expect(limit.displayName.utf8.count == 64)

            let owner = limit.id
            let short = Data(repeating: 7, count: 31)
            let error = await storageError { try await accounts.insertRefreshToken(token(owner, hash: short)) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("31") == true)
            let code3 = await storageError {
                try await accounts.rotateRefreshToken(hash: short, now: at(0), next: token(owner))
            }?.code
            #expect(code3 == .invalidArgument)
            let code4 = await storageError {
                try await accounts.rotateRefreshToken(hash: randomHash(), now: at(0), next: token(owner, hash: Data(count: 33)))
            }?.code
            #expect(code4 == .invalidArgument)
            let code5 = await storageError { try await accounts.addSigningKey(signingKey("k", at: at(0), privateBytes: 31)) }?.code
            #expect(code5 == .invalidArgument)
            let code6 = await storageError { try await accounts.addSigningKey(signingKey("", at: at(0))) }?.code
            #expect(code6 == .invalidArgument)
            let code6b = await storageError { try await accounts.addSigningKey(signingKey("k", at: at(0), privateBytes: 8193)) }?.code
            #expect(code6b == .invalidArgument)
            #expect(try await accounts.signingKeys().isEmpty)
            // An RSA-2048 key's DER sizes are stored whole (the schema's checks of version 7).
            let rsaSized = signingKey("rsa", at: at(0), privateBytes: 1192)
            try await accounts.addSigningKey(rsaSized)
            #expect(try await accounts.signingKeys() == [rsaSized])
            let code7 = await storageError {
                try await accounts.linkMethod(LoginMethodRecord(key: LoginMethodKey(kind: .device, subject: ""), secret: "x", linkedAt: at(0)), to: owner)
            }?.code
            #expect(code7 == .invalidArgument)
            let code8 = await storageError { try await accounts.setHome(owner, region: "", epoch: 2) }?.code
            #expect(code8 == .invalidArgument)
        }
    }

    // MARK: Directory

    @Test(arguments: TestBackend.enabled)
    func directoryVersionsFollowCommitOrderAndPage(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            // Concurrent creates each get their own version, with no gaps.
            let created = try await withThrowingTaskGroup(of: AccountRecord.self) { group in
                for index in 0..<8 {
                    group.addTask { try await accounts.createAccount(newAccount("user\(index)")) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(created.map(\.directoryVersion)) == Set(1...8))
            #expect(try await accounts.directoryVersion() == 8)

            // Concurrent changes of different kinds, too.
            let changed = try await withThrowingTaskGroup(of: AccountRecord.self) { group in
                for (index, account) in created.enumerated() {
                    group.addTask {
                        if index.isMultiple(of: 2) { return try await accounts.setAccountState(account.id, to: .banned) }
                        return try await accounts.setHome(account.id, region: "us-east", epoch: 2)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(changed.map(\.directoryVersion)) == Set(9...16))
            #expect(try await accounts.directoryVersion() == 16)

            // Paging in version order sees every account once, at its latest version.
            var paged: [AccountRecord] = []
            var cursor: Int64 = 0
            while true {
                let page = try await accounts.directoryChanges(after: cursor, limit: 3)
                #expect(page.count <= 3)
                guard let last = page.last else { break }
                paged += page
                cursor = last.directoryVersion
            }
            #expect(paged.map(\.directoryVersion) == Array(9...16))
            #expect(Set(paged) == Set(changed))
            #expect(try await accounts.directoryChanges(after: 0, limit: 100) == paged)
            #expect(try await accounts.directoryChanges(after: 12, limit: 100) == Array(paged.suffix(4)))
            #expect(try await accounts.directoryChanges(after: 16, limit: 100).isEmpty)
            #expect(try await accounts.directoryChanges(after: 0, limit: 0).isEmpty)
            #expect(try await accounts.directoryChanges(after: 0, limit: -1).isEmpty)

            // A later change moves the account to the end.
            let first = try #require(paged.first)
            let again: AccountRecord
            if first.state == .banned {
                again = try await accounts.setAccountState(first.id, to: .active)
            } else {
                again = try await accounts.setHome(first.id, region: "ap-south", epoch: 3)
            }
            #expect(again.directoryVersion == 17)
            #expect(try await accounts.directoryChanges(after: 16, limit: 10) == [again])
            #expect(try await accounts.directoryChanges(after: 0, limit: 100).last == again)
            #expect(try await accounts.directoryChanges(after: 0, limit: 100).count == 8)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func banAndUnbanTakeVersionsAndRepeatsAreNoOps(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            #expect(try await accounts.setAccountState(alice.id, to: .active) == alice)  // unchanged
            #expect(try await accounts.directoryVersion() == 1)

            let banned = try await accounts.setAccountState(alice.id, to: .banned)
            var expected = alice
            expected.state = .banned
            expected.directoryVersion = 2
            #expect(banned == expected)
            #expect(try await accounts.account(alice.id) == banned)
            #expect(try await accounts.setAccountState(alice.id, to: .banned) == banned)  // repeat: same version
            #expect(try await accounts.directoryVersion() == 2)

            let unbanned = try await accounts.setAccountState(alice.id, to: .active)
            #expect(unbanned.state == .active && unbanned.directoryVersion == 3)
            #expect(try await accounts.directoryChanges(after: 2, limit: 10) == [unbanned])
            let code9 = await storageError { try await accounts.setAccountState(PlayerID(), to: .banned) }?.code
            #expect(code9 == .playerNotFound)
            #expect(try await accounts.directoryVersion() == 3)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func setHomeIsFencedByEpoch(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice", region: "eu-west"))
            #expect(try await accounts.setHome(alice.id, region: "eu-west", epoch: 1) == alice)  // the current assignment: no-op
            let code10 = await storageError { try await accounts.setHome(alice.id, region: "us-east", epoch: 1) }?.code
            #expect(code10 == .staleEpoch(current: 1))
            #expect(try await accounts.directoryVersion() == 1)

            let moved = try await accounts.setHome(alice.id, region: "us-east", epoch: 2)
            #expect(moved.homeRegion == "us-east" && moved.epoch == 2 && moved.directoryVersion == 2)
            #expect(moved.displayName == alice.displayName && moved.state == .active && moved.createdAt == alice.createdAt)
            #expect(try await accounts.account(alice.id) == moved)
            #expect(try await accounts.setHome(alice.id, region: "us-east", epoch: 2) == moved)  // a retried move: no-op

            let code11 = await storageError { try await accounts.setHome(alice.id, region: "ap-south", epoch: 1) }?.code
            #expect(code11 == .staleEpoch(current: 2))
            let code12 = await storageError { try await accounts.setHome(alice.id, region: "ap-south", epoch: 2) }?.code
            #expect(code12 == .staleEpoch(current: 2))
            let code13 = await storageError { try await accounts.setHome(alice.id, region: "eu-west", epoch: 1) }?.code
            #expect(code13 == .staleEpoch(current: 2))
            #expect(try await accounts.account(alice.id) == moved)
            #expect(try await accounts.directoryVersion() == 2)

            // Epochs may jump; a banned account can still be moved.
            _ = try await accounts.setAccountState(alice.id, to: .banned)
            let jumped = try await accounts.setHome(alice.id, region: "ap-south", epoch: 7)
            #expect(jumped.epoch == 7 && jumped.homeRegion == "ap-south" && jumped.state == .banned && jumped.directoryVersion == 4)
            let code14 = await storageError { try await accounts.setHome(PlayerID(), region: "eu-west", epoch: 2) }?.code
            #expect(code14 == .playerNotFound)
        }
    }

    // MARK: Refresh tokens

    @Test(arguments: TestBackend.enabled)
    func aLiveTokenRotatesIntoItsFamily(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            let family = UUID()
            let first = token(alice.id, family: family, issued: at(0), expires: at(100), familyExpires: at(1000))
            try await accounts.insertRefreshToken(first)

            // `next` names another family, player and family end: the store replaces them with the spent token's.
            let stranger = PlayerID()
            let second = token(stranger, family: UUID(), issued: at(50), expires: at(5000), familyExpires: at(99_999))
            #expect(try await accounts.rotateRefreshToken(hash: first.hash, now: at(50), next: second) == .rotated(alice, family: family))

            // The successor belongs to alice's family: it rotates (reporting that family) ...
            let third = token(alice.id, issued: at(900), expires: at(5000), familyExpires: at(99_999))
            #expect(try await accounts.rotateRefreshToken(hash: second.hash, now: at(999), next: third) == .rotated(alice, family: family))
            // ... and no token of the family lives past the family's end (its own expiry was clamped to it).
            #expect(try await accounts.rotateRefreshToken(hash: third.hash, now: at(1000), next: token(alice.id)) == .invalid)
            // Nothing changed by that refusal: just before the end, it still rotates.
            #expect(try await accounts.rotateRefreshToken(hash: third.hash, now: at(998), next: token(alice.id)) == .rotated(alice, family: family))

            #expect(try await accounts.rotateRefreshToken(hash: randomHash(), now: at(10), next: token(alice.id)) == .invalid)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func anExpiredTokenIsInvalidAndUntouched(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            let family = UUID()
            let expiring = token(alice.id, family: family, issued: at(0), expires: at(100), familyExpires: at(1000))
            try await accounts.insertRefreshToken(expiring)
            #expect(try await accounts.rotateRefreshToken(hash: expiring.hash, now: at(100), next: token(alice.id)) == .invalid)
            #expect(try await accounts.rotateRefreshToken(hash: expiring.hash, now: at(5000), next: token(alice.id)) == .invalid)
            // Not spent, not revoked: one second earlier it is live.
            #expect(try await accounts.rotateRefreshToken(hash: expiring.hash, now: at(99), next: token(alice.id)) == .rotated(alice, family: family))

            // A token whose own expiry is later than its family's end is dead at the family's end.
            let capped = token(alice.id, issued: at(0), expires: at(5000), familyExpires: at(200))
            try await accounts.insertRefreshToken(capped)
            #expect(try await accounts.rotateRefreshToken(hash: capped.hash, now: at(200), next: token(alice.id)) == .invalid)
            #expect(try await accounts.rotateRefreshToken(hash: capped.hash, now: at(199), next: token(alice.id)) == .rotated(alice, family: capped.family))
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aSpentTokenPresentedAgainRevokesItsFamily(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            let family = UUID()
            let first = token(alice.id, family: family)
            try await accounts.insertRefreshToken(first)
            let second = token(alice.id)
            #expect(try await accounts.rotateRefreshToken(hash: first.hash, now: at(10), next: second) == .rotated(alice, family: family))
            // Another family of alice's (another device) is not affected.
            let other = token(alice.id)
            try await accounts.insertRefreshToken(other)

            // The thief (or the victim) replays the spent token: the whole family dies, and the reuse is reported.
            #expect(try await accounts.rotateRefreshToken(hash: first.hash, now: at(20), next: token(alice.id)) == .reused(player: alice.id, family: family))
            #expect(try await accounts.rotateRefreshToken(hash: second.hash, now: at(21), next: token(alice.id)) == .invalid)
            // Once revoked, the spent token is merely invalid (the family is already dead).
            #expect(try await accounts.rotateRefreshToken(hash: first.hash, now: at(22), next: token(alice.id)) == .invalid)
            #expect(try await accounts.rotateRefreshToken(hash: other.hash, now: at(23), next: token(alice.id)) == .rotated(alice, family: other.family))

            // Reuse is detected even after the spent token expired, and even for a banned account.
            let bob = try await accounts.createAccount(newAccount("bob"))
            let old = token(bob.id, issued: at(0), expires: at(100), familyExpires: at(1000))
            try await accounts.insertRefreshToken(old)
            let successor = token(bob.id)
            #expect(try await accounts.rotateRefreshToken(hash: old.hash, now: at(50), next: successor) == .rotated(bob, family: old.family))
            _ = try await accounts.setAccountState(bob.id, to: .banned)
            #expect(try await accounts.rotateRefreshToken(hash: old.hash, now: at(5000), next: token(bob.id)) == .reused(player: bob.id, family: old.family))
            _ = try await accounts.setAccountState(bob.id, to: .active)
            #expect(try await accounts.rotateRefreshToken(hash: successor.hash, now: at(60), next: token(bob.id)) == .invalid)
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aBannedAccountsTokensAreInvalidWhileBanned(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            let live = token(alice.id)
            try await accounts.insertRefreshToken(live)
            let banned = try await accounts.setAccountState(alice.id, to: .banned)
            #expect(banned.state == .banned)
            #expect(try await accounts.rotateRefreshToken(hash: live.hash, now: at(10), next: token(alice.id)) == .invalid)
            // The refusal spent nothing: after an unban the token rotates (not reported as reused).
            let unbanned = try await accounts.setAccountState(alice.id, to: .active)
            #expect(try await accounts.rotateRefreshToken(hash: live.hash, now: at(11), next: token(alice.id)) == .rotated(unbanned, family: live.family))
        }
    }

    @Test(arguments: TestBackend.enabled)
    func aSuccessorHashCollisionRollsTheRotationBack(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            let live = token(alice.id)
            let taken = token(alice.id)
            try await accounts.insertRefreshToken(live)
            try await accounts.insertRefreshToken(taken)
            let code15 = await storageError { try await accounts.insertRefreshToken(taken) }?.code
            #expect(code15 == .alreadyExists)
            let code16 = await storageError { try await accounts.insertRefreshToken(token(PlayerID())) }?.code
            #expect(code16 == .playerNotFound)

            var collision = token(alice.id)
            collision.hash = taken.hash
            let code17 = await storageError { try await accounts.rotateRefreshToken(hash: live.hash, now: at(10), next: collision) }?.code
            #expect(code17 == .alreadyExists)
            // The presented token was not spent: it rotates now (a reuse would revoke instead).
            #expect(try await accounts.rotateRefreshToken(hash: live.hash, now: at(11), next: token(alice.id)) == .rotated(alice, family: live.family))
            #expect(try await accounts.rotateRefreshToken(hash: taken.hash, now: at(12), next: token(alice.id)) == .rotated(alice, family: taken.family))
        }
    }

    /// Two refreshes with the same token at once (a client retrying, or a thief racing the victim):
    /// exactly one rotates; the other finds it spent, and the family — the winner's successor
    /// included — is revoked.
    @Test(arguments: TestBackend.enabled)
    func concurrentRotationsOfOneTokenHaveOneWinner(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            for round in 0..<6 {
                let family = UUID()
                let presented = token(alice.id, family: family)
                try await accounts.insertRefreshToken(presented)
                let successors = [token(alice.id), token(alice.id)]
                let outcomes = try await withThrowingTaskGroup(of: RefreshRotation.self) { group in
                    for successor in successors {
                        group.addTask { try await accounts.rotateRefreshToken(hash: presented.hash, now: at(10 + round), next: successor) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let count18 = outcomes.filter { $0 == .rotated(alice, family: family) }.count
                #expect(count18 == 1, "round \(round): \(outcomes)")
                let count19 = outcomes.filter { $0 == .reused(player: alice.id, family: family) }.count
                #expect(count19 == 1, "round \(round): \(outcomes)")
                for successor in successors {
                    #expect(try await accounts.rotateRefreshToken(hash: successor.hash, now: at(30), next: token(alice.id)) == .invalid, "round \(round)")
                }
            }
        }
    }

    /// A logout (or a revoke-all) racing a refresh of the same family: whichever commits first, no
    /// token of the family is live afterwards — the successor included.
    @Test(arguments: TestBackend.enabled)
    func aRevocationRacingARotationLeavesNoLiveToken(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            for round in 0..<6 {
                let presented = token(alice.id)
                try await accounts.insertRefreshToken(presented)
                let successor = token(alice.id)
                let everything = round.isMultiple(of: 2)
                let outcome = try await withThrowingTaskGroup(of: RefreshRotation?.self) { group in
                    group.addTask { try await accounts.rotateRefreshToken(hash: presented.hash, now: at(10), next: successor) }
                    group.addTask {
                        if everything { try await accounts.revokeRefreshTokens(of: alice.id) } else { try await accounts.revokeRefreshFamily(presented.family) }
                        return nil
                    }
                    return try await group.reduce(into: [RefreshRotation]()) { if let rotation = $1 { $0.append(rotation) } }
                }
                #expect(outcome == [.rotated(alice, family: presented.family)] || outcome == [.invalid], "round \(round): \(outcome)")
                #expect(try await accounts.rotateRefreshToken(hash: successor.hash, now: at(20), next: token(alice.id)) == .invalid, "round \(round)")
                #expect(try await accounts.rotateRefreshToken(hash: presented.hash, now: at(20), next: token(alice.id)) == .invalid, "round \(round)")
            }
        }
    }

    @Test(arguments: TestBackend.enabled)
    func revokingAFamilyOrAllOfAPlayersTokens(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let alice = try await accounts.createAccount(newAccount("alice"))
            let bob = try await accounts.createAccount(newAccount("bob"))
            let phone = token(alice.id)
            let laptop = token(alice.id)
            let console = token(alice.id)
            let bobs = token(bob.id)
            for issued in [phone, laptop, console, bobs] { try await accounts.insertRefreshToken(issued) }

            // Logout of the phone: its family (the rotated successor too) dies, the other devices stay.
            let phoneNext = token(alice.id)
            #expect(try await accounts.rotateRefreshToken(hash: phone.hash, now: at(1), next: phoneNext) == .rotated(alice, family: phone.family))
            try await accounts.revokeRefreshFamily(phone.family)
            try await accounts.revokeRefreshFamily(phone.family)  // idempotent
            try await accounts.revokeRefreshFamily(UUID())  // unknown family: nothing to do
            #expect(try await accounts.rotateRefreshToken(hash: phoneNext.hash, now: at(2), next: token(alice.id)) == .invalid)
            let laptopNext = token(alice.id)
            #expect(try await accounts.rotateRefreshToken(hash: laptop.hash, now: at(3), next: laptopNext) == .rotated(alice, family: laptop.family))

            // A password change: every token of alice's dies, bob's live on.
            try await accounts.revokeRefreshTokens(of: alice.id)
            try await accounts.revokeRefreshTokens(of: alice.id)  // idempotent
            #expect(try await accounts.rotateRefreshToken(hash: laptopNext.hash, now: at(4), next: token(alice.id)) == .invalid)
            #expect(try await accounts.rotateRefreshToken(hash: console.hash, now: at(4), next: token(alice.id)) == .invalid)
            #expect(try await accounts.rotateRefreshToken(hash: bobs.hash, now: at(4), next: token(bob.id)) == .rotated(bob, family: bobs.family))
            let code20 = await storageError { try await accounts.revokeRefreshTokens(of: PlayerID()) }?.code
            #expect(code20 == .playerNotFound)

            // A login after the revocation starts a new, live family.
            let fresh = token(alice.id)
            try await accounts.insertRefreshToken(fresh)
            #expect(try await accounts.rotateRefreshToken(hash: fresh.hash, now: at(5), next: token(alice.id)) == .rotated(alice, family: fresh.family))
        }
    }

    // MARK: Signing keys

    @Test(arguments: TestBackend.enabled)
    func signingKeysRotateAndRetiredOnesAreDeleted(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            #expect(try await accounts.signingKeys().isEmpty)
            let k1 = signingKey("k1", at: at(0))
            try await accounts.addSigningKey(k1)
            #expect(try await accounts.signingKeys() == [k1])

            let k2 = signingKey("k2", at: at(10))
            try await accounts.addSigningKey(k2)
            var k1Retired = k1
            k1Retired.retiredAt = at(10)
            #expect(try await accounts.signingKeys() == [k1Retired, k2])

            // The same key again (a retried rotation) changes nothing; other material under its id is refused.
            try await accounts.addSigningKey(k2)
            var later = k2
            later.createdAt = at(15)
            try await accounts.addSigningKey(later)
            #expect(try await accounts.signingKeys() == [k1Retired, k2])
            var forged = k2
            forged.privateKey = randomHash()
            let code21 = await storageError { try await accounts.addSigningKey(forged) }?.code
            #expect(code21 == .alreadyExists)
            var forgedPublic = k2
            forgedPublic.publicKey = randomHash()
            let code22 = await storageError { try await accounts.addSigningKey(forgedPublic) }?.code
            #expect(code22 == .alreadyExists)
            #expect(try await accounts.signingKeys() == [k1Retired, k2])

            // A third key retires k2 only; k1 keeps its retirement time.
            let k3 = signingKey("k3", at: at(20))
            try await accounts.addSigningKey(k3)
            var k2Retired = k2
            k2Retired.retiredAt = at(20)
            #expect(try await accounts.signingKeys() == [k1Retired, k2Retired, k3])
            let value23 = try await accounts.signingKeys().filter { $0.retiredAt == nil }.map(\.id)
            #expect(value23 == ["k3"])

            // Deleting retired keys: strictly before the date, never the signing key.
            try await accounts.deleteSigningKeys(retiredBefore: at(10))
            #expect(try await accounts.signingKeys() == [k1Retired, k2Retired, k3])
            try await accounts.deleteSigningKeys(retiredBefore: at(20))
            #expect(try await accounts.signingKeys() == [k2Retired, k3])
            try await accounts.deleteSigningKeys(retiredBefore: at(1_000_000))
            #expect(try await accounts.signingKeys() == [k3])
        }
    }

    // MARK: Login methods

    @Test(arguments: TestBackend.enabled)
    func linkingAndUnlinkingLoginMethods(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            let aliceNew = newAccount("alice", at: at(0))
            let alice = try await accounts.createAccount(aliceNew)
            let bob = try await accounts.createAccount(newAccount("bob"))
            let password = aliceNew.method
            let device = LoginMethodRecord(key: LoginMethodKey(kind: .device, subject: "device-1"), secret: "hash-of-device-secret", linkedAt: at(10))
            let steam = LoginMethodRecord(key: LoginMethodKey(kind: .platform, subject: "steam|42"), secret: nil, linkedAt: at(20))

            #expect(try await accounts.linkMethod(device, to: alice.id) == [password, device])
            #expect(try await accounts.linkMethod(steam, to: alice.id) == [password, device, steam])
            #expect(try await accounts.account(method: device.key)?.account == alice)
            // Linking changes no directory entry.
            #expect(try await accounts.directoryVersion() == 2)

            // Taken keys, by this account or another; unknown accounts.
            let code24 = await storageError { try await accounts.linkMethod(device, to: alice.id) }?.code
            #expect(code24 == .alreadyExists)
            let code25 = await storageError { try await accounts.linkMethod(device, to: bob.id) }?.code
            #expect(code25 == .alreadyExists)
            let code26 = await storageError { try await accounts.linkMethod(password, to: bob.id) }?.code
            #expect(code26 == .alreadyExists)
            let code27 = await storageError { try await accounts.linkMethod(LoginMethodRecord(key: LoginMethodKey(kind: .dev, subject: "x"), secret: nil, linkedAt: at(0)), to: PlayerID()) }?.code
            #expect(code27 == .playerNotFound)
            #expect(try await accounts.loginMethods(of: bob.id).map(\.key.subject) == ["bob"])

            // Unlinking: not someone else's method, not one the account lacks.
            let code28 = await storageError { try await accounts.unlinkMethod(device.key, from: bob.id) }?.code
            #expect(code28 == .invalidArgument)
            let code29 = await storageError { try await accounts.unlinkMethod(LoginMethodKey(kind: .device, subject: "device-2"), from: alice.id) }?.code
            #expect(code29 == .invalidArgument)
            #expect(try await accounts.loginMethods(of: alice.id) == [password, device, steam])

            #expect(try await accounts.unlinkMethod(password.key, from: alice.id) == [device, steam])
            #expect(try await accounts.account(method: password.key) == nil)
            #expect(try await accounts.unlinkMethod(steam.key, from: alice.id) == [device])
            // The last method stays: without it the account could never log in again.
            let code30 = await storageError { try await accounts.unlinkMethod(device.key, from: alice.id) }?.code
            #expect(code30 == .invalidArgument)
            #expect(try await accounts.loginMethods(of: alice.id) == [device])
            let code31 = await storageError { try await accounts.unlinkMethod(device.key, from: PlayerID()) }?.code
            #expect(code31 == .playerNotFound)
            let code32 = await storageError { try await accounts.loginMethods(of: PlayerID()) }?.code
            #expect(code32 == .playerNotFound)

            // The freed username can be taken by a new account.
            let newAlice = try await accounts.createAccount(newAccount("alice", name: "another alice"))
            #expect(try await accounts.account(method: password.key)?.account == newAlice)
        }
    }

    /// Two unlinks at once of an account's two methods: one wins, the other finds the last method.
    @Test(arguments: TestBackend.enabled)
    func concurrentUnlinksKeepTheLastMethod(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, _ in
            for round in 0..<4 {
                let new = newAccount("user\(round)")
                let account = try await accounts.createAccount(new)
                let device = LoginMethodRecord(key: LoginMethodKey(kind: .device, subject: "device-\(round)"), secret: "s", linkedAt: at(10))
                _ = try await accounts.linkMethod(device, to: account.id)
                let results = await withTaskGroup(of: StorageError.Code?.self) { group in
                    for key in [new.method.key, device.key] {
                        group.addTask { await storageError { try await accounts.unlinkMethod(key, from: account.id) }?.code }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let count33 = results.filter { $0 == nil }.count
                #expect(count33 == 1, "round \(round): \(results)")
                let count34 = results.filter { $0 == .invalidArgument }.count
                #expect(count34 == 1, "round \(round): \(results)")
                #expect(try await accounts.loginMethods(of: account.id).count == 1, "round \(round)")
            }
        }
    }

    // MARK: Durability and migrations

    @Test(arguments: TestBackend.enabled)
    func aReopenedStoreKeepsEverything(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, fresh in
            let alice = try await accounts.createAccount(newAccount("alice"))
            let device = LoginMethodRecord(key: LoginMethodKey(kind: .device, subject: "d1"), secret: "s", linkedAt: at(30))
            _ = try await accounts.linkMethod(device, to: alice.id)
            let moved = try await accounts.setHome(alice.id, region: "us-east", epoch: 2)
            let bob = try await accounts.createAccount(newAccount("bob"))
            let bobBanned = try await accounts.setAccountState(bob.id, to: .banned)
            let spent = token(alice.id)
            try await accounts.insertRefreshToken(spent)
            let live = token(alice.id)
            #expect(try await accounts.rotateRefreshToken(hash: spent.hash, now: at(40), next: live) == .rotated(moved, family: spent.family))
            try await accounts.addSigningKey(signingKey("k1", at: at(0)))
            try await accounts.addSigningKey(signingKey("k2", at: at(50)))
            let keys = try await accounts.signingKeys()
            let changes = try await accounts.directoryChanges(after: 0, limit: 100)

            let reopened = try await fresh.reopen()
            do {
                let again = try #require(reopened as? any AccountStore)
                #expect(try await again.account(alice.id) == moved)
                #expect(try await again.account(bob.id) == bobBanned)
                #expect(try await again.loginMethods(of: alice.id) == [newAccount("alice").method, device])
                #expect(try await again.directoryVersion() == 4)
                #expect(try await again.directoryChanges(after: 0, limit: 100) == changes)
                #expect(try await again.signingKeys() == keys)
                // The spent token is still spent, the live one still live.
                let next = token(alice.id)
                #expect(try await again.rotateRefreshToken(hash: live.hash, now: at(60), next: next) == .rotated(moved, family: spent.family))
                #expect(try await again.rotateRefreshToken(hash: spent.hash, now: at(61), next: token(alice.id)) == .reused(player: alice.id, family: spent.family))
                // The clock continues where it was.
                #expect(try await again.createAccount(newAccount("carol")).directoryVersion == 5)
            } catch {
                await reopened.close()
                throw error
            }
            await reopened.close()
        }
    }

    @Test(arguments: TestBackend.enabled)
    func rerunningMigrationsKeepsAccountsAndTheClock(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, fresh in
            let alice = try await accounts.createAccount(newAccount("alice"))
            _ = try await accounts.setAccountState(alice.id, to: .banned)
            try await migrateAgain(fresh.store)
            #expect(try await appliedMigrations(fresh.store) == [1, 2, 3, 4, 5, 6, 7])
            #expect(try await accounts.directoryVersion() == 2)
            #expect(try await accounts.account(alice.id)?.state == .banned)
            #expect(try await accounts.createAccount(newAccount("bob")).directoryVersion == 3)
        }
    }
}

// MARK: The decision core

extension AccountStoreTests {
    /// ``AccountRules/spend(_:account:now:next:)`` case by case; the order matters (a spent token
    /// revokes even when expired or banned; a revoked one is merely invalid).
    @Test func refreshSpendDecisions() {
        let player = PlayerID()
        let family = UUID()
        let active = AccountRecord(id: player, displayName: "a", state: .active, homeRegion: "eu-west", epoch: 1, createdAt: at(0), directoryVersion: 1)
        var banned = active
        banned.state = .banned
        let live = StoredRefreshToken(family: family, player: player, expiresAt: at(100), familyExpiresAt: at(200), spentAt: nil, revokedAt: nil)
        var spent = live
        spent.spentAt = at(50)
        var revoked = spent
        revoked.revokedAt = at(60)
        let next = RefreshTokenRecord(hash: Data(count: 32), family: UUID(), player: PlayerID(), issuedAt: at(10), expiresAt: at(500), familyExpiresAt: at(900))

        #expect(AccountRules.spend(nil, account: active, now: at(10), next: next) == .refuse)
        #expect(AccountRules.spend(revoked, account: active, now: at(10), next: next) == .refuse)
        #expect(AccountRules.spend(spent, account: active, now: at(10), next: next) == .revokeFamily(player: player, family: family))
        #expect(AccountRules.spend(spent, account: banned, now: at(999), next: next) == .revokeFamily(player: player, family: family))
        #expect(AccountRules.spend(live, account: active, now: at(100), next: next) == .refuse)
        #expect(AccountRules.spend(live, account: nil, now: at(10), next: next) == .refuse)
        #expect(AccountRules.spend(live, account: banned, now: at(10), next: next) == .refuse)

        var successor = next
        successor.family = family
        successor.player = player
        successor.expiresAt = at(200)
        successor.familyExpiresAt = at(200)
        #expect(AccountRules.spend(live, account: active, now: at(10), next: next) == .rotate(active, next: successor))
        #expect(AccountRules.spend(live, account: active, now: at(10), next: next).rotation == .rotated(active, family: family))
    }

    @Test func setHomeDecisions() throws {
        let account = AccountRecord(id: PlayerID(), displayName: "a", state: .active, homeRegion: "eu-west", epoch: 3, createdAt: at(0), directoryVersion: 9)
        #expect(try AccountRules.setHome(account, region: "eu-west", epoch: 3) == nil)
        for (region, epoch) in [("us-east", Epoch(3)), ("eu-west", Epoch(2)), ("us-east", Epoch(1))] {
            #expect(throws: StorageError.self) { _ = try AccountRules.setHome(account, region: region, epoch: epoch) }
        }
        let moved = try #require(try AccountRules.setHome(account, region: "eu-west", epoch: 4))
        #expect(moved.epoch == 4 && moved.homeRegion == "eu-west")
    }
}

// MARK: Helpers

private let epoch0 = Date(timeIntervalSince1970: 1_700_000_000)

/// `seconds` after a fixed whole-second instant.
private func at(_ seconds: Int) -> Date { epoch0.addingTimeInterval(TimeInterval(seconds)) }

private func randomHash() -> Data { Data((0..<32).map { _ in UInt8.random(in: .min ... .max) }) }

/// A new account logging in with the password username `username`.
private func newAccount(_ username: String, name: String? = nil, region: String = "eu-west", at time: Date = at(0)) -> NewAccount {
    NewAccount(
        displayName: name ?? username, homeRegion: region, createdAt: time,
        method: LoginMethodRecord(key: LoginMethodKey(kind: .password, subject: username), secret: "scrypt$\(username)", linkedAt: time)
    )
}

private func token(
    _ player: PlayerID, family: UUID = UUID(), hash: Data = randomHash(),
    issued: Date = at(0), expires: Date = at(3600), familyExpires: Date = at(86_400)
) -> RefreshTokenRecord {
    RefreshTokenRecord(hash: hash, family: family, player: player, issuedAt: issued, expiresAt: expires, familyExpiresAt: familyExpires)
}

private func signingKey(_ id: String, at time: Date, privateBytes: Int = 32) -> SigningKeyRecord {
    SigningKeyRecord(id: id, privateKey: Data((0..<privateBytes).map { _ in UInt8.random(in: .min ... .max) }), publicKey: randomHash(), createdAt: time)
}

/// Runs `body` with a fresh store of `backend` as an ``AccountStore``.
private func withAccounts(_ backend: TestBackend, _ body: (any AccountStore, FreshStore) async throws -> Void) async throws {
    try await withFresh(backend) { fresh in
        let accounts = try #require(fresh.store as? any AccountStore)
        try await body(accounts, fresh)
    }
}

// MARK: Transfer records

extension AccountStoreTests {
    /// The authority's record of transfer sagas: one open transfer per player, steps stored as
    /// they happen, open transfers listed for a restarted coordinator (also after a reopen).
    @Test(arguments: TestBackend.enabled)
    func transferRecordsKeepOneOpenTransferPerPlayerAndSurviveARestart(_ backend: TestBackend) async throws {
        try await withAccounts(backend) { accounts, fresh in
            let alice = try await accounts.createAccount(newAccount("alice"))
            let bob = try await accounts.createAccount(newAccount("bob"))
            let first = TransferRecord(id: UUID(), player: alice.id, from: "eu-west", to: "us-east", fromEpoch: .initial, startedAt: at(10))

            await #expect(throws: StorageError.self) {
                try await accounts.beginTransfer(TransferRecord(id: UUID(), player: PlayerID(), from: "eu-west", to: "us-east", fromEpoch: .initial))
            }
            await #expect(throws: StorageError.self, "a transfer to the player's own region") {
                try await accounts.beginTransfer(TransferRecord(id: UUID(), player: alice.id, from: "eu-west", to: "eu-west", fromEpoch: .initial))
            }
            try await accounts.beginTransfer(first)
            #expect(try await accounts.transfer(first.id) == first)
            #expect(try await accounts.openTransfers() == [first])
            do {
                try await accounts.beginTransfer(TransferRecord(id: UUID(), player: alice.id, from: "eu-west", to: "ap-south", fromEpoch: .initial, startedAt: at(11)))
                Issue.record("a second open transfer of one player was accepted")
            } catch let error as StorageError {
                #expect(error.code == .alreadyExists)
            }
            // Another player's transfer is independent.
            let other = TransferRecord(id: UUID(), player: bob.id, from: "eu-west", to: "us-east", fromEpoch: .initial, startedAt: at(12))
            try await accounts.beginTransfer(other)

            var advanced = first
            advanced.step = .flipped
            advanced.updatedAt = at(20)
            try await accounts.updateTransfer(advanced)
            #expect(try await accounts.transfer(first.id) == advanced)
            do {
                try await accounts.updateTransfer(TransferRecord(id: UUID(), player: alice.id, from: "eu-west", to: "us-east", fromEpoch: .initial))
                Issue.record("an unknown transfer was updated")
            } catch let error as StorageError {
                #expect(error.code == .invalidArgument)
            }

            // A restart finds both open, oldest first.
            let reopenedStore = try await fresh.reopen()
            let reopened = try #require(reopenedStore as? any AccountStore)
            #expect(try await reopened.openTransfers() == [advanced, other])

            var done = advanced
            done.step = .done
            done.updatedAt = at(30)
            try await reopened.updateTransfer(done)
            var rolledBack = other
            rolledBack.step = .rolledBack
            rolledBack.failure = String(repeating: "é", count: TransferRecord.maximumFailureBytes)  // cut to the limit
            try await reopened.updateTransfer(rolledBack)
            #expect(try await reopened.openTransfers().isEmpty)
            #expect(try await reopened.transfer(other.id)?.failure?.utf8.count ?? 0 <= TransferRecord.maximumFailureBytes)

            // With the first one final, the player may move again; the newest comes first.
            let back = TransferRecord(id: UUID(), player: alice.id, from: "us-east", to: "eu-west", fromEpoch: 2, startedAt: at(40))
            try await reopened.beginTransfer(back)
            #expect(try await reopened.transfers(of: alice.id, limit: 10).map(\.id) == [back.id, first.id])
            #expect(try await reopened.transfers(of: alice.id, limit: 1).map(\.id) == [back.id])
            await reopenedStore.close()
        }
    }
}
