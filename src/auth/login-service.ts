/**
 * `auth.login` / `muster.auth.v1.AuthService/Login`: the request checked against the proto's rules,
 * then a token for what the Authorization header proves. The edges pass the header, which only
 * this call needs beyond the identity.
 */
import { create } from "@bufbuild/protobuf";
import { validateMessage } from "../core/validate.js";
import {
  type LoginRequest,
  LoginRequestSchema,
  type LoginResponse,
  LoginResponseSchema,
} from "../gen/muster/auth/v1/auth_pb.js";
import type { Authenticator } from "./authenticator.js";

export class LoginService {
  constructor(private readonly authenticator: Authenticator) {}

  async login(request: LoginRequest, authorization: string | undefined): Promise<LoginResponse> {
    validateMessage(LoginRequestSchema, request);
    const token = await this.authenticator.login(authorization, request.expirationSec);
    return create(LoginResponseSchema, { token });
  }
}
