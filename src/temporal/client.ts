/** A Temporal client for the CLI and tests, with the service's data converter and connection settings (TLS, API key). */
import { Client, Connection } from '@temporalio/client';
import { connectionOptions } from './connection';
import { buildDataConverter } from './data-converter';
import type { TemporalConfig } from '../config/env';

export async function connectClient(temporal: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(temporal), connectTimeout: 5_000 });
  return new Client({
    connection,
    namespace: temporal.namespace,
    dataConverter: buildDataConverter(temporal.encryptionKeys ?? temporal.encryptionKey),
  });
}
