export {
  KandjiSimulator,
  AUDIT_EVENTS_PATH,
  DETECTIONS_PATH,
  THREAT_DETAILS_PATH,
  BEHAVIORAL_DETECTIONS_PATH,
  MAX_LIMIT,
  DETECTIONS_MAX_SIZE,
  THREATS_MAX_LIMIT,
} from './server';
export type { KandjiSimulatorOptions, KandjiFeatures, RecordedRequest } from './server';
export {
  DetectionStore,
  DETECTION_FIELDS,
  detectionIdentity,
  isLegacyDetectionRow,
  parseDetectionFilter,
  encodeDetectionCursor,
  decodeDetectionCursor,
} from './detection-store';
export type {
  DetectionRow,
  CurrentDetectionRow,
  LegacyDetectionRow,
  DetectionFieldSet,
  DetectionFilter,
  DetectionStoreOptions,
  DetectionPageQuery,
  DetectionPage,
} from './detection-store';
export {
  ThreatStore,
  threatIdentity,
  naiveToMicros,
  THREAT_SORT_FIELDS,
  THREAT_STATUSES,
  DEFAULT_THREAT_SORT,
} from './threat-store';
export type {
  ThreatRecord,
  ThreatClassification,
  ThreatStatus,
  ThreatSortField,
  ThreatSortBy,
  ThreatQuery,
  ThreatQueryResult,
  ThreatKey,
  StatusChangeOptions,
} from './threat-store';
export { AuditStore, AUDIT_SORT_BY, LONG_TIE_RUN } from './audit-store';
export type { AuditSortBy, AuditQuery, BacklogOptions, LiveOptions, StoredEvent } from './audit-store';
export { AuditRecordFactory, AUDIT_TARGET_TYPES, ulid } from './audit-records';
export type { AuditRecord, AuditTargetType, MakeRecordOptions } from './audit-records';
export { encodeCursor, decodeCursor } from './cursor';
export type { KeysetPosition } from './cursor';
export { formatMicros, formatNaiveMicros, parseInstant, OCCURRED_AT_RE, NAIVE_TIMESTAMP_RE } from './time';
export type { ParsedInstant } from './time';
export { BehavioralStore, BEHAVIORAL_STATUSES, BEHAVIORAL_SORT_FIELDS, formatZonedMicros } from './behavioral-store';
export type { BehavioralRecord, BehavioralStatus, BehavioralClassification } from './behavioral-store';
export { BEHAVIORAL_MAX_LIMIT } from './behavioral-page';
