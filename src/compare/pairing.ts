/**
 * Pairs the FTP sessions seen at the two vantage points. Addresses cannot be used — NAT changes
 * them, which is the point of comparing — so a session is recognised by its dialogue: the
 * commands and their reply codes in order (greeting included), aligned by longest common
 * subsequence. Timing then picks among look-alikes (a script logging in every minute): the
 * clock offset between the two captures is estimated from every candidate pair, the offset most
 * candidates agree on wins, and pairs are accepted best dialogue match first, each within the
 * window of that offset.
 */
import { alignTokens, median } from './align.js';
import type { CommandRecord, SessionRecord } from './model.js';

/** Below this share of common tokens two dialogues are different sessions. */
export const MIN_DIALOGUE_SCORE = 0.5;
/** Sessions without a readable command (encrypted control channel, no keys) pair on timing alone, last. */
const TIMING_ONLY_SCORE = 0.2;
/** Dialogue scores within one band (a quarter) count as alike: timing decides between them. */
const SCORE_BANDS = 4;

export interface SessionPair {
  inside: SessionRecord;
  outside: SessionRecord;
  /** Common tokens over the longer dialogue (1 = the same commands and replies in the same order). */
  score: number;
  basis: 'dialogue' | 'timing-only';
  tokens: { inside: number; outside: number; common: number };
  /** The same command at both vantage points. */
  commands: Array<[CommandRecord, CommandRecord]>;
  /** This pair's clock offset: outside time − inside time for the same packet, µs. */
  offsetUs: number;
  /**
   * Half the difference between the outside−inside delays of client lines and of server lines:
   * > 0 when the client's packets are seen inside first, i.e. the client is on the inside. null
   * when only one direction was measurable.
   */
  clientLeadUs: number | null;
}

export interface ClockOffset {
  /** outside time − inside time for the same packet, µs (forwarding delay averaged out). */
  us: number;
  basis: 'ftp-sessions' | 'flows' | 'none';
  /** Session pairs (or flows) it was measured on. */
  samples: number;
}

export interface SessionPairing {
  pairs: SessionPair[];
  unpairedInside: SessionRecord[];
  unpairedOutside: SessionRecord[];
  offset: ClockOffset;
}

interface Dialogue {
  tokens: string[];
  signature: string;
  /** Per token, the command it stands for (null for the greeting). */
  commands: Array<CommandRecord | null>;
}

function dialogue(s: SessionRecord): Dialogue {
  const tokens: string[] = [];
  const commands: Array<CommandRecord | null> = [];
  if (s.greetingCode !== null) { tokens.push(`greeting ${s.greetingCode}`); commands.push(null); }
  for (const c of s.commands) { tokens.push(`${c.verb} ${c.replyCode ?? '-'}`); commands.push(c); }
  return { tokens, signature: tokens.join('\n'), commands };
}

/** Automated transfers repeat the same dialogue: each distinct pair of dialogues is aligned once. */
type AlignCache = Map<string, Array<[number, number]>>;

function alignCached(cache: AlignCache, a: Dialogue, b: Dialogue): Array<[number, number]> {
  const key = `${a.signature}\u0000${b.signature}`;
  let r = cache.get(key);
  if (!r) { r = alignTokens(a.tokens, b.tokens); cache.set(key, r); }
  return r;
}

function candidate(cache: AlignCache, inside: SessionRecord, outside: SessionRecord, di: Dialogue, dout: Dialogue): SessionPair | null {
  if (di.tokens.length === 0 && dout.tokens.length === 0) {
    return {
      inside, outside, score: TIMING_ONLY_SCORE, basis: 'timing-only', tokens: { inside: 0, outside: 0, common: 0 }, commands: [],
      offsetUs: outside.firstTs - inside.firstTs, clientLeadUs: null,
    };
  }
  const aligned = alignCached(cache, di, dout);
  const score = aligned.length / Math.max(di.tokens.length, dout.tokens.length);
  if (aligned.length === 0 || score < MIN_DIALOGUE_SCORE) return null;
  const commands: Array<[CommandRecord, CommandRecord]> = [];
  const clientLines: number[] = [], serverLines: number[] = [];
  for (const [i, j] of aligned) {
    const a = di.commands[i], b = dout.commands[j];
    if (!a || !b) continue;
    commands.push([a, b]);
    clientLines.push(b.ts - a.ts);
    if (a.replyTs !== null && b.replyTs !== null) serverLines.push(b.replyTs - a.replyTs);
  }
  let offsetUs = outside.firstTs - inside.firstTs;
  let clientLeadUs: number | null = null;
  if (clientLines.length > 0 && serverLines.length > 0) {
    // A line from the inside host is seen inside first (offset + delay), one from the outside
    // host outside first (offset − delay): the mean of the two medians cancels the delay.
    const c = median(clientLines), s = median(serverLines);
    offsetUs = (c + s) / 2;
    clientLeadUs = (c - s) / 2;
  } else if (clientLines.length > 0) offsetUs = median(clientLines);
  else if (serverLines.length > 0) offsetUs = median(serverLines);
  return {
    inside, outside, score, basis: 'dialogue', tokens: { inside: di.tokens.length, outside: dout.tokens.length, common: aligned.length },
    commands, offsetUs, clientLeadUs,
  };
}

interface Cluster<T> { support: number; members: T[] }

