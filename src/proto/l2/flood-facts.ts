/**
 * Turns destination tallies into flood facts: totals, shares of what the port saw, and the
 * per-second series (flooded frames and bytes next to everything seen in that second).
 */
import type { DestinationTally, FloodMeter } from './flood-meter.js';
import { macToString } from './cluster-mac.js';
import type { CountedAddress, FloodFact, FloodSecond, UnknownDestinationFact } from './facts.js';
import { emptyFloodFact } from './facts.js';

const SAMPLE_FRAMES = 20;
export const MAX_LISTED = 20;

export function floodFact(tallies: DestinationTally[], meter: FloodMeter, unicast: boolean): FloodFact {
  const f = emptyFloodFact();
  const live = tallies.filter((t) => t.frames > 0);
  if (live.length === 0) {
    f.shareUnicastFrames = unicast ? 0 : null;
    return f;
  }
  const cells = new Map<number, number[]>();
  const samples: number[] = [];
  let firstTs = Infinity;
  for (const t of live) {
    f.frames += t.frames;
    f.bytes += t.bytes;
    f.firstFrame = f.firstFrame === null ? t.firstFrame : Math.min(f.firstFrame, t.firstFrame);
    f.lastFrame = f.lastFrame === null ? t.lastFrame : Math.max(f.lastFrame, t.lastFrame);
    firstTs = Math.min(firstTs, t.firstTs);
    samples.push(...t.sampleFrames);
    for (const [sec, [n, b]] of t.perSecond) {
      const c = cells.get(sec);
      if (c) { c[0] += n; c[1] += b; } else cells.set(sec, [n, b]);
    }
  }
  f.firstTs = firstTs;
  f.sampleFrames = [...new Set(samples)].sort((a, b) => a - b).slice(0, SAMPLE_FRAMES);
  f.shareFrames = ratio(f.frames, meter.frames);
  f.shareBytes = ratio(f.bytes, meter.bytes);
  f.shareUnicastFrames = unicast ? ratio(f.frames, meter.unicastFrames) : null;
  const perSecond: FloodSecond[] = [];
  for (const [second, [frames, bytes]] of cells) {
    const total = meter.seconds.get(second);
    perSecond.push({ second, frames, bytes, totalFrames: total?.frames ?? frames, totalBytes: total?.bytes ?? bytes });
  }
  perSecond.sort((a, b) => a.second - b.second);
  f.perSecond = perSecond;
  let peak: FloodSecond | null = null;
  // The second where the flood weighed most on the port; among equals, the busiest one.
  for (const s of perSecond) {
    const share = ratio(s.frames, s.totalFrames);
    const best = peak === null ? -1 : ratio(peak.frames, peak.totalFrames);
    if (peak === null || share > best || (share === best && s.frames > peak.frames)) peak = s;
  }
  if (peak !== null) {
    f.peak = { second: peak.second, frames: peak.frames, bytes: peak.bytes, shareFrames: ratio(peak.frames, peak.totalFrames), shareBytes: ratio(peak.bytes, peak.totalBytes) };
  }
  return f;
}

export function unknownDestination(t: DestinationTally): UnknownDestinationFact {
  return {
    mac: t.mac < 0 ? '(overflow)' : macToString(t.mac), frames: t.frames, bytes: t.bytes, firstFrame: t.firstFrame, lastFrame: t.lastFrame,
    ipDestinations: counted(t.dstIps), sources: counted(new Map([...t.srcMacs].map(([m, n]) => [macToString(m), n]))),
  };
}

/** Most frequent first, at most MAX_LISTED. */
export function counted(m: Map<string, number>): CountedAddress[] {
  return [...m].map(([address, frames]) => ({ address, frames })).sort((a, b) => b.frames - a.frames || a.address.localeCompare(b.address)).slice(0, MAX_LISTED);
}

export function ratio(n: number, d: number): number {
  return d === 0 ? 0 : n / d;
}
