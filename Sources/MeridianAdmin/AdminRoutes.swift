import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// The admin HTTP's routes (see ``AdminServer``).
struct AdminRoutes: Sendable {
    let tokens: AdminTokens
    let registry: PrometheusCollectorRegistry
    let audit: AuditLog
    let state: AdminState

    func router() -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)

        router.get("healthz") { _, _ in AdminResponses.text(.ok, "ok\n") }
        router.get("readyz") { _, _ in
            if let reason = state.notReadyReason() { return AdminResponses.text(.serviceUnavailable, "not ready: \(reason)\n") }
            return AdminResponses.text(.ok, "ready\n")
        }

        // The console: a login form unless the session cookie holds a valid token.
        router.get("/") { request, _ in
            let signedIn = AdminAuthenticator.token(in: request).flatMap(tokens.principal(for:)) != nil
            return AdminResponses.html(signedIn ? AdminConsole.consolePage : AdminConsole.loginPage(error: nil))
        }
        router.post("login") { request, _ in
            let form = String(buffer: try await request.body.collect(upTo: 4096))
            guard let token = Self.formValue("token", in: form), tokens.principal(for: token) != nil,
                  let cookie = try? Cookie.validated(name: AdminAuthenticator.cookieName, value: token, path: "/", httpOnly: true, sameSite: .strict)
            else {
                return AdminResponses.html(AdminConsole.loginPage(error: "That token is not valid on this node."), status: .unauthorized)
            }
            var response = AdminResponses.redirect(to: "/")
            response.setCookie(cookie)
            return response
        }
        router.post("logout") { _, _ in
            var response = AdminResponses.redirect(to: "/")
            response.setCookie(.init(name: AdminAuthenticator.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }

        router.group("metrics").add(middleware: AdminAuthenticator(tokens: tokens, role: .viewer))
            .get { _, _ in
                AdminResponses.text(.ok, registry.emitToString(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            }

        let api = router.group("api/v1").add(middleware: AdminAuthenticator(tokens: tokens, role: .viewer))
        api.get("whoami") { _, context in AdminResponses.json(context.principal) }
        api.get("cluster") { _, _ in try await answer { try await $0.cluster() } }
        api.get("matches") { _, _ in try await answer { try await $0.matches() } }
        api.get("queues") { _, _ in try await answer { try await $0.queues() } }
        api.get("players/:id") { _, context in
            guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
                return AdminResponses.error(.badRequest, "a player id is a UUID, e.g. /api/v1/players/6f1c0e7e-2b1d-4c55-9a51-1f7d2c0a9b3e")
            }
            return try await answer { queries in
                guard let player = try await queries.player(id) else {
                    return AdminResponses.error(.notFound, "the identity directory has no player \(text.lowercased())")
                }
                return AdminResponses.json(player)
            }
        }
        router.group("api/v1/audit").add(middleware: AdminAuthenticator(tokens: tokens, role: .operator))
            .get { _, _ in AdminResponses.json(await audit.entries()) }
        return router
    }

    /// Runs `query` against the node's queries: 503 while the node starts, 502 when the cluster
    /// could not be asked.
    private func answer(_ query: (any AdminQueries) async throws -> Response) async throws -> Response {
        guard let queries = state.queries else {
            return AdminResponses.error(.serviceUnavailable, "the node is starting; ask again in a moment")
        }
        do {
            return try await query(queries)
        } catch {
            return AdminResponses.error(.badGateway, "the cluster could not answer: \(error)")
        }
    }

    private func answer(_ query: (any AdminQueries) async throws -> some Encodable & Sendable) async throws -> Response {
        try await answer { queries in AdminResponses.json(try await query(queries)) }
    }

    /// The value of `name` in an `application/x-www-form-urlencoded` body.
    static func formValue(_ name: String, in form: String) -> String? {
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
