import Foundation
import Hummingbird
import NIOCore

/// The admin HTTP's response shapes: JSON (never cached), plain text, HTML pages.
enum AdminResponses {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            return text(.internalServerError, "the answer could not be encoded as JSON\n")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `{"error": message}`; a 401 also names the scheme (`WWW-Authenticate: Bearer`).
    static func error(_ status: HTTPResponse.Status, _ message: String, challenge: Bool = false) -> Response {
        var response = json(["error": message], status: status)
        if challenge { response.headers[.wwwAuthenticate] = "Bearer realm=\"meridian\"" }
        return response
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = text(status, body, contentType: "text/html; charset=utf-8")
        // The pages load nothing from elsewhere and are never framed.
        response.headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        return response
    }

    static func redirect(to location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }
}
