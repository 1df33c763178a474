/**
 * The TLS rules judge handshakes across the whole capture, but an analysis into a store hands
 * them over part by part as connections end and FTP sessions settle, in whatever order that
 * happens, and forgets them (Rule.tally). Whatever the parts and their order, the findings must
 * be the ones the rules draft from the whole capture at once; and a group must stay bounded
 * however many handshakes join it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS, type FactSet } from '../../../src/analysis/context.js';
import { RULES } from '../../../src/findings/registry.js';
import type { Rule } from '../../../src/findings/types.js';
import { HandshakeGroup, MAX_FRAMES, MAX_ITEMS } from '../../../src/findings/rules/tls-evidence.js';
import { dataConnections, emptyFtpFacts } from '../../../src/proto/ftp/facts.js';
import { emptyTlsFacts, type TlsHandshakeFact, type TlsJudgedHandshake } from '../../../src/proto/tls/facts.js';
import { generateCapture } from '../../../bench/generate.js';
import { manifest, thirdParty, tsharkTruth } from '../../helpers.js';

const TALLIED: Rule[] = RULES.filter((r) => r.tally !== undefined);
const OPTS = { passiveRange: null, trusted: [] };

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * A whole capture's facts cut the way a run into a store cuts them: an FTP part per session with
 * the handshakes of its flows; the other handshakes in TLS parts of random sizes, where the FTP
 * sessions' handshakes come again marked as judged with their session; all in random order.
 */
function parts(facts: FactSet, random: () => number): FactSet[] {
  const certificateIndex = new Map(facts.tls.certificates.map((c) => [c.sha256, c]));
  const part = (sessions: FactSet['ftp']['sessions'], handshakes: TlsHandshakeFact[], stored: TlsJudgedHandshake[], withFtp: Set<number>): FactSet => ({
    ...facts,
    ftp: { ...emptyFtpFacts(), sessions },
    tls: { ...emptyTlsFacts(), handshakes, stored, judgedWithFtp: withFtp, certificateIndex },
  });
  const byFlow = new Map(facts.tls.handshakes.map((h) => [h.flow, h]));
  const owned = new Set<number>();
  const out: FactSet[] = [];
  for (const s of facts.ftp.sessions) {
    const hs: TlsHandshakeFact[] = [];
    for (const flow of [s.flow, ...dataConnections(s).map((c) => c.flow)]) {
      const h = byFlow.get(flow);
      if (h && !owned.has(flow)) { owned.add(flow); hs.push(h); }
    }
    out.push(part([s], [], hs.sort((a, b) => a.flow - b.flow), new Set()));
  }
  const rest = shuffle(facts.tls.handshakes, random);
  while (rest.length > 0) {
    const chunk = rest.splice(0, 1 + Math.floor(random() * 40)).sort((a, b) => a.flow - b.flow);
    out.push(part([], chunk, [], new Set(chunk.filter((h) => owned.has(h.flow)).map((h) => h.flow))));
  }
  return shuffle(out, random);
}

/** The rules' drafts from the whole fact set, and from its parts added one by one. */
function compare(name: string, facts: FactSet, seed: number): number {
  let drafts = 0;
  for (const rule of TALLIED) {
    const whole = rule.evaluate(facts, OPTS);
    const tally = rule.tally!();
    for (const p of parts(facts, rng(seed))) tally.add(p, OPTS);
    // The end: what is left in memory is the last part (nothing, here).
    tally.add({ ...facts, ftp: emptyFtpFacts(), tls: { ...emptyTlsFacts(), certificates: facts.tls.certificates } }, OPTS);
    assert.deepEqual(tally.finish(OPTS), whole, `${name}: ${rule.code} from parts (seed ${seed})`);
    drafts += whole.length;
  }
  return drafts;
}

