export {
  DatadogSimulator,
  type DatadogSimulatorOptions,
  type DatadogFaultConfig,
  type IntakeRequestRecord,
  type TruncatedRecord,
  type StaleRecord,
} from './server';
export {
  decodeBody,
  parseItems,
  validateIntake,
  normaliseEncoding,
  type ReceivedLog,
  type AcceptedItem,
  type IntakeResult,
  type IntakeRejection,
  type IntakeAcceptance,
  type IntakeLimits,
} from './intake-validation';
export {
  officialTimestamp,
  parseTimestamp,
  parseIso8601,
  isOutsideIntakeWindow,
  KANDJI_DATE_ATTRIBUTES,
  DEFAULT_TIMESTAMP_ATTRIBUTES,
  type OfficialTimestamp,
} from './timestamps';
export { httpLogErrors, htmlErrorPage, type HTTPLogError, type HTTPLogErrors } from './errors';
export {
  INTAKE_PATH,
  MAX_ITEMS_PER_REQUEST,
  MAX_SINGLE_LOG_BYTES,
  MAX_UNCOMPRESSED_PAYLOAD_BYTES,
  MAX_LOG_AGE_MS,
  MAX_LOG_FUTURE_MS,
} from './limits';
export { LogsIndex, INDEX_NAME, type IndexSettings, type ExclusionFilter, type IngestOutcome } from './logs-index';
export {
  LogsReadApi,
  AGGREGATE_PATH,
  SEARCH_PATH,
  INDEXES_PATH,
  type ReadPermission,
  type ReadFaultKind,
  type ReadRequestRecord,
} from './read-api';
