/**
 * Flow table: bidirectional 5-tuple flows, TCP connection state, port reuse, ICMP errors tied to
 * the flow they quote, idle expiry and stream consumers. Packets are real raw-IP bytes built here
 * and decoded by the project's decoder; TCP stream splitting is compared with tshark's tcp.stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowTable, flowKey, tupleHash, type FlowHooks, type FlowTableOptions } from '../../../src/flow/table.js';
import { flowState, type Dir, type Flow, type StreamConsumer } from '../../../src/flow/flow.js';
import { decodePacket, type Packet } from '../../../src/decode/packet.js';
import { LINKTYPE } from '../../../src/source/frame.js';
import { PcapWriter } from '../../../src/source/pcap-writer.js';
import { tshark } from '../../tshark.js';

// ---- packet builders (RFC 791, 8200, 9293, 768, 792, 4443) ----

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
function v4(a: string): Buffer { return Buffer.from(a.split('.').map(Number)); }
function v6(a: string): Buffer {
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [], t = tail ? tail.split(':') : [];
  const words = a.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(parseInt(w, 16), i * 2));
  return b;
}
function ip(src: string, dst: string, proto: number, payload: Buffer): Buffer {
  if (src.includes(':')) {
    const h = Buffer.alloc(40);
    h.writeUInt32BE(0x60000000, 0);
    h.writeUInt16BE(payload.length, 4);
    h[6] = proto;
    h[7] = 64;
    v6(src).copy(h, 8);
    v6(dst).copy(h, 24);
    return Buffer.concat([h, payload]);
  }
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = proto;
  v4(src).copy(h, 12);
  v4(dst).copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}
const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;
function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer | string = ''): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 0x50;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, Buffer.from(payload)]);
}
function udp(sport: number, dport: number, payload: Buffer | string = ''): Buffer {
  const p = Buffer.from(payload);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + p.length, 4);
  return Buffer.concat([h, p]);
}
function icmp(type: number, code: number, rest: Buffer = Buffer.alloc(4)): Buffer {
  const m = Buffer.concat([Buffer.from([type, code, 0, 0]), rest]);
  m.writeUInt16BE(checksum(m), 2);
  return m;
}

interface Spec { src: string; sp: number; dst: string; dp: number }
const TCP = 6, UDP = 17;

/** Feeds built packets through decodePacket into a FlowTable and records every hook. */
class Harness implements FlowHooks {
  table: FlowTable;
  started: Flow[] = [];
  ended: Flow[] = [];
  firstPayloads: Array<[number, Dir, string]> = [];
  capHits: Array<[number, Dir, number]> = [];
  /** Per frame, the flow index it went to (by looking the 5-tuple up right after). */
  frameFlow: number[] = [];
  packets: Buffer[] = [];
  no = 0;
  ts = 1_600_000_000_000_000;
  onStart?: (flow: Flow, pkt: Packet) => void;
  onFirstPayload?: (flow: Flow, dir: Dir, payload: Buffer, pkt: Packet) => void;

  constructor(opts: Partial<FlowTableOptions> = {}) {
    this.table = new FlowTable(this, opts);
  }
  flowStart(flow: Flow, pkt: Packet): void { this.started.push(flow); this.onStart?.(flow, pkt); }
  firstPayload(flow: Flow, dir: Dir, payload: Buffer, pkt: Packet): void {
    this.firstPayloads.push([flow.index, dir, payload.toString('latin1')]);
    this.onFirstPayload?.(flow, dir, payload, pkt);
  }
  flowEnd(flow: Flow): void { this.ended.push(flow); }
  capHit(flow: Flow, dir: Dir, frameNo: number): void { this.capHits.push([flow.index, dir, frameNo]); }

