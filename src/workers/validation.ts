/** The workers requests' validation: the protos' rules, with ClearML's own subcodes for two of them. */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Subcode } from "../core/errors.js";
import { validateMessage } from "../core/validate.js";

/** CEL rules (by id, as written in the protos) whose violation ClearML reports with its own subcode. */
const SUBCODE_BY_RULE: Readonly<Record<string, number>> = {
  timeout_not_negative: Subcode.invalidTimeout,
  timeout_at_most_7_days: Subcode.invalidTimeout,
  from_date_before_to_date: Subcode.invalidDateRange,
};

/** Enforces the protovalidate rules written in the protos; throws a 400-class ApiError. */
export function validate<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): void {
  validateMessage(schema, message, SUBCODE_BY_RULE);
}
