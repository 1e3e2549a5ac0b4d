// The public surface of the linearizability tooling: the checker, its models, the history
// readers and the recorder. Named exports only; everything not listed here is internal.
//
// This file must not contain code.

// For applications and tests: record a history, check it, print the result.
export { HistoryRecorder } from "./recorder.js";
export type { HistoryRecorderOptions, RecordOptions, JsonHistoryDocument, JsonHistoryOperation } from "./recorder.js";
export { checkHistory, checkOperations } from "./checker.js";
export type {
  CheckOptions,
  CheckResult,
  Failure,
  HistoryCheckResult,
  PartitionResult,
  UnknownReason,
  Verdict,
} from "./checker.js";
export { describeCheckResult, describeOperationLine, partitionName, verdictText } from "./describe.js";
export type { DescribeOptions } from "./describe.js";
export { registerModel } from "./models/register.js";
export type { RegisterInput, RegisterOutput, RegisterState, RegisterValue } from "./models/register.js";
export { kvModel } from "./models/kv.js";
export type { KvInput, KvOutput, KvState } from "./models/kv.js";

// For tools and custom models: formats, records and the model contract.
export {
  HISTORY_FORMATS,
  JSON_HISTORY_FORMAT,
  JSON_HISTORY_VERSION,
  inferFormat,
  parseEdnLines,
  parseHistory,
  parseJepsenLog,
  parseJsonHistory,
} from "./parse.js";
export type { HistoryFormat } from "./parse.js";
export { eventsToOperations } from "./history.js";
export type { EventType, HistoryEvent, HistoryOperation, HistoryValue, Outcome } from "./history.js";
export { hashString } from "./model.js";
export type { AnyModel, Model, Operation } from "./model.js";
export { HistoryParseError, isHistoryParseError } from "./errors.js";
export type { HistoryParseErrorCode } from "./errors.js";
