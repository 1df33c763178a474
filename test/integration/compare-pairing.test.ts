import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignTokens } from '../../src/compare/align.js';
import { pairSessions } from '../../src/compare/pairing.js';
import { decideRoles, mapFlow } from '../../src/compare/mappings.js';
import { matchPackets, type PacketRecord } from '../../src/compare/packets.js';
import type { FlowPair } from '../../src/compare/flows.js';
import type { FlowRecord, SessionRecord } from '../../src/compare/model.js';

/**
 * The pairing rules of `compare` on sessions and flows built for the purpose, where the right
 * answer is known by construction: which inside session is which outside one, the clock
 * offset applied, which endpoint was translated.
 */

const T0 = 1_700_000_000_000_000;
const DIALOGUE = ['USER 331', 'PASS 230', 'PWD 257', 'EPSV 229', 'RETR 226', 'QUIT 221'];

/** A session whose client line k is sent at start + 1 ms·k and answered 300 µs later (+ skew for the far side's view). */
function session(capture: number, flow: number, start: number, lines = DIALOGUE, replySkew = 0): SessionRecord {
  const commands = lines.map((l, k) => {
    const [verb, code] = l.split(' ');
    return { seq: k, verb, frame: 2 * k + 4, ts: start + 1000 * k, replyCode: Number(code), replyFrame: 2 * k + 5, replyTs: start + 1000 * k + 300 + replySkew };
  });
  return {
    capture, flow, client: '192.0.2.1', clientPort: 40000 + flow, server: '198.51.100.2', serverPort: 21, firstFrame: 1, lastFrame: 40,
    firstTs: start - 500, lastTs: start + 20_000, greetingCode: 220, tlsMode: 'none', commandCount: commands.length, commands, channels: [],
  };
}

/** Deterministic pseudo-random jitter (a linear congruential generator), so failures reproduce. */
function jitter(seed: number): () => number {
  let x = seed;
  return () => { x = (x * 1103515245 + 12345) % 2 ** 31; return x / 2 ** 31; };
}

test('alignTokens: the longest common subsequence, so one missing line shifts nothing after it', () => {
  assert.deepEqual(alignTokens(['a', 'b', 'c', 'd'], ['a', 'c', 'd']), [[0, 0], [2, 1], [3, 2]]);
  assert.deepEqual(alignTokens(['x', 'a', 'b'], ['a', 'b', 'y']), [[1, 0], [2, 1]]);
  assert.deepEqual(alignTokens([], ['a']), []);
});

test('identical dialogues every 250 ms, the outside clock 37 s ahead, order shuffled: every session finds its own twin', () => {
  const rnd = jitter(7);
  const OFFSET = 37_000_050;
  const inside: SessionRecord[] = [], outside: SessionRecord[] = [];
  for (let i = 0; i < 400; i++) {
    const start = T0 + i * 250_000 + Math.floor(rnd() * 100_000);
    inside.push(session(1, i, start));
    // The second capture's host clock wanders by up to ±2 ms around the offset.
    outside.push(session(2, i, start + OFFSET + Math.floor((rnd() - 0.5) * 4000)));
  }
  outside.reverse();
  const r = pairSessions(inside, outside, 2_000_000);
  assert.equal(r.pairs.length, 400);
  assert.ok(r.pairs.every((p) => p.inside.flow === p.outside.flow), 'each with its twin');
  assert.ok(Math.abs(r.offset.us - OFFSET) <= 2000, `offset ${r.offset.us}`);
  assert.equal(r.offset.basis, 'ftp-sessions');
});

test('a session that lost a line on one side pairs with its twin, not with a complete look-alike 1.5 s away', () => {
  const inside = [session(1, 0, T0), session(1, 1, T0 + 1_500_000)];
  const outside = [session(2, 0, T0 + 1_500_000), session(2, 1, T0, DIALOGUE.slice(1))];
  const r = pairSessions(inside, outside, 2_000_000);
  assert.deepEqual(r.pairs.map((p) => [p.inside.flow, p.outside.flow]), [[0, 1], [1, 0]]);
  assert.deepEqual(r.pairs[0].tokens, { inside: 7, outside: 6, common: 6 });
});

test('different dialogues do not pair, and sessions beyond the window stay unpaired', () => {
  const tls = ['AUTH 234', 'PBSZ 200', 'PROT 200'];
  const r = pairSessions([session(1, 0, T0, tls)], [session(2, 0, T0)], 2_000_000);
  assert.deepEqual(r.pairs, []);
  assert.equal(r.unpairedInside.length, 1);
  assert.equal(r.unpairedOutside.length, 1);
  // Two look-alike sessions on each side, 60 and 70 s apart: every offset fits one pair equally well, so
  // the smallest offset (0) is taken, and the second pair, 10 s off it, is beyond the window.
  const far = pairSessions([session(1, 0, T0), session(1, 1, T0 + 60_000_000)], [session(2, 0, T0), session(2, 1, T0 + 70_000_000, DIALOGUE.slice(0, 5))], 2_000_000);
  assert.deepEqual(far.pairs.map((p) => [p.inside.flow, p.outside.flow]), [[0, 0]]);
});

