import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture, type AnalysisResult } from '../../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../../src/analysis/context.js';
import { writeEthernetPcap } from '../../../src/proto/l2/nlb-encode.js';
import type { Packet } from '../../../src/decode/packet.js';
import { decodePacket } from '../../../src/decode/packet.js';

export const T0 = 1_767_607_200_000_000;

/** Runs the whole pipeline over frames built in memory (written to a temporary pcap). */
export async function analyzeFrames(frames: Array<{ ts: number; data: Buffer }>): Promise<AnalysisResult> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-l2-unit-'));
  try {
    const path = join(dir, 'frames.pcap');
    writeEthernetPcap(path, frames);
    return await analyzeCapture(path, DEFAULT_OPTIONS);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A decoded Ethernet frame, numbered as given. */
export function packet(data: Buffer, no = 1, ts = T0): Packet {
  return decodePacket({ no, ts, linkType: 1, caplen: data.length, origLen: data.length, data, iface: 0, offset: 0 });
}
