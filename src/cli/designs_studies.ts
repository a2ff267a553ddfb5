/**
 * The studies behind `faultline designs --trust` and `--metadata`. Each loads its simulator when it
 * runs, so the plain `designs` list starts at once.
 */
import { formatTable } from '../report/table.js';
import { DESIGNS, designOptions } from '../sim/designs.js';
import { unwrap } from '../util/result.js';
import { parseIntList } from './io.js';

/** Kinds of rights, in words (`designs --trust`). */
const TRUST_KINDS =
  'call: the caller depends on the callee answering; signal: fire and forget; map: map items into the\n' +
  "receiver's address space (a direct right); page-fault: the kernel sends the thread's page faults there.";

/** `faultline designs --trust`: the rights each design's run of the default workload used. */
export async function designsTrust(json: boolean): Promise<void> {
  const { trustOfDesign } = await import('../sim/trust_run.js');
  const rows = DESIGNS.map((d) => ({ design: d.name, trust: trustOfDesign(d.options) }));
  if (json) {
    process.stdout.write(`${JSON.stringify({ designs: rows })}\n`);
    return;
  }
  const lines = [
    'Rights used by a run of the default workload (app touches memory paged by manager, and its own RAM).',
    TRUST_KINDS,
  ];
  for (const r of rows) {
    lines.push('', r.design);
    const table = formatTable(
      ['from', 'right', 'to', 'used for', 'uses'],
      r.trust.map((e) => [e.from, e.kind, e.to, e.what, e.uses]),
      { align: ['left', 'left', 'left', 'left', 'right'] },
    );
    lines.push(...table.split('\n').map((l) => `  ${l}`));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `faultline designs --metadata`: core and kernel metadata per design as managed dataspaces grow. */
export async function designsMetadata(counts: string, json: boolean): Promise<void> {
  const ns = parseIntList(counts, '--metadata', 100_000, { increasing: true });
  const { metadataPoints } = await import('../sim/metadata_study.js');
  const points = (['genode', 'sync-core-rpc', 'local-rm'] as const).flatMap((d) =>
    metadataPoints(d, unwrap(designOptions(d)), ns),
  );
  if (json) {
    process.stdout.write(`${JSON.stringify({ points })}\n`);
    return;
  }
  const table = formatTable(
    [
      'design',
      'managed dataspaces',
      'core bytes',
      'caps',
      'kernel (MDB) bytes',
      'region lists',
      'total bytes',
      'bytes per dataspace',
    ],
    points.map((p) => [
      p.design,
      p.dataspaces,
      p.coreBytes,
      p.caps,
      p.kernelBytes,
      p.listBytes,
      p.totalBytes,
      p.bytesPerDataspace,
    ]),
  );
  process.stdout.write(
    `Metadata of n managed dataspaces, ${points[0]?.pages ?? 4} pages touched in each (a client, one manager thread per dataspace).\n` +
      "core: charged to the sessions' RAM quotas (region maps, regions, signal contexts); kernel: the mapping\n" +
      "database's nodes; region lists: local-rm's region mappers' lists, RAM of their tasks.\n\n" +
      `${table}\n`,
  );
}
