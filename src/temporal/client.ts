/** A Temporal client for the CLI and tests, with the service's data converter and connection settings (TLS, API key). */
import { Client, Connection } from '@temporalio/client';
import type { TemporalConfig } from '../config/env';
import { connectionOptions } from './connection';
import { buildDataConverter } from './data-converter';

export async function connectClient(temporal: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(temporal), connectTimeout: 5_000 });
  return new Client({ connection, namespace: temporal.namespace, dataConverter: buildDataConverter(temporal.encryptionKeys ?? temporal.encryptionKey) });
}
