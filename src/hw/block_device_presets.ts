/**
 * Block-device presets from public datasheets (docs/COST_MODEL.md "Block devices" is the table
 * for humans). SSD datasheets rate 4 KiB random I/O at queue depth 1 in IOPS, which is one
 * request's whole service time; the access latency is that time minus the transfer at the rated
 * bandwidth, so a single request in the model takes exactly 1/IOPS.
 */
import { err, ok, type Result } from '../util/result.js';
import { BLOCK_SIZE, type BlockDeviceSpec } from './block_device.js';

/** Names of the presets. */
export type BlockDevicePresetName = 'hdd' | 'sata-ssd' | 'nvme';

/** A preset: a spec without capacity, the datasheet figures it came from and their source. */
export interface BlockDevicePreset extends Omit<BlockDeviceSpec, 'blocks'> {
  /** The figures as published, before derivation. */
  readonly published: string;
  /** Where they come from. */
  readonly source: string;
}

/** Access latency (µs) such that one 4 KiB request takes 1/`iops` seconds at `mbps` MB/s. */
export function latencyFromQd1Iops(iops: number, mbps: number): number {
  return 1e6 / iops - BLOCK_SIZE / mbps;
}

const PRESETS: Record<BlockDevicePresetName, BlockDevicePreset> = {
  hdd: {
    name: 'hdd',
    // Average seek plus half a revolution at 7200 rpm (60 s / 7200 / 2 = 4.17 ms; the spec says 4.16).
    readLatencyUs: 7_400 + 4_160,
    writeLatencyUs: 8_200 + 4_160,
    readMBps: 193,
    writeMBps: 193,
    // One actuator: NCQ may reorder, but the head serves one request at a time.
    queueDepth: 1,
    // The head is already there: a request queued behind the one ending at its first block streams on.
    sequentialLatencyUs: 0,
    published: 'seek 7.4 ms read / 8.2 ms write, average latency 4.16 ms (7200 rpm); ~193 MB/s sequential',
    source:
      'Western Digital Ultrastar DC HC310 OEM specification rev. 1.4 (2018), Tables 5 and 7; ' +
      'transfer rate: Tom’s Hardware, "Hitachi’s 4 TB Hard Drives Take On The 3 TB Competition" (fastest 7200 rpm drive measured, 193 MB/s)',
  },
  'sata-ssd': {
    name: 'sata-ssd',
    readLatencyUs: latencyFromQd1Iops(10_000, 540),
    writeLatencyUs: latencyFromQd1Iops(40_000, 520),
    readMBps: 540,
    writeMBps: 520,
    // SATA NCQ: at most 32 commands outstanding.
    queueDepth: 32,
    published:
      '4 KiB random QD1: 10,000 IOPS read, 40,000 IOPS write; sequential 540 MB/s read, 520 MB/s write',
    source: 'Samsung SSD 850 EVO 1 TB data sheet (performance as listed by the vendor)',
  },
  nvme: {
    name: 'nvme',
    readLatencyUs: latencyFromQd1Iops(19_000, 3_500),
    writeLatencyUs: latencyFromQd1Iops(60_000, 3_300),
    readMBps: 3_500,
    writeMBps: 3_300,
    queueDepth: 32,
    published:
      '4 KiB random QD1: 19,000 IOPS read, 60,000 IOPS write; QD32: 600,000 / 550,000 IOPS; sequential 3,500 / 3,300 MB/s',
    source: 'Samsung 970 EVO Plus 1 TB data sheet (NVMe 1.3, PCIe 3.0 x4)',
  },
};

/** Every preset name. */
export const BLOCK_DEVICE_PRESET_NAMES: readonly BlockDevicePresetName[] = Object.keys(
  PRESETS,
) as BlockDevicePresetName[];

/** A preset by name. */
export function blockDevicePreset(name: string): Result<BlockDevicePreset, 'UNKNOWN_DEVICE'> {
  const p = (PRESETS as Record<string, BlockDevicePreset | undefined>)[name];
  if (!p) {
    return err(
      'UNKNOWN_DEVICE',
      `unknown block device preset '${name}'; expected one of ${BLOCK_DEVICE_PRESET_NAMES.join(', ')}`,
    );
  }
  return ok(p);
}

/** A spec from a preset and a capacity in blocks. */
export function presetSpec(preset: BlockDevicePreset, blocks: number): BlockDeviceSpec {
  const { published: _p, source: _s, ...perf } = preset;
  return { ...perf, blocks };
}
