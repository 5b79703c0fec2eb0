import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate authority made at test time (nothing secret is committed): it issues node
/// certificates (naming a node id) and server certificates (naming loopback addresses).
public struct TestCertificateAuthority: Sendable {
    private let key: P256.Signing.PrivateKey
    public let certificate: Certificate

    public init(name: String = "Meridian test CA") throws {
        key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key)
        )
    }

    /// The CA's certificate, for trust roots.
    public var trustRoot: NIOSSLCertificate {
        get throws { try Self.nio(certificate) }
    }

    /// A certificate and its key, as NIOSSL objects and as PEM text.
    public struct Issued: Sendable {
        public var chain: [NIOSSLCertificate]
        public var key: NIOSSLPrivateKey
        public var certificatePEM: String
        public var keyPEM: String

        /// Writes `<name>.crt` and `<name>.key` in `directory` (for commands that read files).
        public func write(to directory: URL, name: String) throws -> (certificate: String, key: String) {
            let certificate = directory.appendingPathComponent("\(name).crt").path
            let key = directory.appendingPathComponent("\(name).key").path
            try certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
            try keyPEM.write(toFile: key, atomically: true, encoding: .utf8)
            return (certificate, key)
        }
    }

    /// A certificate and key signed by this CA.
    /// - Parameters:
    ///   - uris: URI subject alternative names (a node's `urn:meridian:node:<id>`).
    ///   - ipAddresses: IPv4 addresses the certificate is valid for (a gateway at 127.0.0.1).
    public func issue(commonName: String, uris: [String] = [], ipAddresses: [[UInt8]] = [], dnsNames: [String] = []) throws -> Issued {
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        let names = uris.map { GeneralName.uniformResourceIdentifier($0) }
            + ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
            + dnsNames.map { GeneralName.dnsName($0) }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: certificate.subject,
            subject: try DistinguishedName { CommonName(commonName) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key)
        )
        let keyPEM = leafKey.pemRepresentation + "\n"
        return Issued(
            chain: [try Self.nio(leaf)], key: try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem),
            certificatePEM: try Self.pem(leaf), keyPEM: keyPEM
        )
    }

    /// Writes the CA's certificate as `ca.crt` in `directory`.
    public func writeTrustRoot(to directory: URL) throws -> String {
        let path = directory.appendingPathComponent("ca.crt").path
        try Self.pem(certificate).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    private static func nio(_ certificate: Certificate) throws -> NIOSSLCertificate {
        try NIOSSLCertificate(bytes: der(certificate), format: .der)
    }

    private static func pem(_ certificate: Certificate) throws -> String {
        PEMDocument(type: "CERTIFICATE", derBytes: try der(certificate)).pemString + "\n"
    }
}
