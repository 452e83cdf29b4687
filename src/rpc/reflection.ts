import {
  create,
  createRegistry,
  type DescFile,
  type DescService,
  fromBinary,
  type Registry,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
  ServerReflection as ServerReflectionV1,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1Alpha,
  ServerReflectionRequestSchema as V1AlphaRequestSchema,
  ServerReflectionResponseSchema as V1AlphaResponseSchema,
} from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/**
 * gRPC server reflection (v1 and the v1alpha that older grpcurl builds ask for) for the given
 * services, answered from the descriptors compiled into the generated code.
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const all = [...services, ServerReflectionV1, ServerReflectionV1Alpha];
  const reflector = new Reflector(all);
  router.service(ServerReflectionV1, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) yield reflector.answer(request);
    },
  });
  // v1alpha is the same wire format under another package: translate through bytes.
  router.service(ServerReflectionV1Alpha, {
    async *serverReflectionInfo(requests) {
      for await (const alpha of requests) {
        const request = fromBinary(
          ServerReflectionRequestSchema,
          toBinary(V1AlphaRequestSchema, alpha),
        );
        const response = reflector.answer(request);
        yield fromBinary(V1AlphaResponseSchema, toBinary(ServerReflectionResponseSchema, response));
      }
    },
  });
}

class Reflector {
  private readonly services: string[];
  private readonly files = new Map<string, DescFile>();
  private readonly registry: Registry;

  constructor(services: readonly DescService[]) {
    this.services = services.map((s) => s.typeName).sort();
    for (const service of services) this.addFile(service.file);
    this.registry = createRegistry(...this.files.values());
  }

  answer(request: ServerReflectionRequest): ServerReflectionResponse {
    const base = { validHost: request.host, originalRequest: request };
    const ask = request.messageRequest;
    switch (ask.case) {
      case "listServices":
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "listServicesResponse",
            value: { service: this.services.map((name) => ({ name })) },
          },
        });
      case "fileByFilename":
        return this.fileResponse(base, this.files.get(ask.value), `file ${ask.value}`);
      case "fileContainingSymbol":
        return this.fileResponse(base, this.fileOfSymbol(ask.value), `symbol ${ask.value}`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = ask.value;
        const extendee = this.registry.getMessage(containingType);
        const extension = extendee && this.registry.getExtensionFor(extendee, extensionNumber);
        const what = `extension ${extensionNumber} of ${containingType}`;
        return this.fileResponse(base, extension?.file, what);
      }
      case "allExtensionNumbersOfType": {
        if (this.registry.getMessage(ask.value) === undefined) {
          return this.error(base, NOT_FOUND, `type ${ask.value} not found`);
        }
        const numbers: number[] = [];
        for (const desc of this.registry) {
          if (desc.kind === "extension" && desc.extendee.typeName === ask.value) {
            numbers.push(desc.number);
          }
        }
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: ask.value, extensionNumber: numbers.sort((a, b) => a - b) },
          },
        });
      }
      default:
        return this.error(base, INVALID_ARGUMENT, "unsupported reflection request");
    }
  }

  private addFile(file: DescFile): void {
    const name = `${file.name}.proto`;
    if (this.files.has(name)) return;
    this.files.set(name, file);
    for (const dependency of file.dependencies) this.addFile(dependency);
  }

  /** A message, enum, service or extension by full name; a method or field by its parent's. */
  private fileOfSymbol(symbol: string): DescFile | undefined {
    const desc = this.registry.get(symbol);
    if (desc !== undefined) return desc.file;
    const parent = symbol.slice(0, Math.max(0, symbol.lastIndexOf(".")));
    return parent === "" ? undefined : this.registry.get(parent)?.file;
  }

  /** The file with every file it imports, as clients need them all to resolve its types. */
  private fileResponse(
    base: Pick<ServerReflectionResponse, "validHost" | "originalRequest">,
    file: DescFile | undefined,
    what: string,
  ): ServerReflectionResponse {
    if (file === undefined) return this.error(base, NOT_FOUND, `${what} not found`);
    const closure = new Map<string, DescFile>();
    const collect = (f: DescFile) => {
      if (closure.has(f.name)) return;
      closure.set(f.name, f);
      for (const d of f.dependencies) collect(d);
    };
    collect(file);
    return create(ServerReflectionResponseSchema, {
      ...base,
      messageResponse: {
        case: "fileDescriptorResponse",
        value: {
          fileDescriptorProto: [...closure.values()].map((f) =>
            toBinary(FileDescriptorProtoSchema, f.proto),
          ),
        },
      },
    });
  }

  private error(
    base: Pick<ServerReflectionResponse, "validHost" | "originalRequest">,
    errorCode: number,
    errorMessage: string,
  ): ServerReflectionResponse {
    return create(ServerReflectionResponseSchema, {
      ...base,
      messageResponse: { case: "errorResponse", value: { errorCode, errorMessage } },
    });
  }
}
