import Distributed
import Foundation
import Logging
import MeridianClock
import MeridianCluster
import MeridianMembership
import MeridianStorage
import MeridianTopology
import MeridianWire
import SwiftProtobuf

/// Checking each login method's credentials. Refusals are ``IdentityRefusal``s; an unknown
/// username and a wrong password take the same time and give the same answer.
extension IdentityAuthority {
    /// Usernames: 3–32 characters of `a-z 0-9 . _ -`, compared lowercased.
    static func normalizedUsername(_ text: String) throws(IdentityRefusal) -> String {
        let name = text.lowercased()
        let allowed = name.utf8.allSatisfy { byte in
            (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard (3...32).contains(name.utf8.count), allowed else {
            throw IdentityRefusal(.invalidRequest, "a username is 3 to 32 characters of a-z, 0-9, '.', '_' and '-'")
        }
        return name
    }

    /// A display name the stores accept: trimmed, 1…``NewAccount/maximumDisplayNameBytes`` bytes, no control characters.
    static func displayName(_ text: String, fallback: String) throws(IdentityRefusal) -> String {
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty { return fallback }
        guard name.utf8.count <= NewAccount.maximumDisplayNameBytes, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw IdentityRefusal(.invalidRequest, "a display name is at most \(NewAccount.maximumDisplayNameBytes) bytes of UTF-8 without control characters")
        }
        return name
    }

    func authenticate(_ request: Meridian_Identity_V1_LoginRequest, allowDev: Bool = false) async throws -> (AccountRecord, created: Bool) {
        guard topology.region(named: request.gatewayRegion) != nil else {
            throw IdentityRefusal(.invalidRequest, "the gateway's region \(request.gatewayRegion) is not in the topology")
        }
        switch request.method {
        case .password(let credentials):
            return credentials.create
                ? (try await register(credentials, home: request.gatewayRegion), true)
                : (try await passwordLogin(credentials, source: request.source), false)
        case .device(let credentials):
            return try await deviceLogin(credentials, home: request.gatewayRegion, source: request.source)
        case .dev(let credentials):
            guard configuration.devLogin || allowDev else {
                throw IdentityRefusal(.devLoginDisabled, "development logins are disabled in this cluster; log in with a password, a device or a platform ticket")
            }
            return try await devLogin(credentials, home: request.gatewayRegion)
        case .platform(let credentials):
            return try await platformLogin(credentials, home: request.gatewayRegion, source: request.source)
        case nil:
            throw IdentityRefusal(.invalidRequest, "name a login method")
        }
    }

    private func register(_ credentials: Meridian_Identity_V1_PasswordCredentials, home: String) async throws -> AccountRecord {
        let method = try await passwordMethod(credentials)
        let name = try Self.displayName(credentials.displayName, fallback: method.key.subject)
        return try await create(
            NewAccount(displayName: name, homeRegion: home, createdAt: now(), method: method),
            taken: "that username is taken; choose another"
        )
    }

    /// A new password method (registering or linking): the username checked and normalized, the
    /// password's length checked and the password hashed.
    private func passwordMethod(_ credentials: Meridian_Identity_V1_PasswordCredentials) async throws -> LoginMethodRecord {
        let username = try Self.normalizedUsername(credentials.username)
        guard (PasswordHasher.minimumPasswordBytes...PasswordHasher.maximumPasswordBytes).contains(credentials.password.utf8.count) else {
            throw IdentityRefusal(.invalidRequest, "a password is \(PasswordHasher.minimumPasswordBytes) to \(PasswordHasher.maximumPasswordBytes) bytes")
        }
        let hash = try await hasher.hash(credentials.password)
        return LoginMethodRecord(key: LoginMethodKey(kind: .password, subject: username), secret: hash, linkedAt: now())
    }

    /// The device method the credentials name (logging in or linking): the device id and the
    /// secret's length checked.
    static func deviceKey(_ credentials: Meridian_Identity_V1_DeviceCredentials) throws(IdentityRefusal) -> LoginMethodKey {
        let device = credentials.deviceID
        guard (1...128).contains(device.utf8.count), !device.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw IdentityRefusal(.invalidRequest, "a device id is 1 to 128 bytes without control characters")
        }
        guard (DeviceSecret.minimumBytes...DeviceSecret.maximumBytes).contains(credentials.deviceSecret.count) else {
            throw IdentityRefusal(.invalidRequest, "a device secret is \(DeviceSecret.minimumBytes) to \(DeviceSecret.maximumBytes) random bytes the device keeps")
        }
        return LoginMethodKey(kind: .device, subject: device)
    }

