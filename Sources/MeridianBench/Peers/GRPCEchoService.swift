import GRPCCore
import GRPCProtobuf
import SwiftProtobuf

/// The unary gRPC method `meridian.bench.Echo/Echo`: returns the request message.
///
/// Registered by hand instead of generated from a `.proto`: request and response are the
/// well-known `google.protobuf.BytesValue`, whose Swift type ships with SwiftProtobuf, so the
/// benchmark needs no generated code and no `protoc` run.
struct GRPCEchoService: RegistrableRPCService {
    static let echo = MethodDescriptor(
        service: ServiceDescriptor(package: "meridian.bench", service: "Echo"),
        method: "Echo",
        type: .unary
    )

    init() {}

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.echo,
            deserializer: ProtobufDeserializer<Google_Protobuf_BytesValue>(),
            serializer: ProtobufSerializer<Google_Protobuf_BytesValue>()
        ) { request, _ in
            // What a generated unary handler does: collect the single message, answer once.
            let single = try await ServerRequest(stream: request)
            return StreamingServerResponse(single: ServerResponse(message: single.message))
        }
    }
}
