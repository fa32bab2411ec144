/**
 * A container's environment as the kubelet builds it from its Pod spec: `envFrom` ConfigMaps, `env` values, Secret
 * and field references (optional ones skipped when missing), and Secret volumes written as files under `mountsDir`
 * (their mount paths remapped in the values that point into them, as `*_FILE` variables do).
 */
import fs from 'node:fs';
import path from 'node:path';

type Data = Record<string, string>;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

export interface PodSpec {
  containers: {
    name: string;
    args?: string[];
    envFrom?: { configMapRef?: { name: string } }[];
    env?: EnvVar[];
    volumeMounts?: { name: string; mountPath: string }[];
  }[];
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}

export function containerEnv(
  spec: PodSpec,
  sources: { configMaps: Record<string, Data>; secrets: Record<string, Data>; mountsDir: string; nodeName?: string },
): Record<string, string> {
  const c = spec.containers[0]!;
  const remap: [string, string][] = [];
  for (const m of c.volumeMounts ?? []) {
    const secret = spec.volumes?.find((v) => v.name === m.name)?.secret;
    if (!secret) continue;
    const data = sources.secrets[secret.secretName] ?? {};
    const dir = fs.mkdtempSync(path.join(sources.mountsDir, `${m.name}-`));
    const items = secret.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) fs.writeFileSync(path.join(dir, item.path), data[item.key]!);
    remap.push([m.mountPath, dir]);
  }
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? [])
    if (from.configMapRef) Object.assign(env, sources.configMaps[from.configMapRef.name]);
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    const store = e.valueFrom?.secretKeyRef ? sources.secrets : sources.configMaps;
    const fromRef = ref ? store[ref.name]?.[ref.key] : undefined;
    if (ref && fromRef === undefined) {
      if (ref.optional) continue;
      throw new Error(`${e.name}: ${ref.name}/${ref.key} is missing`);
    }
    let value = fromRef ?? (e.valueFrom?.fieldRef ? (sources.nodeName ?? 'node-1') : (e.value ?? ''));
    for (const [from, to] of remap) if (value.startsWith(`${from}/`)) value = to + value.slice(from.length);
    env[e.name] = value;
  }
  return env;
}
