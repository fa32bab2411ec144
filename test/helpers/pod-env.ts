/**
 * A container's environment as the kubelet builds it from its Pod spec: `envFrom` ConfigMaps, `env` values, Secret
 * and field references (optional ones skipped when missing), and Secret, ConfigMap and projected volumes written as
 * files under `mountsDir`. Their mount paths are remapped to those files in the values that point into them (as
 * `*_FILE` variables do) and in the mounted ConfigMap files (a tenants file naming token files).
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

type Items = { key: string; path: string }[];
interface Source {
  secret?: { secretName?: string; name?: string; items?: Items };
  configMap?: { name: string; items?: Items };
}
type Volume = { name: string; projected?: { sources: Source[] } } & Source;

export interface PodSpec {
  containers: {
    name: string;
    args?: string[];
    envFrom?: { configMapRef?: { name: string } }[];
    env?: EnvVar[];
    volumeMounts?: { name: string; mountPath: string }[];
  }[];
  volumes?: Volume[];
}

export interface PodSources {
  configMaps: Record<string, Data>;
  secrets: Record<string, Data>;
  mountsDir: string;
  nodeName?: string;
}

/** Writes one volume's files into `dir`; returns the ConfigMap files written (their text is remapped later). */
function writeVolume(volume: Volume, sources: PodSources, dir: string): string[] {
  const configFiles: string[] = [];
  for (const s of volume.projected?.sources ?? [volume]) {
    const fromConfig = s.configMap !== undefined;
    const name = s.configMap?.name ?? s.secret?.secretName ?? s.secret?.name;
    if (name === undefined) continue;
    const data = (fromConfig ? sources.configMaps : sources.secrets)[name];
    if (!data) throw new Error(`volume ${volume.name}: ${fromConfig ? 'ConfigMap' : 'Secret'} ${name} is missing`);
    const items = (s.configMap ?? s.secret)!.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) {
      if (data[item.key] === undefined) throw new Error(`volume ${volume.name}: ${name} has no key ${item.key}`);
      fs.writeFileSync(path.join(dir, item.path), data[item.key]!);
      if (fromConfig) configFiles.push(path.join(dir, item.path));
    }
  }
  return configFiles;
}

export function containerEnv(spec: PodSpec, sources: PodSources): Record<string, string> {
  const c = spec.containers[0]!;
  const remap: [string, string][] = [];
  const configFiles: string[] = [];
  for (const m of c.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === m.name);
    if (!volume || !(volume.secret || volume.configMap || volume.projected)) continue;
    const dir = fs.mkdtempSync(path.join(sources.mountsDir, `${m.name}-`));
    fs.chmodSync(dir, 0o755); // readable by the pod's user, as the kubelet's volume (fsGroup) is
    configFiles.push(...writeVolume(volume, sources, dir));
    remap.push([m.mountPath, dir]);
  }
  const remapped = (value: string) => remap.reduce((v, [from, to]) => v.split(`${from}/`).join(`${to}/`), value);
  for (const f of configFiles) fs.writeFileSync(f, remapped(fs.readFileSync(f, 'utf8')));
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
    env[e.name] = fromRef ?? (e.valueFrom?.fieldRef ? (sources.nodeName ?? 'node-1') : (e.value ?? ''));
  }
  for (const [k, v] of Object.entries(env)) env[k] = remapped(v);
  return env;
}