test('the client\'s side from timing: its lines are seen first on its own side, the server\'s replies on the other', () => {
  // Client inside: its commands reach the outside 80 µs later, the server's replies reach the inside 80 µs later.
  const inside = session(1, 0, T0);
  const outside = session(2, 0, T0 + 80, DIALOGUE, -160);
  const [p] = pairSessions([inside], [outside], 2_000_000).pairs;
  assert.equal(p.offsetUs, 0);
  assert.equal(p.clientLeadUs, 80);
});

function flow(capture: number, src: string, srcPort: number, dst: string, dstPort: number, firstTs = T0): FlowRecord {
  return {
    capture, index: 0, protocol: 6, src, srcPort, dst, dstPort, firstTs, lastTs: firstTs + 1000, firstFrame: 1, lastFrame: 9,
    packets: [5, 4], state: 'closed', synFrame: 1, synRetransmissions: 0, synAckSeen: true,
  };
}

function pair(inside: FlowRecord, outside: FlowRecord): FlowPair {
  return { inside, outside, reversed: false, basis: 'ftp-control', role: 'control', session: 0 };
}

test('NAT kind from the endpoint that changed: the initiator\'s (SNAT) or the responder\'s (DNAT)', () => {
  const snat = mapFlow(pair(flow(1, '192.168.1.5', 5000, '203.0.113.9', 21), flow(2, '198.51.100.1', 61000, '203.0.113.9', 21)), 0);
  assert.equal(snat.kind, 'SNAT');
  assert.equal(snat.initiatorSide, 'inside');
  assert.deepEqual(snat.translations.map((t) => [t.kind, t.from, t.to, t.portChanged]),
    [['SNAT', { ip: '192.168.1.5', port: 5000 }, { ip: '198.51.100.1', port: 61000 }, true]]);
  const dnat = mapFlow(pair(flow(1, '203.0.113.10', 40000, '10.0.0.21', 21), flow(2, '203.0.113.10', 40000, '203.0.113.1', 2121)), 0);
  assert.equal(dnat.kind, 'DNAT');
  assert.equal(dnat.initiatorSide, 'outside');
  assert.deepEqual(dnat.translations.map((t) => [t.from, t.to]), [[{ ip: '203.0.113.1', port: 2121 }, { ip: '10.0.0.21', port: 21 }]]);
  const routed = mapFlow(pair(flow(1, '203.0.113.10', 40000, '198.51.100.21', 21, T0 + 40), flow(2, '203.0.113.10', 40000, '198.51.100.21', 21, T0)), 0);
  assert.equal(routed.kind, 'none');
  assert.equal(routed.initiatorSide, 'outside', 'the SYN was seen outside 40 µs before inside');
});

test('which capture is inside: the one showing the private address; no private address, no telling', () => {
  const p = pair(flow(1, '203.0.113.10', 40000, '10.0.0.21', 21), flow(2, '203.0.113.10', 40000, '203.0.113.1', 21));
  assert.equal(decideRoles([p]).verdict, 'as-given');
  assert.equal(decideRoles([pair(p.outside, p.inside)]).verdict, 'swapped');
  assert.equal(decideRoles([pair(flow(1, '203.0.113.10', 1, '198.51.100.21', 21), flow(2, '203.0.113.10', 1, '198.51.100.21', 21))]).verdict, 'unknown');
  assert.equal(decideRoles([pair(flow(1, '203.0.113.10', 1, '198.51.100.21', 21), flow(2, '203.0.113.99', 1, '198.51.100.21', 21))]).verdict, 'unknown');
});

test('matchPackets: copies pair by flags, length and IPv4 id; a rewritten segment pairs despite its new length', () => {
  const pk = (frame: number, flags: number, len: number, ipId: number): PacketRecord => ({ frame, ts: frame, dir: 0, flags, seq: 0, ack: 0, len, ipId, ttl: 64 });
  const a = [pk(1, 0x02, 0, 10), pk(2, 0x10, 0, 11), pk(3, 0x18, 47, 12), pk(4, 0x10, 0, 13), pk(5, 0x11, 0, 14)];
  const b = [pk(11, 0x02, 0, 10), pk(12, 0x10, 0, 11), pk(13, 0x18, 49, 12), pk(15, 0x11, 0, 14)];
  const m = matchPackets(a, b);
  assert.deepEqual(m.pairs.map(([x, y]) => [x.frame, y.frame]), [[1, 11], [2, 12], [3, 13], [5, 15]]);
  assert.deepEqual(m.onlyA.map((x) => x.frame), [4]);
  assert.deepEqual(m.onlyB, []);
});