    private func passwordLogin(_ credentials: Meridian_Identity_V1_PasswordCredentials, source: String) async throws -> AccountRecord {
        // A malformed username cannot exist: the same answer as a wrong password, after the same work.
        let username = (try? Self.normalizedUsername(credentials.username)) ?? ""
        let throttleKey = "password:" + username
        let clock = actorSystem.clock
        if let wait = throttle.retryAfter(account: throttleKey, source: source, now: clock.now) {
            throw IdentityRefusal(.locked, "too many failed logins; try again later", retryAfter: wait)
        }
        let found = username.isEmpty ? nil : try await store.account(method: LoginMethodKey(kind: .password, subject: username))
        let matches: Bool
        if let found, let secret = found.method.secret {
            matches = try await hasher.verify(credentials.password, against: secret)
        } else {
            try await hasher.verifyNothing(credentials.password)
            matches = false
        }
        // Check again after the hash: other attempts ran meanwhile.
        guard matches, let account = found?.account else {
            throttle.failed(account: throttleKey, source: source, now: clock.now)
            throw IdentityRefusal.invalidCredentials
        }
        throttle.succeeded(account: throttleKey)
        guard account.state == .active else { throw IdentityRefusal(.banned, "this account is banned") }
        return account
    }

    private func deviceLogin(_ credentials: Meridian_Identity_V1_DeviceCredentials, home: String, source: String) async throws -> (AccountRecord, created: Bool) {
        let key = try Self.deviceKey(credentials)
        let throttleKey = "device:" + key.subject
        let clock = actorSystem.clock
        if let wait = throttle.retryAfter(account: throttleKey, source: source, now: clock.now) {
            throw IdentityRefusal(.locked, "too many failed logins; try again later", retryAfter: wait)
        }
        if let found = try await store.account(method: key) {
            guard let secret = found.method.secret, DeviceSecret.matches(credentials.deviceSecret, stored: secret) else {
                throttle.failed(account: throttleKey, source: source, now: clock.now)
                throw IdentityRefusal(.invalidCredentials, "the device's credentials are wrong")
            }
            guard found.account.state == .active else { throw IdentityRefusal(.banned, "this account is banned") }
            return (found.account, false)
        }
        let name = try Self.displayName(credentials.displayName, fallback: "guest-" + UUID().uuidString.prefix(6).lowercased())
        let account = try await create(NewAccount(
            displayName: name, homeRegion: home, createdAt: now(),
            method: LoginMethodRecord(key: key, secret: DeviceSecret.hash(credentials.deviceSecret), linkedAt: now())
        ), taken: "the device's credentials are wrong")
        return (account, true)
    }

    /// The identity a platform ticket proves, by the configured verifier of its platform.
    func platformIdentity(_ credentials: Meridian_Identity_V1_PlatformCredentials) async throws(IdentityRefusal) -> PlatformIdentity {
        guard let verifier = configuration.platforms.first(where: { $0.platform == credentials.platform }) else {
            throw IdentityRefusal(.invalidRequest, "this cluster does not accept tickets of platform \(credentials.platform.prefix(32))")
        }
        return try await verifier.verify(credentials.ticket, now: now())
    }

