/**
 * Tunnels: recorded FTP sessions from the NAT lab (real vsftpd and curl, real Linux NAT) put
 * inside the encapsulations overlays and traffic mirroring deliver captures in: VXLAN, Geneve,
 * GRE carrying Ethernet or IP (with key and sequence number), ERSPAN types I, II and III. tshark
 * must read the same inner TCP segments from every wrapped file as from the original (so the
 * wrapping is what those formats are), and faultline the same flows, FTP sessions, ARP
 * bindings and findings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../../src/source/open.js';
import { PcapWriter } from '../../src/source/pcap-writer.js';
import { LINKTYPE } from '../../src/source/frame.js';
import { decodePacket } from '../../src/decode/packet.js';
import { analyzeCapture, type AnalysisResult } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import type { Flow } from '../../src/flow/flow.js';
import { repoRoot } from '../helpers.js';
import { tshark } from '../tshark.js';

const OUTER_SRC = '192.0.2.1', OUTER_DST = '192.0.2.2';

function ipv4Header(proto: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payloadLength, 2);
  h[8] = 64;
  h[9] = proto;
  OUTER_SRC.split('.').forEach((x, i) => { h[12 + i] = Number(x); });
  OUTER_DST.split('.').forEach((x, i) => { h[16 + i] = Number(x); });
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return h;
}

/** Outer Ethernet + IPv4 (+ UDP to `udpPort`, checksum 0 as IPv4 allows) around a tunnel header and its payload. */
function outer(proto: 'udp' | 'gre', tunnelHeader: Buffer, payload: Buffer, udpPort = 0): Buffer {
  let l4 = Buffer.concat([tunnelHeader, payload]);
  if (proto === 'udp') {
    const u = Buffer.alloc(8);
    u.writeUInt16BE(49152, 0);
    u.writeUInt16BE(udpPort, 2);
    u.writeUInt16BE(8 + l4.length, 4);
    l4 = Buffer.concat([u, l4]);
  }
  const eth = Buffer.from('0200000000020200000000010800', 'hex');
  return Buffer.concat([eth, ipv4Header(proto === 'udp' ? 17 : 47, l4.length), l4]);
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

/** Each encapsulation: how a captured Ethernet frame is wrapped (null: written as it was). */
const WRAPS: Record<string, (frame: Buffer) => Buffer | null> = {
  vxlan: (f) => outer('udp', hex('08000000 00123400'), f, 4789),
  geneve: (f) => outer('udp', hex('00006558 00123400'), f, 6081),
  'gre-ethernet': (f) => outer('gre', hex('00006558'), f),
  // Key and sequence number present (RFC 2890): 4 + 4 + 4 bytes of GRE header.
  'gre-ip-key-seq': (f) => (f.readUInt16BE(12) === 0x0800 ? outer('gre', hex('30000800 0000002a 00000001'), f.subarray(14)) : null),
  'erspan-1': (f) => outer('gre', hex('000088be'), f),
  'erspan-2': (f) => outer('gre', hex('100088be 00000007 10010064 00000000'), f),
  // Type III with the O bit: 12 bytes, then an 8-byte platform subheader.
  'erspan-3': (f) => outer('gre', hex('100022eb 00000007 20010064 00000000 00000001 00000000 00000000'), f),
};

async function frames(path: string): Promise<Array<{ ts: number; data: Buffer }>> {
  const out: Array<{ ts: number; data: Buffer }> = [];
  await readCapture(path, { frame: (f) => { out.push({ ts: f.ts, data: Buffer.from(f.data) }); }, warning: () => undefined });
  return out;
}

function wrapFile(src: Array<{ ts: number; data: Buffer }>, wrap: (f: Buffer) => Buffer | null, out: string): void {
  const w = new PcapWriter(out, LINKTYPE.ETHERNET);
  for (const f of src) w.write(f.ts, wrap(f.data) ?? f.data);
  w.close();
}

/** Every TCP segment tshark reads, innermost layer: stream, ports, length, FTP command. */
function innerSegments(path: string): string[] {
  return tshark(['-r', path, '-T', 'fields', '-E', 'occurrence=l', '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'tcp.srcport',
    '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'tcp.len', '-e', 'ftp.request.command', '-Y', 'tcp']).split('\n').filter(Boolean);
}

function flowView(flows: Flow[]): string[] {
  return flows.map((f) => `${f.index} ${f.protocol} ${f.srcIp}:${f.srcPort} ${f.dstIp}:${f.dstPort} ${f.packets} ${f.payloadBytes} ${f.firstFrame}-${f.lastFrame} ${f.app ?? ''}`);
}

async function analyzed(path: string): Promise<{ flows: string[]; result: AnalysisResult }> {
  const flows: Flow[] = [];
  const result = await analyzeCapture(path, DEFAULT_OPTIONS, { flowSink: { flow: (f) => flows.push(f) } });
  return { flows: flowView(flows.sort((a, b) => a.index - b.index)), result };
}

function ftpView(r: AnalysisResult): unknown {
  return r.facts.ftp.sessions.map((s) => ({
    flow: s.flow, client: s.client, server: s.server, user: s.user, login: s.login,
    commands: s.commands.map((c) => `${c.verb} ${c.final?.code ?? ''}`),
    channels: s.channels.map((c) => `${c.kind} ${c.announcedIp}:${c.announcedPort} ${c.outcome} ${c.observed?.flow ?? ''}`),
  }));
}

const findingView = (r: AnalysisResult): string[] => r.findings.map((f) => `${f.code} ${f.frames.join(',')}`);

const CAPTURES = ['active-nat-port-refused.inside.pcap', 'epsv-nat.outside.pcap'];

test('FTP sessions inside VXLAN, Geneve, GRE and ERSPAN: tshark reads the same segments, faultline the same flows, sessions and findings', { timeout: 300_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-tunnels-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  for (const name of CAPTURES) {
    const original = join(repoRoot, 'captures', 'lab', name);
    const src = await frames(original);
    const want = await analyzed(original);
    const wantSegments = innerSegments(original);
    assert.ok(wantSegments.length > 10 && want.result.facts.ftp.sessions.length > 0 && want.result.findings.length > 0, `${name} has FTP to find`);
    for (const [kind, wrap] of Object.entries(WRAPS)) {
      const path = join(tmp, `${kind}-${name}`);
      wrapFile(src, wrap, path);
      const what = `${name} in ${kind}`;
      assert.deepEqual(innerSegments(path), wantSegments, `${what}: tshark reads the same inner TCP segments`);
      const got = await analyzed(path);
      assert.deepEqual(got.flows, want.flows, `${what}: flows (inner 5-tuples, packets, payload bytes)`);
      assert.deepEqual(ftpView(got.result), ftpView(want.result), `${what}: FTP sessions`);
      assert.deepEqual(findingView(got.result), findingView(want.result), `${what}: findings`);
      if (kind !== 'gre-ip-key-seq') {
        // The inner frame is the link layer: ARP bindings (and MACs) are the stations' own.
        assert.deepEqual(got.result.facts.l2.arp.bindings, want.result.facts.l2.arp.bindings, `${what}: ARP bindings`);
      }
      const wrapped = wrap(src[0].data);
      const first = decodePacket({ no: 1, ts: src[0].ts, linkType: LINKTYPE.ETHERNET, caplen: 0, origLen: 0, data: wrapped ?? src[0].data, iface: 0, offset: 0 });
      if (wrapped !== null) assert.deepEqual(first.tunnels, [kind.startsWith('erspan') ? 'erspan' : kind.startsWith('gre') ? 'gre' : kind], `${what}: tunnel named`);
    }
  }
});

test('what is not a tunnel we read stays the packet it was: GRE version 1, a VXLAN header without its I flag, unknown GRE payloads, a fragment', () => {
  const inner = Buffer.concat([hex('0200000000aa0200000000bb0800'), hex('450000280001000040060000c0a80001c0a80002'), hex('00150400000000010000000050100100e0000000')]);
  const cases: Array<[string, Buffer, number]> = [
    ['GRE version 1 (PPTP)', outer('gre', hex('3001880b 00000000 00000001'), inner), 47],
    ['VXLAN flags without I', outer('udp', hex('00000000 00123400'), inner, 4789), 17],
    ['GRE keepalive (protocol 0)', outer('gre', hex('00000000'), inner), 47],
    ['GRE carrying WCCP', outer('gre', hex('0000883e'), inner), 47],
    // The first fragment of a VXLAN datagram holds part of the inner frame only.
    ['VXLAN in an IP fragment', (() => { const d = outer('udp', hex('08000000 00123400'), inner, 4789); d[14 + 6] = 0x20; return d; })(), 17],
  ];
  for (const [what, data, proto] of cases) {
    const p = decodePacket({ no: 1, ts: 0, linkType: LINKTYPE.ETHERNET, caplen: data.length, origLen: data.length, data, iface: 0, offset: 0 });
    assert.equal(p.tunnels, null, what);
    assert.equal(p.malformed, null, what);
    assert.ok(p.net !== null && p.net.kind === 'ipv4', what);
    assert.deepEqual([p.net.src, p.net.dst, p.net.protocol], [OUTER_SRC, OUTER_DST, proto], what);
  }
});