  send(data: Buffer, dtMicros = 1000, origLen = data.length): Packet {
    this.no++;
    this.ts += dtMicros;
    this.packets.push(data);
    const pkt = decodePacket({ no: this.no, ts: this.ts, linkType: LINKTYPE.RAW, caplen: data.length, origLen, data, iface: 0, offset: 0 });
    this.table.packet(pkt);
    const t = pkt.transport;
    const net = pkt.net;
    let idx = -1;
    if (net && net.kind !== 'arp') {
      const ports = t && (t.kind === 'tcp' || t.kind === 'udp') ? [t.srcPort, t.dstPort] : [0, 0];
      idx = this.table.lookup(net.protocol, net.src, ports[0], net.dst, ports[1])?.index ?? -1;
    }
    this.frameFlow.push(idx);
    return pkt;
  }
  tcp(s: Spec, seq: number, ack: number, flags: number, payload: Buffer | string = '', dt?: number): Packet {
    return this.send(ip(s.src, s.dst, TCP, tcp(s.sp, s.dp, seq, ack, flags, payload)), dt);
  }
  udp(s: Spec, payload: Buffer | string = 'x', dt?: number): Packet {
    return this.send(ip(s.src, s.dst, UDP, udp(s.sp, s.dp, payload)), dt);
  }
  finish(): Flow[] {
    this.table.finish();
    return [...this.ended].sort((a, b) => a.index - b.index);
  }
  /** The same packets as a raw-IP pcap, for tshark. */
  writePcap(path: string): void {
    const w = new PcapWriter(path, LINKTYPE.RAW);
    let ts = 1_600_000_000_000_000;
    for (const p of this.packets) w.write(ts += 1000, p);
    w.close();
  }
}

const rev = (s: Spec): Spec => ({ src: s.dst, sp: s.dp, dst: s.src, dp: s.sp });
const C2S: Spec = { src: '10.0.0.1', sp: 40000, dst: '10.0.0.2', dp: 21 };
const S2C = rev(C2S);

/** A full handshake, `data` each way, then FIN/FIN/ACK. Returns the next sequence numbers. */
function connection(h: Harness, c: Spec, isnC: number, isnS: number, close = true): void {
  const s = rev(c);
  h.tcp(c, isnC, 0, SYN);
  h.tcp(s, isnS, isnC + 1, SYN | ACK);
  h.tcp(c, isnC + 1, isnS + 1, ACK);
  h.tcp(s, isnS + 1, isnC + 1, PSH | ACK, '220 ready\r\n');
  h.tcp(c, isnC + 1, isnS + 12, PSH | ACK, 'USER x\r\n');
  if (!close) return;
  h.tcp(c, isnC + 9, isnS + 12, FIN | ACK);
  h.tcp(s, isnS + 12, isnC + 10, FIN | ACK);
  h.tcp(c, isnC + 10, isnS + 13, ACK);
}

