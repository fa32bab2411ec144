/**
 * Limits of the Datadog Logs HTTP intake (v2), as documented at
 * https://docs.datadoghq.com/api/latest/logs/#send-logs: at most 5 MB per payload (uncompressed),
 * 1 MB per log (a larger one is accepted and truncated) and 1,000 entries per array; 413 for a
 * payload over 5 MB. Datadog writes "5 MB" and "1 MB"; the Agent and Vector use decimal megabytes
 * (5,000,000 B), so the simulator does too.
 */

/** Largest accepted payload, measured after decompression. Larger → 413. */
export const MAX_UNCOMPRESSED_PAYLOAD_BYTES = 5_000_000;

/** Most entries allowed in one JSON array. More → 400. */
export const MAX_ITEMS_PER_REQUEST = 1_000;

/** A single log whose serialized JSON is larger than this is accepted (202) but truncated. */
export const MAX_SINGLE_LOG_BYTES = 1_000_000;

/**
 * Memory guard on the raw (possibly compressed) body as it arrives. An identity body over
 * MAX_UNCOMPRESSED_PAYLOAD_BYTES is already a 413; a compressed body is allowed some head-room
 * because incompressible data grows slightly when "compressed".
 */
export const MAX_RAW_BODY_BYTES_COMPRESSED = 2 * MAX_UNCOMPRESSED_PAYLOAD_BYTES;

export const INTAKE_PATH = '/api/v2/logs';

/**
 * Timestamp window: Datadog accepts (202) but drops logs whose official timestamp is more than
 * 18 h before receipt, or more than 2 h after it ("Log events can be submitted up to 18 hours in the
 * past and two hours in the future":
 * https://docs.datadoghq.com/logs/log_configuration/processors/log_date_remapper/).
 */
export const MAX_LOG_AGE_MS = 18 * 60 * 60 * 1000;
export const MAX_LOG_FUTURE_MS = 2 * 60 * 60 * 1000;
