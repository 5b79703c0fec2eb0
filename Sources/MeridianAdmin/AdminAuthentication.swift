import Foundation
import Hummingbird

/// The request context of the admin HTTP: who presented a valid token, once
/// ``AdminAuthenticator`` let the request through.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: AdminPrincipal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Requests are small: a login form at most.
    public var maxUploadSize: Int { 16 * 1024 }
}

/// Lets a request through only with an admin token of at least `role`: `Authorization: Bearer
/// <token>` (scripts, Prometheus' `credentials_file`) or the console's session cookie. A missing
/// or unknown token is 401, too low a role 403; neither says anything about the cluster.
struct AdminAuthenticator: RouterMiddleware {
    typealias Context = AdminRequestContext

    /// The console's cookie: HttpOnly (page scripts never see the token), SameSite=Strict.
    static let cookieName = "meridian_admin"

    let tokens: AdminTokens
    let role: AdminRole

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = Self.token(in: request) else {
            return AdminResponses.error(.unauthorized, "an admin token is required: send `Authorization: Bearer <token>` (see `meridian admin token --help`)", challenge: true)
        }
        let principal: AdminPrincipal
        switch tokens.authorize(token, as: role) {
        case .granted(let granted):
            principal = granted
        case .unknownToken:
            return AdminResponses.error(.unauthorized, "the admin token is not valid on this node", challenge: true)
        case .insufficientRole(let holder):
            return AdminResponses.error(.forbidden, "\(holder.name) is a \(holder.role.rawValue); this needs an \(role.rawValue) token")
        }
        var context = context
        context.principal = principal
        return try await next(request, context)
    }

    /// The bearer token, else the session cookie's.
    static func token(in request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return String(parts[1]).trimmingCharacters(in: .whitespaces)
            }
        }
        return request.cookies[cookieName]?.value
    }
}
