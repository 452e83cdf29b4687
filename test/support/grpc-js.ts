import {
  type DescMessage,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

/** A @grpc/grpc-js client for a service, (de)serializing with the generated protobuf-es schemas. */
export function grpcJsClient(service: DescService, address: string): grpc.Client {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream:
        method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream:
        method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (message) => Buffer.from(toBinary(method.input, message as never)),
      requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
      responseSerialize: (message) => Buffer.from(toBinary(method.output, message as never)),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
      originalName: method.localName,
    };
  }
  const Client = grpc.makeGenericClientConstructor(definition, service.name);
  return new Client(address, grpc.credentials.createInsecure());
}

/** Calls a unary method; rejects with the grpc-js ServiceError. */
export function unary<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: DescMethodUnary<I, O>,
  request: MessageShape<I>,
): Promise<{ response: MessageShape<O>; trailers: grpc.Metadata | undefined }> {
  return new Promise((resolve, reject) => {
    let trailers: grpc.Metadata | undefined;
    const call = client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
      (b: Buffer) => fromBinary(method.output, b),
      request,
      (error, response) => {
        if (error) reject(error);
        else resolve({ response: response as MessageShape<O>, trailers });
      },
    );
    call.on("status", (status) => {
      trailers = status.metadata;
    });
  });
}
