/**
 * Enforces the protovalidate rules written in the protos, for every service alike: a violation is a
 * 400-class ApiError naming each field at fault.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import { Code } from "@connectrpc/connect";
import { ApiError, invalidArgument, Subcode } from "./errors.js";

const validator = createValidator();

/**
 * Throws unless the message keeps its proto's rules. `subcodeByRule` gives CEL rules (by id) whose
 * violation ClearML reports with a subcode of its own; any other is 400/12.
 */
export function validateMessage<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  subcodeByRule: Readonly<Record<string, number>> = {},
): void {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") return;
  if (result.kind === "error") {
    throw new ApiError(
      Code.Internal,
      Subcode.internal,
      `validation failed: ${result.error.message}`,
    );
  }
  const subcode =
    result.violations.map((v) => subcodeByRule[v.ruleId]).find((s) => s !== undefined) ??
    Subcode.validation;
  throw invalidArgument(result.violations.map(describe).join("; "), subcode);
}

/** "field: message", or the message alone for a rule on the whole request. */
function describe(violation: Violation): string {
  const field = pathToString(violation.field);
  return field === "" ? violation.message : `${field}: ${violation.message}`;
}
