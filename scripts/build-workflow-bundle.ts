/**
 * Part of `npm run build`: bundles the (compiled) workflow code once, ahead of time, into dist/workflow-bundle.js.
 * The worker loads it with `workflowBundle: { codePath }` instead of running webpack at every start
 * (as in temporalio/samples-typescript `production/`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { DEFAULT_WORKFLOW_BUNDLE } from '../src/processes/worker/process-options';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  // Compiled, this runs from dist/scripts/; the worker looks for the bundle at dist/workflow-bundle.js.
  const out = process.argv[2] ?? DEFAULT_WORKFLOW_BUNDLE;
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, code);
  process.stdout.write(
    `workflow bundle: ${path.relative(process.cwd(), out)} (${(code.length / 1024).toFixed(0)} KiB)\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bundling failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
