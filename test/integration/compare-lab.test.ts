import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { tshark } from '../tshark.js';
import { openDb, type Db } from '../../src/store/db.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { analyzeAndStore, packetDetail, sha256File, storedCaptureId } from '../../src/compare/ingest.js';
import { loadCapture } from '../../src/compare/load.js';
import { compareCaptures } from '../../src/compare/compare.js';
import { comparisonDocument } from '../../src/compare/document.js';

/**
 * `faultline compare` on the recorded NAT lab (captures/lab): every inside/outside pair. The
 * expectations come from captures/lab/expected.json (the scenario design: which must show
 * FTP_ADDRESS_REWRITTEN, the topology's addresses) and from tshark on the same files (the
 * announced values, segment lengths and sequence numbers, which connections each side saw);
 * never from faultline's own output.
 */

const LAB = join(repoRoot, 'captures', 'lab');

interface Topology { kind: string; client: string; server: string; clientDials: string }
interface Scenario {
  topology: Topology;
  captures: Record<string, { file: string; keylog: string | null }>;
  compare: { inside: string; outside: string; keylog: string | null; must: string[]; mustNot: string[] };
}
const scenarios = (JSON.parse(readFileSync(join(LAB, 'expected.json'), 'utf8')) as { scenarios: Record<string, Scenario> }).scenarios;

/** The parts of the compare --json document these tests read. */
interface Endpoint { ip: string; port: number }
interface CaptureRef { capture: number; name: string }
interface FlowEnd { flow: number; src: string; srcPort: number; dst: string; dstPort: number }
interface PairJson { inside: { flow: number; clientPort: number }; outside: { flow: number; clientPort: number }; basis: string }
interface MappingJson { kind: string; role: string; initiatorSide: string | null; inside: FlowEnd; outside: FlowEnd; translations: Array<{ text: string }> }
interface MissingJson {
  seenOn: string; missingOn: string; verdict: string; senderSide: string | null; flow: FlowEnd; counterpart: unknown;
  from: Endpoint; to: Endpoint; packets: number; syn: boolean; frames: number[]; framesExact: boolean;
  expectedAs: { src: string; srcPort: number; dst: string; dstPort: number; translated: boolean } | null;
}
interface AnnouncementJson { frame: number; announcedIp: string; announcedPort: number; value?: string }
interface RewriteJson { kind: string; inside: AnnouncementJson; outside: AnnouncementJson; lengthDelta: number }
interface ShiftJson {
  expected: number;
  seq: { observed: number; inside: { line: number; next: number }; outside: { line: number; next: number } } | null;
  ack: { observed: number } | null;
}
interface FindingJson {
  code: string; severity: string; frames: number[]; capture: number | null; compare?: unknown; explanation: string;
  details: RewriteJson & { sequenceShift: ShiftJson };
}
interface CompareJson {
  arguments: { first: CaptureRef; second: CaptureRef }; inside: CaptureRef; outside: CaptureRef; sameCapture: boolean;
  roles: { verdict: string; basis: string }; clock: { offsetUs: number }; pairs: PairJson[];
  unpaired: { inside: unknown[]; outside: unknown[] }; rewrites: RewriteJson[]; mappings: MappingJson[];
  nat: Array<{ text: string }>; missing: MissingJson[];
}
interface Doc { captures: unknown[]; findings: FindingJson[]; compare: CompareJson }

const tmp = mkdtempSync(join(tmpdir(), 'faultline-compare-lab-'));
const db: Db = openDb(join(tmp, 'lab.db'));