/** tshark's tcp.stream per frame (frames that are not TCP give -1). */
function tsharkStreams(h: Harness): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-flow-'));
  try {
    const path = join(dir, 'flows.pcap');
    h.writePcap(path);
    return tshark(['-r', path, '-T', 'fields', '-e', 'tcp.stream']).split('\n').slice(0, h.packets.length).map((x) => (x === '' ? -1 : Number(x)));
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('both directions of a 5-tuple are one flow; other ports or protocols are other flows', () => {
  const h = new Harness();
  const a: Spec = { src: '192.0.2.10', sp: 5353, dst: '198.51.100.7', dp: 53 };
  h.udp(a, 'query');
  h.udp(rev(a), 'answer!');
  h.udp({ ...a, sp: 5354 }, 'other port');
  h.tcp({ ...a }, 1, 0, SYN); // same addresses and ports, TCP
  h.udp(rev(a), 'again');
  const flows = h.finish();
  assert.equal(flows.length, 3);
  assert.deepEqual(h.frameFlow, [0, 0, 1, 2, 0]);
  const f = flows[0];
  assert.deepEqual([f.srcIp, f.srcPort, f.dstIp, f.dstPort, f.protocol], ['192.0.2.10', 5353, '198.51.100.7', 53, UDP]);
  assert.deepEqual(f.packets, [1, 2]);
  assert.deepEqual(f.payloadBytes, [5, 12]);
  assert.deepEqual(f.bytes, [20 + 8 + 5, 2 * 28 + 12]);
  assert.deepEqual([f.firstFrame, f.lastFrame], [1, 5]);
  assert.equal(f.lastTs - f.firstTs, 4000);
  assert.equal(flowState(f), 'seen');
  assert.equal(flowKey(UDP, '198.51.100.7', 53, '192.0.2.10', 5353), flowKey(UDP, '192.0.2.10', 5353, '198.51.100.7', 53));
  // IPv6 too.
  const h6 = new Harness();
  const b: Spec = { src: '2001:db8::1', sp: 1000, dst: '2001:db8::2', dp: 2000 };
  h6.udp(b);
  h6.udp(rev(b));
  const f6 = h6.finish();
  assert.equal(f6.length, 1);
  assert.deepEqual(f6[0].packets, [1, 1]);
});

test('the initiator is the SYN sender, even when the SYN-ACK is captured first', () => {
  {
    const h = new Harness();
    connection(h, C2S, 1000, 5000);
    const [f] = h.finish();
    assert.deepEqual([f.srcIp, f.srcPort, f.dstIp, f.dstPort], ['10.0.0.1', 40000, '10.0.0.2', 21]);
    assert.deepEqual(f.packets, [5, 3]);
    assert.equal(f.tcp!.synFrame, 1);
    assert.equal(f.tcp!.synAckFrame, 2);
    assert.equal(f.tcp!.handshakeComplete, true);
  }
  {
    // The capture starts with the SYN-ACK (the SYN was missed, or arrives after it).
    const h = new Harness();
    h.tcp(S2C, 5000, 1001, SYN | ACK);
    h.tcp(C2S, 1000, 0, SYN);
    h.tcp(C2S, 1001, 5001, ACK);
    h.tcp(S2C, 5001, 1001, PSH | ACK, 'hi');
    const flows = h.finish();
    assert.equal(flows.length, 1, 'one connection');
    const f = flows[0];
    assert.deepEqual([f.srcIp, f.srcPort], ['10.0.0.1', 40000], 'the SYN-ACK destination is the initiator');
    assert.deepEqual(f.packets, [2, 2]);
    assert.deepEqual(f.payloadBytes, [0, 2]);
    assert.equal(f.tcp!.synSeen, true);
    assert.equal(f.tcp!.synAckFrame, 1);
    assert.equal(flowState(f), 'established');
    assert.deepEqual(h.frameFlow, tsharkStreams(h), 'tcp.stream agrees');
  }
  {
    // Joined mid-stream: the first packet's source is taken as the initiator.
    const h = new Harness();
    h.tcp(S2C, 7000, 100, PSH | ACK, 'data');
    h.tcp(C2S, 100, 7004, ACK);
    const [f] = h.finish();
    assert.deepEqual([f.srcIp, f.srcPort], ['10.0.0.2', 21]);
    assert.equal(flowState(f), 'midstream');
  }
});

test('port reuse: a SYN with a new ISN starts a new flow, as tshark splits tcp.stream', () => {
  const h = new Harness();
  connection(h, C2S, 1000, 5000); // closed by FIN/FIN
  connection(h, C2S, 90000, 70000, false); // same ports, new ISN
  h.tcp(C2S, 300000, 0, SYN); // same ports again while that one is still open
  h.tcp(S2C, 1, 300001, RST | ACK);
  h.tcp(C2S, 300000, 0, SYN); // retransmitted SYN after the RST: same ISN, same connection
  h.tcp(S2C, 1, 300001, RST | ACK);
  h.tcp(C2S, 400000, 0, SYN); // after a RST, a new ISN: new connection
  const starts = h.started.map((f) => f.firstFrame);
  const truth = tsharkStreams(h);
  assert.deepEqual(h.frameFlow, truth, 'flow per frame equals tcp.stream per frame');
  assert.deepEqual(starts, [1, 9, 14, 18]);
  const flows = h.finish();
  assert.equal(flows.length, 4);
  // The earlier connection on the 5-tuple ended before the next began.
  assert.equal(h.ended[0].index, 0);
  assert.equal(flowState(flows[0]), 'closed');
  assert.equal(flowState(flows[1]), 'established');
  assert.equal(flowState(flows[2]), 'rejected');
  assert.equal(flows[2].tcp!.synRetransmissions, 1);
  assert.equal(flowState(flows[3]), 'syn-unanswered');
});

test('SYN retransmissions are counted; TCP states follow the handshake, FIN and RST', () => {
  const cases: Array<[string, (h: Harness) => void, string, (f: Flow) => void]> = [
    ['three SYNs, nothing back', (h) => { h.tcp(C2S, 7, 0, SYN); h.tcp(C2S, 7, 0, SYN, '', 1e6); h.tcp(C2S, 7, 0, SYN, '', 2e6); }, 'syn-unanswered',
      (f) => { assert.equal(f.tcp!.synRetransmissions, 2); assert.equal(f.tcp!.synFrame, 1); }],
    ['SYN answered by RST', (h) => { h.tcp(C2S, 7, 0, SYN); h.tcp(S2C, 0, 8, RST | ACK); }, 'rejected',
      (f) => { assert.equal(f.tcp!.rstFrom, 1); assert.equal(f.tcp!.rstFrame, 2); }],
    ['SYN answered by a bare ACK', (h) => { h.tcp(C2S, 7, 0, SYN); h.tcp(S2C, 99, 8, ACK); }, 'syn-no-synack', () => undefined],
    ['SYN, SYN-ACK, no final ACK', (h) => { h.tcp(C2S, 7, 0, SYN); h.tcp(S2C, 50, 8, SYN | ACK); }, 'established',
      (f) => assert.equal(f.tcp!.handshakeComplete, false)],
    ['handshake then RST from the client', (h) => { connection(h, C2S, 7, 50, false); h.tcp(C2S, 15, 62, RST | ACK); }, 'reset',
      (f) => { assert.equal(f.tcp!.rstFrom, 0); assert.equal(f.tcp!.rstFrame, 6); assert.equal(f.tcp!.handshakeComplete, true); }],
    ['handshake then FIN from one side', (h) => { connection(h, C2S, 7, 50, false); h.tcp(S2C, 62, 15, FIN | ACK); }, 'closed',
      (f) => assert.deepEqual(f.tcp!.finFrom, [false, true])],
    ['full close', (h) => connection(h, C2S, 7, 50), 'closed', (f) => assert.deepEqual(f.tcp!.finFrom, [true, true])],
    ['joined mid-stream, then reset', (h) => { h.tcp(C2S, 100, 200, PSH | ACK, 'x'); h.tcp(S2C, 200, 101, RST); }, 'reset', () => undefined],
    ['SYN then the client aborts', (h) => { h.tcp(C2S, 7, 0, SYN); h.tcp(C2S, 8, 0, RST); }, 'reset', (f) => assert.equal(f.tcp!.rstFrom, 0)],
  ];
  for (const [name, run, state, more] of cases) {
    const h = new Harness();
    run(h);
    const flows = h.finish();
    assert.equal(flows.length, 1, name);
    assert.equal(flowState(flows[0]), state, name);
    more(flows[0]);
  }
});

test('ICMP errors are tied to the flow they quote (IPv4 and IPv6, destination or router)', () => {
  const h = new Harness();
  const dns: Spec = { src: '192.0.2.1', sp: 33000, dst: '198.51.100.53', dp: 53 };
  const probe = ip(dns.src, dns.dst, UDP, udp(dns.sp, dns.dp, 'query'));
  h.udp(dns, 'query');
  // Port unreachable from the destination: quotes the IP header and the first 8 bytes of UDP.
  h.send(ip(dns.dst, dns.src, 1, icmp(3, 3, Buffer.concat([Buffer.alloc(4), probe.subarray(0, 28)]))));
  // Time exceeded from a router on the way.
  h.send(ip('203.0.113.1', dns.src, 1, icmp(11, 0, Buffer.concat([Buffer.alloc(4), probe.subarray(0, 28)]))));
  // A TCP SYN refused administratively.
  const web: Spec = { src: '192.0.2.1', sp: 40001, dst: '198.51.100.80', dp: 443 };
  const syn = ip(web.src, web.dst, TCP, tcp(web.sp, web.dp, 1234, 0, SYN));
  h.send(syn);
  h.send(ip('203.0.113.1', web.src, 1, icmp(3, 13, Buffer.concat([Buffer.alloc(4), syn.subarray(0, 28)]))));
  // IPv6 port unreachable (ICMPv6 type 1 code 4) quoting the whole datagram.
  const d6: Spec = { src: '2001:db8::1', sp: 5000, dst: '2001:db8::53', dp: 53 };
  const probe6 = ip(d6.src, d6.dst, UDP, udp(d6.sp, d6.dp, 'q6'));
  h.send(probe6);
  h.send(ip(d6.dst, d6.src, 58, icmp(1, 4, Buffer.concat([Buffer.alloc(4), probe6]))));
  // An error quoting a flow never seen is ignored (no crash, no flow gets it).
  h.send(ip('203.0.113.9', '192.0.2.99', 1, icmp(3, 1, Buffer.concat([Buffer.alloc(4), ip('192.0.2.99', '192.0.2.98', UDP, udp(1, 2, 'zz')).subarray(0, 28)]))));
  const flows = h.finish();
  const udpFlow = flows.find((f) => f.protocol === UDP && f.dstPort === 53 && f.srcIp === '192.0.2.1')!;
  assert.deepEqual(udpFlow.icmpErrors, [
    { frame: 2, ts: udpFlow.firstTs + 1000, reporter: '198.51.100.53', type: 3, code: 3, version: 4 },
    { frame: 3, ts: udpFlow.firstTs + 2000, reporter: '203.0.113.1', type: 11, code: 0, version: 4 },
  ]);
  const tcpFlow = flows.find((f) => f.protocol === TCP)!;
  assert.deepEqual(tcpFlow.icmpErrors.map((e) => [e.frame, e.reporter, e.type, e.code]), [[5, '203.0.113.1', 3, 13]]);
  const v6Flow = flows.find((f) => f.protocol === UDP && f.srcIp === '2001:db8::1')!;
  assert.deepEqual(v6Flow.icmpErrors.map((e) => [e.frame, e.reporter, e.type, e.code, e.version]), [[7, '2001:db8::53', 1, 4, 6]]);
  assert.equal(flows.reduce((n, f) => n + f.icmpErrors.length, 0), 4);
  // The ICMP messages are flows of their own.
  assert.ok(flows.some((f) => f.protocol === 1 && f.srcIp === '198.51.100.53'));
});

test('idle flows are ended (and handed to flowEnd) during the capture; a later packet starts a new flow', () => {
  const h = new Harness({ idleTimeout: 60, closedTimeout: 5 });
  const quiet: Spec = { src: '10.1.0.1', sp: 1111, dst: '10.1.0.2', dp: 2222 };
  const closed: Spec = { src: '10.1.0.1', sp: 3333, dst: '10.1.0.2', dp: 21 };
  const busy: Spec = { src: '10.1.0.3', sp: 4444, dst: '10.1.0.4', dp: 5555 };
  h.udp(quiet);
  connection(h, closed, 10, 20); // FIN both ways: done
  const udpPayload = udp(busy.sp, busy.dp, 'x');
  const busyPacket = ip(busy.src, busy.dst, UDP, udpPayload);
  // 10 s later: past the closed timeout, not the idle timeout. Then enough packets for a sweep.
  h.send(busyPacket, 10e6);
  for (let i = 0; i < 40000 && !h.ended.some((f) => f.dstPort === 21); i++) h.send(busyPacket, 1);
  assert.ok(h.ended.some((f) => f.dstPort === 21), 'the closed TCP flow expired after closedTimeout');
  assert.ok(!h.ended.some((f) => f.dstPort === 2222), 'the quiet UDP flow is not idle for 60 s yet');
  // 61 s after the quiet flow's packet.
  h.send(busyPacket, 61e6);
  for (let i = 0; i < 40000 && !h.ended.some((f) => f.dstPort === 2222); i++) h.send(busyPacket, 1);
  const quietFlow = h.ended.find((f) => f.dstPort === 2222);
  assert.ok(quietFlow, 'the idle flow was ended by a sweep');
  assert.equal(quietFlow.ended, true);
  assert.ok(!h.ended.some((f) => f.dstPort === 5555), 'the busy flow stays');
  assert.equal(h.table.size, 1);
  h.udp(quiet);
  const flows = h.finish();
  const quietOnes = flows.filter((f) => f.dstPort === 2222);
  assert.equal(quietOnes.length, 2, 'the same 5-tuple after expiry is a new flow');
  assert.ok(quietOnes[1].index > quietOnes[0].index);
  assert.equal(h.ended.length, new Set(h.ended).size, 'each flow ended once');
});

interface Seen { data: Array<[Dir, string, number]>; gaps: Array<[Dir, number, number]>; ended: number }
function recorder(name: string): { consumer: StreamConsumer; seen: Seen } {
  const seen: Seen = { data: [], gaps: [], ended: 0 };
  return {
    seen,
    consumer: {
      name,
      data: (dir, bytes, offset) => { seen.data.push([dir, bytes.toString('latin1'), offset]); },
      gap: (dir, offset, length) => { seen.gaps.push([dir, offset, length]); },
      end: () => { seen.ended++; },
    },
  };
}

test('stream consumers: attach at flowStart gets both directions in order; detach stops delivery', () => {
  const h = new Harness();
  const a = recorder('a'), b = recorder('b');
  h.onStart = (flow) => { h.table.attach(flow, a.consumer); h.table.attach(flow, b.consumer); };
  h.tcp(C2S, 100, 0, SYN);
  h.tcp(S2C, 500, 101, SYN | ACK);
  h.tcp(C2S, 101, 501, ACK);
  h.tcp(S2C, 501, 101, PSH | ACK, '220 hi\r\n');
  h.tcp(C2S, 107, 509, PSH | ACK, 'SS\r\n'); // arrives before the bytes it follows
  h.tcp(C2S, 101, 509, PSH | ACK, 'USER a');
  const flow = h.started[0];
  h.table.detach(flow, b.consumer);
  h.tcp(S2C, 509, 111, PSH | ACK, '331 pw\r\n');
  h.tcp(C2S, 120, 517, PSH | ACK, 'late'); // bytes 111..119 never captured
  h.finish();
  assert.deepEqual(a.seen.data, [[1, '220 hi\r\n', 0], [0, 'USER a', 0], [0, 'SS\r\n', 6], [1, '331 pw\r\n', 8], [0, 'late', 19]]);
  assert.deepEqual(a.seen.gaps, [[0, 10, 9]]);
  assert.equal(a.seen.ended, 1);
  assert.deepEqual(b.seen.data, [[1, '220 hi\r\n', 0], [0, 'USER a', 0], [0, 'SS\r\n', 6]]);
  assert.equal(b.seen.ended, 0, 'a detached consumer is not told about the end');
  assert.deepEqual(h.firstPayloads, [[0, 1, '220 hi\r\n'], [0, 0, 'SS\r\n']]);
});

test('attach in firstPayload: that payload is delivered too, and the other direction does not stall', () => {
  const h = new Harness();
  const a = recorder('late');
  // Attach when the server's first payload shows up, after the client already sent bytes.
  h.onFirstPayload = (flow, dir) => { if (dir === 1) h.table.attach(flow, a.consumer); };
  h.tcp(C2S, 100, 0, SYN);
  h.tcp(S2C, 500, 101, SYN | ACK);
  h.tcp(C2S, 101, 501, ACK);
  h.tcp(C2S, 101, 501, PSH | ACK, 'hello'); // before the consumer exists
  h.tcp(S2C, 501, 106, PSH | ACK, 'welcome');
  h.tcp(C2S, 106, 508, PSH | ACK, 'more');
  const deliveredBeforeEnd = [...a.seen.data];
  h.finish();
  assert.deepEqual(deliveredBeforeEnd, [[1, 'welcome', 0], [0, 'more', 5]], 'the client bytes after the attach come at once, at their stream offset');
  assert.deepEqual(a.seen.gaps, [[0, 0, 5]], 'the 5 bytes that went by before the attach are one gap');
  assert.deepEqual(a.seen.data, deliveredBeforeEnd);
});

test('a segment cut by the snaplen: the payload counts as declared, the missing tail is a gap', () => {
  const h = new Harness();
  const a = recorder('cut');
  h.onStart = (flow) => h.table.attach(flow, a.consumer);
  h.tcp(C2S, 100, 0, SYN);
  h.tcp(S2C, 500, 101, SYN | ACK);
  const full = ip(C2S.src, C2S.dst, TCP, tcp(C2S.sp, C2S.dp, 101, 501, PSH | ACK, 'abcdefghij'));
  h.send(full.subarray(0, full.length - 6), 1000, full.length); // 4 of 10 payload bytes captured
  h.tcp(C2S, 111, 501, PSH | ACK, 'KL');
  const [f] = h.finish();
  assert.deepEqual(f.payloadBytes, [12, 0], 'declared lengths, like tshark tcp.len');
  assert.deepEqual(a.seen.data, [[0, 'abcd', 0], [0, 'KL', 10]]);
  assert.deepEqual(a.seen.gaps, [[0, 4, 6]]);
});

test('the reassembly cap is reported through the capHit hook', () => {
  const h = new Harness({ maxPendingPerDirection: 16 });
  const a = recorder('cap');
  h.onStart = (flow) => h.table.attach(flow, a.consumer);
  h.tcp(C2S, 100, 0, SYN);
  h.tcp(C2S, 111, 0, ACK, 'x'.repeat(10)); // 101..110 missing
  h.tcp(C2S, 121, 0, ACK, 'y'.repeat(10)); // 20 bytes waiting > 16
  assert.deepEqual(h.capHits, [[0, 0, 3]]);
  assert.deepEqual(a.seen.gaps, [[0, 0, 10]]);
  h.finish();
});

test('two IPv4 flows whose tuples share a hash stay two flows, each with its own packets, found by lookup', () => {
  // Search real colliding tuples of the 30-bit hash: one client talking to many servers on port 21.
  const a = (10 << 24) | 1;
  const seen = new Map<number, Spec>();
  let pair: [Spec, Spec] | null = null;
  const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  for (let host = 2; host < 1 << 20 && pair === null; host++) {
    const b = (10 << 24) | host;
    for (let sp = 40000; sp < 40005; sp++) {
      const hash = tupleHash(TCP, a, sp, b, 21);
      const spec: Spec = { src: '10.0.0.1', sp, dst: dotted(b), dp: 21 };
      const other = seen.get(hash);
      if (other !== undefined) { pair = [other, spec]; break; }
      seen.set(hash, spec);
    }
  }
  if (pair === null) assert.fail('no colliding tuple found');
  const [x, y] = pair;
  assert.equal(tupleHash(TCP, a, x.sp, Number(x.dst.split('.').reduce((n, o) => n * 256 + Number(o), 0)), 21),
    tupleHash(TCP, a, y.sp, Number(y.dst.split('.').reduce((n, o) => n * 256 + Number(o), 0)), 21));
  const h = new Harness();
  const rev = (s: Spec): Spec => ({ src: s.dst, sp: s.dp, dst: s.src, dp: s.sp });
  h.tcp(x, 100, 0, SYN);
  h.tcp(y, 500, 0, SYN);
  h.tcp(rev(x), 900, 101, SYN | ACK);
  h.tcp(rev(y), 700, 501, SYN | ACK);
  const px = 'from x', py = 'from y, longer';
  h.tcp(x, 101, 901, ACK, px);
  h.tcp(y, 501, 701, ACK, py);
  h.tcp(y, 501 + py.length, 701, ACK | FIN);
  assert.deepEqual(h.frameFlow, [0, 1, 0, 1, 0, 1, 1], 'every packet found its own flow');
  const flows = h.finish();
  assert.equal(flows.length, 2);
  const [fx, fy] = flows;
  assert.deepEqual([fx.dstIp, fx.srcPort, fy.dstIp, fy.srcPort], [x.dst, x.sp, y.dst, y.sp]);
  assert.deepEqual(fx.packets, [2, 1]);
  assert.deepEqual(fy.packets, [3, 1]);
  assert.deepEqual([fx.payloadBytes[0], fy.payloadBytes[0]], [px.length, py.length]);
  assert.ok(fx.tcp!.handshakeComplete && fy.tcp!.handshakeComplete);
  // One of the two is filed by its numeric hash, the other by its text key.
  assert.notEqual(fx.numKey === -1, fy.numKey === -1);
});
