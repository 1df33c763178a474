/**
 * Writes the evidence slice of a capture: the original file is read again (gzip included)
 * only after its sha256 matched the one recorded at analysis, frames are kept by number, by
 * flow (5-tuple within the flow's first..last frame) or by the layer-2 selector, and the result
 * is written to a temporary name and renamed when complete. One link type: classic pcap with
 * that link type (src/source/pcap-writer.ts). Several (a pcapng mixing interfaces): pcapng, one
 * interface per link type, so no frame has to be dropped or split into a second file.
 * FTP PASS/ACCT arguments are masked in the written bytes (pcap-mask.ts).
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { readCapture } from '../source/open.js';
import type { Frame } from '../source/frame.js';
import { PcapWriter } from '../source/pcap-writer.js';
import { decodePacket, type Packet } from '../decode/packet.js';
import { macText } from '../decode/addr.js';
import { PcapngWriter } from './pcapng-writer.js';
import { maskFtpSecrets } from './pcap-mask.js';
import { ExportError, sha256File } from './capture.js';
import type { SliceSpec } from './slice-spec.js';

export interface SliceResult {
  format: 'pcap' | 'pcapng';
  frames: number;
  linkTypes: number[];
  /** PASS/ACCT arguments overwritten (pcap-mask.ts). */
  maskedSecrets: number;
}

function flowKey(proto: number, a: string, ap: number, b: string, bp: number): string {
  const x = `${a}|${ap}`, y = `${b}|${bp}`;
  return x < y ? `${proto}|${x}|${y}` : `${proto}|${y}|${x}`;
}

/** Decides frame by frame; keeps the state that IP fragments need (later fragments carry no ports). */
class FrameFilter {
  private ranges = new Map<string, Array<[number, number]>>();
  private lo = Infinity;
  private hi = -Infinity;
  private fragments = new Set<string>();
  masked = 0;

  constructor(private spec: SliceSpec) {
    for (const f of spec.flows) {
      const key = flowKey(f.protocol, f.src, f.srcPort, f.dst, f.dstPort);
      const list = this.ranges.get(key) ?? [];
      list.push([f.firstFrame, f.lastFrame]);
      this.ranges.set(key, list);
      this.lo = Math.min(this.lo, f.firstFrame);
      this.hi = Math.max(this.hi, f.lastFrame);
    }
  }

  /** Frames to write (null: not in the slice), FTP secrets masked on control connections. */
  keep(frame: Frame): Buffer | null {
    if (frame.linkType < 0) return null;
    const inFlows = frame.no >= this.lo && frame.no <= this.hi;
    const explicit = this.spec.frames.has(frame.no);
    if (!explicit && !inFlows && this.spec.l2 === null) return null;
    const pkt = decodePacket(frame);
    if (!explicit && !(inFlows && this.onFlow(pkt)) && !(this.spec.l2 !== null && this.onL2(pkt))) return null;
    const { data, masked } = maskFtpSecrets(pkt);
    this.masked += masked;
    return data;
  }

  private onFlow(pkt: Packet): boolean {
    const net = pkt.net;
    if (net === null || net.kind === 'arp') return false;
    const t = pkt.transport;
    const fragId = net.kind === 'ipv4' ? net.id : net.fragment?.id ?? -1;
    const fragKey = `${net.src}|${net.dst}|${net.protocol}|${fragId}`;
    if (t === null) return pkt.fragment && this.fragments.has(fragKey);
    const [sp, dp] = t.kind === 'tcp' || t.kind === 'udp' ? [t.srcPort, t.dstPort] : [0, 0];
    const ranges = this.ranges.get(flowKey(net.protocol, net.src, sp, net.dst, dp));
    const hit = ranges?.some(([a, b]) => pkt.frame.no >= a && pkt.frame.no <= b) ?? false;
    if (hit && pkt.fragment) this.fragments.add(fragKey);
    return hit;
  }

  private onL2(pkt: Packet): boolean {
    const sel = this.spec.l2!;
    const link = pkt.link;
    if (link === null) return false;
    if (sel.etherTypes.has(link.etherType)) return true;
    if ((link.dst >= 0 && sel.macs.has(macText(link.dst))) || (link.src >= 0 && sel.macs.has(macText(link.src)))) return true;
    const net = pkt.net;
    if (net?.kind === 'arp') return sel.arpIps.has(net.senderIp) || sel.arpIps.has(net.targetIp);
    return net !== null && sel.ipDsts.has(net.dst);
  }
}

export async function writeSlice(source: string, expectedSha: string, linkTypes: number[], spec: SliceSpec, out: string): Promise<SliceResult> {
  if (!existsSync(source)) {
    throw new ExportError(`the capture file ${source} is not there any more; give its new place with --capture FILE (matched by sha256)`);
  }
  const before = await sha256File(source);
  if (before !== expectedSha) {
    throw new ExportError(`${source} changed since it was analysed (sha256 now ${before}, recorded ${expectedSha}); give the original file with --capture FILE`);
  }
  const real = [...new Set(linkTypes.filter((l) => l >= 0))];
  if (real.length === 0) throw new ExportError(`${source} has no packets to slice`);
  const format = real.length > 1 ? 'pcapng' : 'pcap';
  const tmp = `${out}.partial-${process.pid}`;
  const writer = format === 'pcap' ? new PcapWriter(tmp, real[0]) : new PcapngWriter(tmp);
  const filter = new FrameFilter(spec);
  let kept = 0;
  let open = true;
  const close = (): void => { if (open) { open = false; writer.close(); } };
  try {
    const result = await readCapture(source, {
      frame: (f) => {
        const data = filter.keep(f);
        if (data === null) return;
        if (writer instanceof PcapWriter) writer.write(f.ts, data, f.origLen);
        else writer.write(f.ts, f.linkType, data, f.origLen);
        kept++;
      },
      // The damage was reported when the capture was analysed; the slice takes what can be read.
      warning: () => undefined,
    });
    close();
    if (result.sha256 !== expectedSha) throw new ExportError(`${source} changed while it was being sliced; try again`);
    renameSync(tmp, out);
  } catch (e) {
    close();
    rmSync(tmp, { force: true });
    throw e;
  }
  return { format, frames: kept, linkTypes: real, maskedSecrets: filter.masked };
}