/** Stores (or reuses by sha256) both files and returns the compare --json document, as the CLI builds it. */
async function compareDoc(first: string, second: string, keylog: string | null, windowSeconds = 2): Promise<Doc> {
  const options = { ...DEFAULT_OPTIONS, keylog: keylog ? readFileSync(join(LAB, keylog), 'utf8') : null };
  const paths = new Map<number, string>();
  const ids: number[] = [];
  for (const f of [first, second]) {
    const path = join(LAB, f);
    const id = storedCaptureId(db, await sha256File(path)) ?? await analyzeAndStore(db, path, options);
    ids.push(id);
    paths.set(id, path);
  }
  const cmp = compareCaptures(loadCapture(db, ids[0])!, loadCapture(db, ids[1])!, windowSeconds);
  const detail = await packetDetail(cmp, paths);
  return comparisonDocument(db, cmp, { detail }) as unknown as Doc;
}

const docs = new Map<string, Doc>();
async function scenarioDoc(name: string): Promise<Doc> {
  let d = docs.get(name);
  if (!d) {
    const c = scenarios[name].compare;
    d = await compareDoc(c.inside, c.outside, c.keylog);
    docs.set(name, d);
  }
  return d;
}

function fields(file: string, filter: string, names: string[]): string[][] {
  return tshark(['-r', join(LAB, file), '-Y', filter, '-T', 'fields', ...names.flatMap((n) => ['-e', n])])
    .split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
}

/** TCP conversations by tshark: key "lowport-highport" (the lab's NAT keeps ports) → packets. */
function conversations(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of tshark(['-r', join(LAB, file), '-q', '-z', 'conv,tcp']).split('\n')) {
    const m = /^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+\d+\s+\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+(\d+)\s/.exec(line.trim());
    if (!m) continue;
    const [a, b] = [Number(m[2]), Number(m[4])].sort((x, y) => x - y);
    out.set(`${a}-${b}`, Number(m[5]));
  }
  return out;
}

function portKey(f: FlowEnd): string {
  return [f.srcPort, f.dstPort].sort((x, y) => x - y).join('-');
}

const names = Object.keys(scenarios);

