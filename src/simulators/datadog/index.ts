export {
  DatadogSimulator,
  type DatadogSimulatorOptions,
  type DatadogFaultConfig,
  type IntakeRequestRecord,
  type TruncatedRecord,
} from './server';
export {
  decodeBody,
  parseItems,
  validateIntake,
  normaliseEncoding,
  type LogItem,
  type AcceptedItem,
  type IntakeResult,
  type IntakeRejection,
  type IntakeAcceptance,
} from './intake-validation';
export { httpLogErrors, htmlErrorPage, type HTTPLogError, type HTTPLogErrors } from './errors';
export {
  INTAKE_PATH,
  MAX_ITEMS_PER_REQUEST,
  MAX_SINGLE_LOG_BYTES,
  MAX_UNCOMPRESSED_PAYLOAD_BYTES,
} from './limits';