    private func platformLogin(_ credentials: Meridian_Identity_V1_PlatformCredentials, home: String, source: String) async throws -> (AccountRecord, created: Bool) {
        let clock = actorSystem.clock
        let throttleKey = "platform:" + credentials.platform.prefix(32)
        if let wait = throttle.retryAfter(account: throttleKey, source: source, now: clock.now) {
            throw IdentityRefusal(.locked, "too many failed logins; try again later", retryAfter: wait)
        }
        let identity: PlatformIdentity
        do {
            identity = try await platformIdentity(credentials)
        } catch {
            if error.code == .invalidCredentials { throttle.failed(account: throttleKey, source: source, now: clock.now) }
            throw error
        }
        let key = LoginMethodKey(kind: .platform, subject: identity.subject)
        if let found = try await store.account(method: key) {
            guard found.account.state == .active else { throw IdentityRefusal(.banned, "this account is banned") }
            return (found.account, false)
        }
        let suggested = credentials.displayName.isEmpty ? (identity.displayName ?? "") : credentials.displayName
        let name = (try? Self.displayName(suggested, fallback: "player-" + UUID().uuidString.prefix(6).lowercased()))
            ?? "player-" + UUID().uuidString.prefix(6).lowercased()
        do {
            return (try await create(NewAccount(
                displayName: name, homeRegion: home, createdAt: now(),
                method: LoginMethodRecord(key: key, secret: nil, linkedAt: now())
            ), taken: "that platform account is linked already"), true)
        } catch let refusal as IdentityRefusal where refusal.code == .alreadyExists {
            // Created by a concurrent login with the same ticket.
            guard let found = try await store.account(method: key) else { throw refusal }
            return (found.account, false)
        }
    }

    // MARK: Linking

    /// The method a link request adds, its credentials checked as a login would (a password is
    /// hashed; a device's secret kept hashed; a ticket verified).
    func methodToLink(_ request: Meridian_Identity_V1_LinkRequest) async throws -> LoginMethodRecord {
        switch request.method {
        case .password(let credentials):
            return try await passwordMethod(credentials)
        case .device(let credentials):
            return LoginMethodRecord(key: try Self.deviceKey(credentials), secret: DeviceSecret.hash(credentials.deviceSecret), linkedAt: now())
        case .platform(let credentials):
            let identity = try await platformIdentity(credentials)
            return LoginMethodRecord(key: LoginMethodKey(kind: .platform, subject: identity.subject), secret: nil, linkedAt: now())
        case nil:
            throw IdentityRefusal(.invalidRequest, "name a login method to link")
        }
    }

    private func devLogin(_ credentials: Meridian_Identity_V1_DevCredentials, home: String) async throws -> (AccountRecord, created: Bool) {
        guard let player = UUID(uuidString: credentials.player) else { throw IdentityRefusal(.invalidRequest, "a dev login names a UUID player id") }
        if let account = try await store.account(player) {
            guard account.state == .active else { throw IdentityRefusal(.banned, "this account is banned") }
            return (account, false)
        }
        let name = try Self.displayName(credentials.displayName, fallback: "player-" + player.uuidString.prefix(6).lowercased())
        do {
            return (try await create(NewAccount(
                id: player, displayName: name, homeRegion: home, createdAt: now(),
                method: LoginMethodRecord(key: LoginMethodKey(kind: .dev, subject: player.uuidString.lowercased()), secret: nil, linkedAt: now())
            ), taken: "that player id is taken"), true)
        } catch let refusal as IdentityRefusal where refusal.code == .alreadyExists {
            // Created by a concurrent login of the same id.
            guard let account = try await store.account(player) else { throw refusal }
            return (account, false)
        }
    }

    private func create(_ account: NewAccount, taken: String) async throws -> AccountRecord {
        let record: AccountRecord
        do {
            record = try await store.createAccount(account)
        } catch {
            switch error.code {
            case .alreadyExists: throw IdentityRefusal(.alreadyExists, taken)
            case .invalidArgument: throw IdentityRefusal(.invalidRequest, error.message)
            default: throw error
            }
        }
        logger.info("account created", metadata: [
            "meridian.player": "\(record.id)", "meridian.region": "\(record.homeRegion)", "meridian.identity.method": "\(account.method.key.kind.rawValue)",
        ])
        return record
    }
}
