/**
 * The simulated world of the demo and of the compose stack's `simulators` profile: a Kandji tenant with 16 hours of
 * audit backlog, a live trickle (2 events/s, a few of them late), detections, threats and behavioral detections that
 * churn now and then,
 * and a Datadog intake.
 */
import { DatadogSimulator } from './datadog';
import { KandjiSimulator } from './kandji';

export interface DemoWorld {
  kandji: KandjiSimulator;
  datadog: DatadogSimulator;
  stop(): Promise<void>;
}

export async function startDemoWorld(opts: {
  kandjiToken: string;
  datadogApiKey: string;
  kandjiPort?: number;
  datadogPort?: number;
}): Promise<DemoWorld> {
  const now = Date.now();
  const kandji = await KandjiSimulator.start({
    port: opts.kandjiPort,
    tokens: [opts.kandjiToken],
    seed: 42,
    backlog: { count: 3_000, from: new Date(now - 16 * 3_600_000), to: new Date(now - 5_000) },
    detections: { count: 2_000 },
    threats: { count: 300, from: new Date(now - 30 * 86_400_000), to: new Date(now - 60_000) },
    behavioralDetections: { count: 200, from: new Date(now - 10 * 86_400_000), to: new Date(now - 60_000) },
  });
  kandji.audit.startLive({ perSecond: 2, lateFraction: 0.02 });
  // Now and then vulnerabilities get patched or found, threats get released, and process chains get detected (or
  // blocked).
  const churn = setInterval(() => {
    kandji.detections.randomChurn({ add: 5, remove: 3 });
    kandji.threats.add(1);
    const quarantined = kandji.threats.all().find((t) => t.status === 'QUARANTINED');
    if (quarantined)
      kandji.threats.changeStatus({ device_id: quarantined.device_id, file_hash: quarantined.file_hash }, 'RELEASED');
    kandji.behavioral.add(1);
    const detected = kandji.behavioral.all().find((d) => d.threat_status === 'detected');
    if (detected) kandji.behavioral.changeStatus(detected.id, 'blocked');
  }, 20_000);
  const datadog = await DatadogSimulator.start({ port: opts.datadogPort, apiKeys: [opts.datadogApiKey] });
  return {
    kandji,
    datadog,
    stop: async () => {
      clearInterval(churn);
      await Promise.all([kandji.stop(), datadog.stop()]);
    },
  };
}
