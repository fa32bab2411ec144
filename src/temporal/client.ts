/** A Temporal client for the CLI and tests, with the service's data converter. */
import { Client, Connection } from '@temporalio/client';
import type { TemporalConfig } from '../config/env';
import { buildDataConverter } from './data-converter';

export async function connectClient(temporal: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect({ address: temporal.address, connectTimeout: 5_000 });
  return new Client({ connection, namespace: temporal.namespace, dataConverter: buildDataConverter(temporal.encryptionKeys ?? temporal.encryptionKey) });
}