/** The candidates within ±tolUs of one of them carrying the most score. */
function densest<T extends { offsetUs: number; score: number }>(cands: T[], tolUs: number): Cluster<T> {
  const sorted = [...cands].sort((a, b) => a.offsetUs - b.offsetUs);
  const prefix = [0];
  for (const c of sorted) prefix.push(prefix[prefix.length - 1] + c.score);
  let lo = 0, hi = 0, best = { support: -1, from: 0, to: 0, center: Infinity };
  for (let k = 0; k < sorted.length; k++) {
    while (sorted[lo].offsetUs < sorted[k].offsetUs - tolUs) lo++;
    while (hi < sorted.length && sorted[hi].offsetUs <= sorted[k].offsetUs + tolUs) hi++;
    const support = prefix[hi] - prefix[lo];
    // Equal support: the smaller offset (captures taken at once by synchronised clocks are the usual case).
    if (support > best.support || (support === best.support && Math.abs(sorted[k].offsetUs) < Math.abs(best.center))) {
      best = { support, from: lo, to: hi, center: sorted[k].offsetUs };
    }
  }
  return { support: best.support, members: sorted.slice(best.from, best.to) };
}

/** Finest tolerance the offset is sharpened to (capture clocks on two hosts jitter more than this). */
const FINEST_TOLERANCE_US = 100;

/**
 * The clock offset most (score-weighted) candidates agree on, or null without candidates.
 * Look-alike sessions at a regular pace fit many offsets within a coarse window; the true pairs
 * fit one, tightly. So the densest cluster is sharpened tenfold at a time as long as the finer
 * one still holds at least half as many candidates as there can be true pairs in it (one per
 * session on the scarcer side): past that, the clocks' jitter is being cut, not the look-alikes.
 */
export function consensusOffset<T extends { offsetUs: number; score: number; inside: unknown; outside: unknown }>(cands: T[], windowUs: number): { us: number; samples: number } | null {
  if (cands.length === 0) return null;
  const possiblePairs = (xs: T[]): number => Math.min(new Set(xs.map((c) => c.inside)).size, new Set(xs.map((c) => c.outside)).size);
  let cluster = densest(cands, windowUs);
  for (let tol = windowUs / 10; tol >= FINEST_TOLERANCE_US && cluster.members.length > 1; tol /= 10) {
    const finer = densest(cluster.members, tol);
    if (finer.members.length < possiblePairs(cluster.members) / 2) break;
    cluster = finer;
  }
  return { us: median(cluster.members.map((c) => c.offsetUs)), samples: cluster.members.length };
}

/** Above this many session combinations, only those near a first estimate of the offset are scored. */
const MAX_COMBINATIONS = 40_000;
const SAMPLE_SESSIONS = 150;

/** Indexes of `outside` worth scoring against each inside session. */
function combinations(inside: SessionRecord[], outside: SessionRecord[], windowUs: number): (i: number) => number[] {
  const all = outside.map((_, j) => j);
  if (inside.length * outside.length <= MAX_COMBINATIONS) return () => all;
  // Measure the clocks on the first sessions of each capture, then look only around that offset.
  const byStart = (xs: SessionRecord[]): SessionRecord[] => [...xs].sort((a, b) => a.firstTs - b.firstTs).slice(0, SAMPLE_SESSIONS);
  const sample = pairSessions(byStart(inside), byStart(outside), windowUs);
  const order = all.sort((a, b) => outside[a].firstTs - outside[b].firstTs);
  // Session starts differ from the line-based offset by the handshake's timing only: twice the window is ample.
  const slack = 2 * windowUs;
  return (i) => {
    const from = inside[i].firstTs + sample.offset.us - slack, to = inside[i].firstTs + sample.offset.us + slack;
    let lo = 0, hi = order.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (outside[order[m]].firstTs < from) lo = m + 1; else hi = m; }
    const out: number[] = [];
    for (let k = lo; k < order.length && outside[order[k]].firstTs <= to; k++) out.push(order[k]);
    return out;
  };
}

export function pairSessions(inside: SessionRecord[], outside: SessionRecord[], windowUs: number): SessionPairing {
  const di = inside.map(dialogue), dout = outside.map(dialogue);
  const cands: SessionPair[] = [];
  const near = combinations(inside, outside, windowUs);
  const cache: AlignCache = new Map();
  for (let i = 0; i < inside.length; i++) {
    for (const j of near(i)) {
      const c = candidate(cache, inside[i], outside[j], di[i], dout[j]);
      if (c) cands.push(c);
    }
  }
  const consensus = consensusOffset(cands, windowUs);
  const offset: ClockOffset = consensus ? { us: consensus.us, basis: 'ftp-sessions', samples: consensus.samples } : { us: 0, basis: 'none', samples: 0 };
  // Clearly better dialogues first; among similar ones (a lost line or two) the closer in time.
  const band = (c: SessionPair): number => Math.floor(c.score * SCORE_BANDS);
  cands.sort((a, b) => band(b) - band(a) || Math.abs(a.offsetUs - offset.us) - Math.abs(b.offsetUs - offset.us)
    || b.score - a.score || a.inside.flow - b.inside.flow || a.outside.flow - b.outside.flow);
  const usedIn = new Set<SessionRecord>(), usedOut = new Set<SessionRecord>();
  const pairs: SessionPair[] = [];
  for (const c of cands) {
    if (usedIn.has(c.inside) || usedOut.has(c.outside)) continue;
    if (Math.abs(c.offsetUs - offset.us) > windowUs) continue;
    usedIn.add(c.inside);
    usedOut.add(c.outside);
    pairs.push(c);
  }
  pairs.sort((a, b) => a.inside.firstTs - b.inside.firstTs);
  // The accepted pairs measure the clocks better than the consensus, which look-alikes joined.
  if (pairs.length > 0) Object.assign(offset, { us: median(pairs.map((p) => p.offsetUs)), samples: pairs.length });
  return { pairs, unpairedInside: inside.filter((s) => !usedIn.has(s)), unpairedOutside: outside.filter((s) => !usedOut.has(s)), offset };
}