for (const name of names) {
  test(`compare ${name}: expected.json's compare must/mustNot codes`, async () => {
    const doc = await scenarioDoc(name);
    const codes = new Set(doc.findings.map((f) => f.code));
    const c = scenarios[name].compare;
    assert.deepEqual({ missing: c.must.filter((x) => !codes.has(x)), unexpected: c.mustNot.filter((x) => codes.has(x)) }, { missing: [], unexpected: [] });
    // FTP_ADDRESS_REWRITTEN comes from the comparison only, never from one capture's analysis.
    for (const f of doc.findings) if (f.code === 'FTP_ADDRESS_REWRITTEN') assert.ok(f.compare, 'filed as a compare finding');
  });

  test(`compare ${name}: sessions pair with the same control connection on each side (tshark)`, async () => {
    const doc = await scenarioDoc(name);
    const c = scenarios[name].compare;
    const control = (file: string): string[] => fields(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && (tcp.dstport == 21 || tcp.dstport == 990)', ['tcp.srcport']).map((r) => r[0]).sort();
    const ins = control(c.inside), outs = control(c.outside);
    assert.deepEqual(ins, outs, 'the lab records every control connection on both interfaces');
    const pairs = doc.compare.pairs;
    assert.deepEqual(pairs.map((p) => String(p.inside.clientPort)).sort(), ins);
    for (const p of pairs) {
      assert.equal(p.inside.clientPort, p.outside.clientPort, 'the lab router keeps client ports, so a correct pair shows the same one');
      assert.equal(p.basis, 'dialogue');
    }
    assert.deepEqual(doc.compare.unpaired, { inside: [], outside: [] });
  });

  test(`compare ${name}: packets missing on one side are the connections tshark sees on one side only`, async () => {
    const doc = await scenarioDoc(name);
    const c = scenarios[name].compare;
    const ins = conversations(c.inside), outs = conversations(c.outside);
    const expected: string[] = [];
    for (const [k, n] of outs) if (!ins.has(k)) expected.push(`outside ${k} ${n}`);
    for (const [k, n] of ins) if (!outs.has(k)) expected.push(`inside ${k} ${n}`);
    // Connections on both sides carry the same number of packets in the lab (tshark agrees), so nothing else is missing.
    for (const [k, n] of ins) if (outs.has(k)) assert.equal(outs.get(k), n, `conversation ${k}`);
    const got = new Map<string, number>();
    for (const m of doc.compare.missing) {
      const key = `${m.seenOn} ${portKey(m.flow)}`;
      got.set(key, (got.get(key) ?? 0) + (m.packets));
    }
    assert.deepEqual([...got].map(([k, n]) => `${k} ${n}`).sort(), expected.sort());
    for (const m of doc.compare.missing) {
      assert.equal(m.counterpart, null);
      assert.equal(m.framesExact, true);
      const f = m.flow;
      const frames = fields(m.seenOn === 'inside' ? c.inside : c.outside,
        `tcp.port == ${f.srcPort} && tcp.port == ${f.dstPort} && ip${f.src.includes(':') ? 'v6' : ''}.src == ${m.from.ip}`, ['frame.number']).map((r) => Number(r[0]));
      assert.deepEqual(m.frames, frames);
    }
  });
}

test('compare pasv-nat-no-helper-no-pasv_address: the client\'s SYNs to 10.0.0.21:40007 seen outside, none inside, dropped at the router', async () => {
  const doc = await scenarioDoc('pasv-nat-no-helper-no-pasv_address');
  const c = scenarios['pasv-nat-no-helper-no-pasv_address'].compare;
  // expected.json evidence: the SYN to the private address outside; no data connection inside.
  const syns = fields(c.outside, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == 10.0.0.21', ['frame.number', 'tcp.srcport', 'tcp.dstport']);
  assert.ok(syns.length > 0);
  assert.equal(fields(c.inside, 'tcp.dstport >= 40000 && tcp.dstport <= 40009', ['frame.number']).length, 0);
  const missing = doc.compare.missing;
  assert.equal(missing.length, 1);
  const m = missing[0];
  assert.equal(m.seenOn, 'outside');
  assert.equal(m.missingOn, 'inside');
  assert.equal(m.verdict, 'dropped-between');
  assert.equal(m.senderSide, 'outside');
  assert.equal(m.syn, true);
  assert.deepEqual(m.to, { ip: '10.0.0.21', port: Number(syns[0][2]) });
  assert.equal(m.from.port, Number(syns[0][1]));
  assert.deepEqual(m.frames, syns.map((r) => Number(r[0])));
  assert.equal(m.packets, syns.length);
});

test('compare passive-range-wider-on-server-than-firewall: the SYN to the port the firewall does not forward is dropped at the router', async () => {
  const doc = await scenarioDoc('passive-range-wider-on-server-than-firewall');
  const c = scenarios['passive-range-wider-on-server-than-firewall'].compare;
  // The router forwards 40000-40004 only (expected.json's router rules): SYNs to a higher passive port never reach the inside.
  const blocked = fields(c.outside, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport > 40004 && tcp.dstport <= 40009', ['frame.number', 'tcp.dstport']);
  assert.ok(blocked.length > 0);
  assert.equal(fields(c.inside, 'tcp.dstport > 40004 && tcp.dstport <= 40009', ['frame.number']).length, 0);
  const missing = doc.compare.missing;
  assert.equal(missing.length, 1);
  assert.equal(missing[0].seenOn, 'outside');
  assert.equal(missing[0].verdict, 'dropped-between');
  assert.deepEqual(missing[0].to, { ip: '203.0.113.1', port: Number(blocked[0][1]) });
  assert.deepEqual(missing[0].frames, blocked.map((r) => Number(r[0])));
  // Through the DNAT the paired connections show (203.0.113.1 → the server), inside it would have gone to the server itself.
  const t = scenarios['passive-range-wider-on-server-than-firewall'].topology;
  assert.deepEqual(missing[0].expectedAs, { src: t.client, srcPort: missing[0].from.port, dst: t.server, dstPort: Number(blocked[0][1]), translated: true });
  // Both sessions pair although their dialogues look alike: 22 s apart, each with its own twin.
  assert.equal(doc.compare.pairs.length, 2);
});

test('compare active-nat-no-helper: the server\'s SYNs to the private PORT address seen outside only, dropped at the router', async () => {
  const doc = await scenarioDoc('active-nat-no-helper');
  const c = scenarios['active-nat-no-helper'].compare;
  const syns = fields(c.outside, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == 192.168.10.10', ['frame.number']);
  assert.ok(syns.length > 0);
  const m = (doc.compare.missing)[0];
  assert.equal(m.seenOn, 'outside');
  assert.equal(m.verdict, 'dropped-between');
  assert.equal(m.from.port, 20);
  assert.deepEqual(m.frames, syns.map((r) => Number(r[0])));
});

/** tshark's view of one announcement frame: the announced address/port and the segment. */
function announcement(file: string, frame: number, passive: boolean): { ip: string; port: number; len: number; seq: number; srcport: number } {
  const [row] = fields(file, `frame.number == ${frame}`, passive
    ? ['ftp.passive.ip', 'ftp.passive.port', 'tcp.len', 'tcp.seq_raw', 'tcp.srcport']
    : ['ftp.active.cip', 'ftp.active.port', 'tcp.len', 'tcp.seq_raw', 'tcp.srcport']);
  return { ip: row[0], port: Number(row[1]), len: Number(row[2]), seq: Number(row[3]), srcport: Number(row[4]) };
}

/** The next segment after `frame` in the same direction of the control connection that carries payload or FIN. */
function nextSegment(file: string, frame: number, srcport: number): { frame: number; seq: number } {
  const [row] = fields(file, `frame.number > ${frame} && tcp.srcport == ${srcport} && (tcp.len > 0 || tcp.flags.fin == 1)`, ['frame.number', 'tcp.seq_raw']);
  return { frame: Number(row[0]), seq: Number(row[1]) };
}

for (const [name, passive, kind, insideValue, outsideValue] of [
  // The brief's example: inside frame 16 `227 (10,0,0,21,156,71)`, outside `227 (203,0,113,1,156,71)`.
  ['pasv-nat-helper', true, 'PASV', '10.0.0.21', '203.0.113.1'],
  ['active-nat-helper', false, 'PORT', '192.168.10.10', '198.51.100.1'],
] as const) {
  test(`compare ${name}: FTP_ADDRESS_REWRITTEN gives both values, the frames and the sequence shift (tshark)`, async () => {
    const doc = await scenarioDoc(name);
    const c = scenarios[name].compare;
    const findings = doc.findings.filter((f) => f.code === 'FTP_ADDRESS_REWRITTEN');
    assert.equal(findings.length, 1);
    const f = findings[0];
    assert.equal(f.severity, 'info');
    const d = f.details;
    assert.equal(d.kind, kind);
    const filter = passive ? 'ftp.response.code == 227' : 'ftp.request.command == "PORT"';
    const [inFrame] = fields(c.inside, filter, ['frame.number']).map((r) => Number(r[0]));
    const [outFrame] = fields(c.outside, filter, ['frame.number']).map((r) => Number(r[0]));
    const ti = announcement(c.inside, inFrame, passive), to = announcement(c.outside, outFrame, passive);
    assert.equal(ti.ip, insideValue);
    assert.equal(to.ip, outsideValue);
    assert.equal(d.inside.frame, inFrame);
    assert.equal(d.outside.frame, outFrame);
    assert.equal(d.inside.announcedIp, ti.ip);
    assert.equal(d.inside.announcedPort, ti.port);
    assert.equal(d.outside.announcedIp, to.ip);
    assert.equal(d.outside.announcedPort, to.port);
    assert.equal(d.inside.value, `${ti.ip}:${ti.port}`);
    assert.equal(d.outside.value, `${to.ip}:${to.port}`);
    assert.ok(f.frames.includes(inFrame));
    assert.equal(f.capture, doc.compare.inside.capture);
    // The line's length change is the segments' length change.
    assert.equal(d.lengthDelta, to.len - ti.len);
    // nf_nat_ftp shifts the later sequence numbers of that direction by it.
    const ni = nextSegment(c.inside, inFrame, ti.srcport), no = nextSegment(c.outside, outFrame, to.srcport);
    const shift = ((no.seq - ni.seq) | 0) - ((to.seq - ti.seq) | 0);
    assert.equal(shift, to.len - ti.len);
    assert.equal(d.sequenceShift.expected, d.lengthDelta);
    assert.deepEqual(d.sequenceShift.seq, { observed: shift, inside: { line: inFrame, next: ni.frame }, outside: { line: outFrame, next: no.frame } });
    assert.equal(d.sequenceShift.ack?.observed, shift, 'acknowledgements back carry the same shift');
    assert.match(f.explanation, new RegExp(`${ti.ip.replace(/\./g, '\\.')}:${ti.port}.*${to.ip.replace(/\./g, '\\.')}:${to.port}`));
    const rw = doc.compare.rewrites;
    assert.equal(rw.length, 1);
    assert.equal(rw[0].inside.announcedIp, ti.ip);
    assert.equal(rw[0].outside.announcedIp, to.ip);
  });
}

test('compare: the NAT mappings of each topology (expected.json topology, tshark for the SNAT address)', async () => {
  for (const name of names) {
    const doc = await scenarioDoc(name);
    const t = scenarios[name].topology;
    const c = scenarios[name].compare;
    const mappings = doc.compare.mappings;
    const control = mappings.filter((m) => m.role === 'control');
    assert.equal(control.length, doc.compare.pairs.length, name);
    const texts = control.flatMap((m) => m.translations.map((x) => x.text));
    if (t.kind === 'server-nat') {
      assert.equal(doc.compare.roles.verdict, 'as-given', name);
      for (const m of control) {
        assert.equal(m.kind, 'DNAT', name);
        assert.equal(m.initiatorSide, 'outside', name);
        assert.equal(m.inside.dst, t.server);
        assert.equal(m.outside.dst, t.clientDials);
      }
      assert.ok(texts.every((x) => x === `DNAT ${t.clientDials}:21 → ${t.server}:21`), `${name}: ${texts.join('; ')}`);
      assert.ok(doc.compare.nat.some((r) => r.text === `DNAT ${t.clientDials} → ${t.server}`), name);
    } else if (t.kind === 'client-nat') {
      assert.equal(doc.compare.roles.verdict, 'as-given', name);
      const [[src, port]] = fields(c.outside, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 21', ['ip.src', 'tcp.srcport']);
      for (const m of control) assert.equal(m.kind, 'SNAT', name);
      assert.ok(texts.includes(`SNAT ${t.client}:${port} → ${src}:${port}`), `${name}: ${texts.join('; ')}`);
      assert.ok(doc.compare.nat.some((r) => r.text === `SNAT ${t.client} → ${src}`), name);
    } else {
      assert.equal(doc.compare.roles.verdict, 'unknown', name);
      assert.ok(mappings.every((m) => m.kind === 'none'), name);
      assert.deepEqual(doc.compare.nat, [], name);
    }
  }
});

test('compare active-nat-helper: the SNAT of the control connection and the translated data connection back to the client', async () => {
  const doc = await scenarioDoc('active-nat-helper');
  const c = scenarios['active-nat-helper'].compare;
  // The data connection the server opened towards the rewritten PORT address, on each side.
  const [[outDst, outPort]] = fields(c.outside, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.srcport == 20', ['ip.dst', 'tcp.dstport']);
  const [[inDst, inPort]] = fields(c.inside, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.srcport == 20', ['ip.dst', 'tcp.dstport']);
  const data = (doc.compare.mappings).find((m) => m.role === 'data');
  assert.ok(data);
  assert.equal(data.outside.dst, outDst);
  assert.equal(data.inside.dst, inDst);
  assert.equal(data.initiatorSide, 'outside');
  assert.equal(data.translations[0].text, `DNAT ${outDst}:${outPort} → ${inDst}:${inPort}`);
});

test('compare data-from-second-client-address: control and data leave through different SNAT addresses', async () => {
  const doc = await scenarioDoc('data-from-second-client-address');
  const c = scenarios['data-from-second-client-address'].compare;
  const [[ctl]] = fields(c.outside, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 21', ['ip.src']);
  const [[data]] = fields(c.outside, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport >= 40000', ['ip.src']);
  assert.notEqual(ctl, data);
  const nat = doc.compare.nat.map((r) => r.text).sort();
  assert.deepEqual(nat, [`SNAT 192.168.10.10 → ${ctl}`, `SNAT 192.168.10.10 → ${data}`].sort());
});

for (const name of ['pasv-nat-helper', 'active-nat-helper', 'pasv-nat-no-helper-no-pasv_address', 'anonymous-login']) {
  test(`compare ${name} with the arguments swapped: the sides are told from the addresses`, async () => {
    const c = scenarios[name].compare;
    const straight = await scenarioDoc(name);
    const swapped = await compareDoc(c.outside, c.inside, c.keylog);
    const nat = scenarios[name].topology.kind !== 'routed';
    assert.equal(basename(swapped.compare.arguments.first.name), c.outside);
    if (nat) {
      assert.equal(swapped.compare.roles.verdict, 'swapped');
      assert.equal(basename(swapped.compare.inside.name), c.inside);
      assert.equal(basename(swapped.compare.outside.name), c.outside);
      assert.deepEqual(swapped.compare.rewrites, straight.compare.rewrites);
      assert.deepEqual((swapped.compare.missing).map((m) => [m.seenOn, m.frames, m.verdict]),
        (straight.compare.missing).map((m) => [m.seenOn, m.frames, m.verdict]));
      assert.deepEqual((swapped.compare.mappings).map((m) => m.translations), (straight.compare.mappings).map((m) => m.translations));
    } else {
      // A routed pair shows the same addresses on both sides: no telling, taken as given.
      assert.equal(swapped.compare.roles.verdict, 'unknown');
      assert.match(swapped.compare.roles.basis, /cannot tell/);
      assert.equal(basename(swapped.compare.inside.name), c.outside);
    }
  });
}

for (const file of ['pasv-nat-helper.inside.pcap', 'active-nat-helper.outside.pcap', 'ipv6-epsv-eprt.inside.pcap', 'passive-range-wider-on-server-than-firewall.outside.pcap']) {
  test(`compare ${file} with itself: every session pairs with itself, nothing rewritten, nothing missing`, async () => {
    const doc = await compareDoc(file, file, null);
    const cmp = doc.compare;
    assert.equal(cmp.sameCapture, true);
    assert.equal(cmp.inside.capture, cmp.outside.capture);
    assert.equal((doc.captures).length, 1);
    assert.deepEqual(cmp.rewrites, []);
    assert.deepEqual(cmp.missing, []);
    assert.ok(!doc.findings.some((f) => f.code === 'FTP_ADDRESS_REWRITTEN'));
    assert.equal(cmp.roles.verdict, 'unknown');
    assert.equal(cmp.clock.offsetUs, 0);
    const sessions = fields(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 21', ['frame.number']).length;
    assert.equal(cmp.pairs.length, sessions);
    for (const p of cmp.pairs) assert.equal(p.inside.flow, p.outside.flow);
    assert.ok((cmp.mappings).every((m) => m.kind === 'none' && m.inside.flow === m.outside.flow));
  });
}