test('from parts in any order, the TLS rules draft what they draft from the whole capture: benchmark traffic with groups beyond the bounds', { timeout: 300_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-tally-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const gen = generateCapture({ out: join(tmp, 'mixed.pcap'), sizeMb: 120, concurrency: 300, thinkUs: 20_000, seed: 11 });
  const { facts } = await analyzeCapture(gen.file, DEFAULT_OPTIONS);
  assert.ok(facts.tls.handshakes.length >= 100, `handshakes: ${facts.tls.handshakes.length}`);
  assert.ok(facts.ftp.sessions.some((s) => s.tls.mode !== 'none'), 'FTPS sessions');
  // The bounds matter here: some finding counts more handshakes than it lists, and has more
  // evidence frames than it shows.
  const whole = TALLIED.flatMap((r) => r.evaluate(facts, OPTS));
  assert.ok(whole.some((d) => (d.details.count as number) > MAX_ITEMS), 'a group beyond MAX_ITEMS handshakes');
  assert.ok(whole.some((d) => d.frames.length === MAX_FRAMES), 'a group beyond MAX_FRAMES frames');
  // What a finding about FTPS to a server lists, worked out here from the sessions themselves:
  // its sessions in the order of their first handshake, their handshakes session by session.
  const byFlow = new Map(facts.tls.handshakes.map((h) => [h.flow, h]));
  const servers = new Map<string, Array<{ flow: number; hs: number[] }>>();
  for (const s of facts.ftp.sessions) {
    const hs = [s.flow, ...dataConnections(s).map((c) => c.flow)].filter((f) => byFlow.has(f) && byFlow.get(f)!.serverPort !== 443).sort((a, b) => a - b);
    if (hs.length === 0) continue;
    const list = servers.get(`${s.server}|${s.serverPort}`) ?? [];
    servers.set(`${s.server}|${s.serverPort}`, [...list, { flow: s.flow, hs }]);
  }
  const ftps = whole.filter((d) => d.details.ftps === true);
  assert.ok(ftps.some((d) => (d.details.sessions as number[]).length === MAX_ITEMS), 'an FTPS server finding listing as many sessions as it can');
  assert.equal(ftps.length, servers.size);
  for (const d of ftps) {
    const sessions = servers.get(`${d.details.server}|${d.details.controlPort}`)!.sort((a, b) => a.hs[0] - b.hs[0]);
    assert.deepEqual(d.details.sessions, sessions.slice(0, MAX_ITEMS).map((x) => x.flow));
    assert.deepEqual(d.details.flows, sessions.flatMap((x) => x.hs).slice(0, MAX_ITEMS));
    assert.equal(d.details.count, sessions.flatMap((x) => x.hs).length);
    assert.match(d.explanation ?? '', new RegExp(`^${sessions.length} FTPS sessions to .* \\(flows ${sessions.slice(0, 8).map((x) => x.flow).join(', ')}, …\\)`));
  }
  for (const seed of [1, 2, 3]) compare('benchmark traffic', facts, seed);
});

test('from parts in any order, the TLS rules draft what they draft from the whole capture: third-party TLS captures', { timeout: 300_000 }, async () => {
  const entries = manifest().filter((e) => {
    if (e.tsharkJson === '' || e.localPath.endsWith('.zst')) return false;
    const tls = (tsharkTruth(e) as { tls?: { records: Array<{ handshake_types: number[] }> } }).tls;
    return tls !== undefined && tls.records.some((r) => r.handshake_types.includes(1));
  });
  assert.ok(entries.length >= 20, `captures with TLS: ${entries.length}`);
  const codes = new Set<string>();
  for (const e of entries) {
    const { facts, findings } = await analyzeCapture(thirdParty(e.localPath), DEFAULT_OPTIONS);
    for (const f of findings) if (f.code.startsWith('TLS_')) codes.add(f.code);
    compare(e.localPath, facts, 7);
  }
  // Every tallied rule found something somewhere in the corpus, so each was compared on real drafts.
  for (const r of TALLIED) assert.ok(codes.has(r.code), `no ${r.code} in the corpus`);
});

test('a group keeps the lowest flows, the earliest time and the lowest frames, however many handshakes join it in whatever order', () => {
  const random = rng(5);
  const g = new HandshakeGroup('k');
  const flows = shuffle(Array.from({ length: 1000 }, (_, i) => i + 1), random);
  for (const flow of flows) {
    const h = { flow, messages: [] } as unknown as TlsJudgedHandshake;
    g.add({ h, link: undefined }, [flow * 3, flow * 3 + 1, 7], 1e6 + flow, 0);
  }
  assert.equal(g.count, 1000);
  assert.deepEqual(g.items.map((e) => e.h.flow), Array.from({ length: MAX_ITEMS }, (_, i) => i + 1));
  assert.equal(g.firstTs, 1e6 + 1);
  const frames = [...new Set(flows.flatMap((f) => [f * 3, f * 3 + 1, 7]))].sort((a, b) => a - b).slice(0, MAX_FRAMES);
  assert.deepEqual(g.frames, frames);
  assert.equal(g.flowList(), `flows 1, 2, 3, 4, 5, 6, 7, 8 and 992 more`);
});
