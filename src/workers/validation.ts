import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import { Code } from "@connectrpc/connect";
import { ApiError, invalidArgument, Subcode } from "../core/errors.js";

/** CEL rules (by id, as written in the protos) whose violation ClearML reports with its own subcode. */
const SUBCODE_BY_RULE: Readonly<Record<string, number>> = {
  timeout_not_negative: Subcode.invalidTimeout,
  timeout_at_most_7_days: Subcode.invalidTimeout,
  from_date_before_to_date: Subcode.invalidDateRange,
};

const validator = createValidator();

/** Enforces the protovalidate rules written in the protos; throws a 400-class ApiError. */
export function validate<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
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
    result.violations.map((v) => SUBCODE_BY_RULE[v.ruleId]).find((s) => s !== undefined) ??
    Subcode.validation;
  throw invalidArgument(result.violations.map(describe).join("; "), subcode);
}

/** "field: message", or the message alone for a rule on the whole request. */
function describe(violation: Violation): string {
  const field = pathToString(violation.field);
  return field === "" ? violation.message : `${field}: ${violation.message}`;
}
