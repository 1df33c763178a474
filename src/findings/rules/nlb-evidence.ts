/**
 * Shared wording and evidence for the NLB and layer-2 rules: how a cluster, its hosts and a
 * flooded share are written, and which details every NLB finding carries (mode, cluster IP,
 * hosts, flooded share).
 */
import type { FloodFact, NlbClusterFact, NlbHostFact } from '../../proto/l2/facts.js';

/** Evidence frames listed per finding (counts are in the details). */
export const MAX_FRAMES = 50;

export function pct(x: number): string {
  const p = x * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

export function isoSecond(second: number): string {
  return new Date(second * 1000).toISOString().replace('.000Z', 'Z');
}

export function hostName(h: NlbHostFact): string {
  const who = h.hostIp ?? `masked source ${h.maskedMac}`;
  return `${who} (priority ${h.priority}${h.hostName ? `, ${h.hostName}` : ''})`;
}

export function hostsText(c: NlbClusterFact): string {
  if (c.hosts.length === 0) return 'no host seen';
  return c.hosts.map(hostName).join(', ');
}

export function hostDetails(h: NlbHostFact): Record<string, unknown> {
  return { ip: h.hostIp, priority: h.priority, name: h.hostName, maskedMac: h.maskedMac, heartbeats: h.heartbeats + h.truncatedHeartbeats };
}

export function floodDetails(f: FloodFact): Record<string, unknown> {
  return {
    frames: f.frames, bytes: f.bytes, shareFrames: f.shareFrames, shareBytes: f.shareBytes, shareUnicastFrames: f.shareUnicastFrames,
    seconds: f.perSecond.length, peak: f.peak, firstFrame: f.firstFrame,
  };
}

/** The details every NLB finding carries. */
export function clusterDetails(c: NlbClusterFact): Record<string, unknown> {
  return {
    mode: c.mode, clusterIp: c.clusterIp, clusterMac: c.clusterMac, igmpGroup: c.igmpGroup,
    hosts: c.hosts.map(hostDetails), confirmedBy: c.confirmedBy,
    floodedShare: { frames: c.traffic.shareFrames, bytes: c.traffic.shareBytes },
  };
}

/** "1 234 frames (61% of the frames, 75% of the bytes on this port)" */
export function shareText(f: FloodFact): string {
  return `${f.frames} frame${f.frames === 1 ? '' : 's'} (${pct(f.shareFrames)} of the frames and ${pct(f.shareBytes)} of the bytes this port received)`;
}

export function peakText(f: FloodFact): string {
  if (f.peak === null) return '';
  return ` At the peak, ${isoSecond(f.peak.second)}, ${f.peak.frames} flooded frames made up ${pct(f.peak.shareFrames)} of that second's frames (${pct(f.peak.shareBytes)} of its bytes).`;
}

export function evidenceFrames(...lists: number[][]): number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b).slice(0, MAX_FRAMES);
}
