/**
 * Live analysis: the offline pipeline (Run) fed frame by frame, with a snapshot about once a
 * second in between. Analyzers write their facts at finish(), once; a snapshot gets them
 * without ending anything:
 *
 * - FTP: every FtpSession is a stream consumer of its control flow, so the sessions of open
 *   flows (seen through a probe analyzer) and of flows ended since are at hand. Their data
 *   connections still open are read again off their flows (as the matcher does when they end),
 *   then the session's own finish() settles channel outcomes — both are idempotent and the
 *   analyzer repeats them at the end. A session whose control connection closed more than the
 *   matcher's channel window ago, with none of its data connections open, can change no more:
 *   it is *settled*, stored once, and dropped from memory (with its findings). FTPS sessions
 *   wait for the end: their findings need the TLS analyzer's facts.
 * - Layer 2: the l2 analyzer's finish() only reads its trackers into ctx.facts.l2, so it runs
 *   again, every `l2EveryUs`. Its state is bounded by its own limits (per-second flooding
 *   detail up to 86 400 s and 500 000 cells, 65 536 source MACs...).
 * - Analyzers without either (TLS, until it offers snapshot() and release()) contribute at the
 *   end only, and keep what they keep until then.
 *
 * Findings of units still in flux are published (printed, streamed, stored) once they have
 * held for `settleUs`: a data connection whose SYN-ACK is a moment late is not a failure.
 * A published finding that disappears again is reported as cleared.
 */
import { Run, type FlowSink } from './pipeline.js';
import { AnalysisContext, type AnalyzeOptions, type FactSet } from './context.js';
import type { Analyzer, AnalyzerFactory } from './analyzer.js';
import { ANALYZERS } from './registry.js';
import { leanHeapTick } from '../heap.js';
import { runRules } from '../findings/engine.js';
import type { Finding } from '../findings/types.js';
import type { Frame } from '../source/frame.js';
import type { Flow } from '../flow/flow.js';
import { FtpAnalyzer, canSettle } from '../proto/ftp/analyzer.js';
import { FtpSession } from '../proto/ftp/session.js';
import { observe } from '../proto/ftp/observe.js';
import { emptyFtpFacts, type ChannelMode, type DataConnectionFact, type FtpSessionFact } from '../proto/ftp/facts.js';
import { PROTOCOLS } from '../protocols.js';
import type { Db } from '../store/db.js';
import type { SnapshotPart } from '../store/writer.js';
import { writeProtocolFacts } from '../store/facts.js';

export const DEFAULT_SETTLE_US = 2e6;
/**
 * Layer-2 facts are rebuilt from all of the l2 analyzer's tallies (tens of ms once it has seen
 * hours of traffic): at most this often, which is soon enough for heartbeats and flooding.
 */
export const DEFAULT_L2_EVERY_US = 10e6;

export interface LiveAnalysisOptions {
  /** Capture file (or interface) and display name, as the capture row shows them. */
  file: string;
  name: string;
  /** Where ended flows go (the SQLite writer). */
  flowSink?: FlowSink;
  factories?: AnalyzerFactory[];
  settleUs?: number;
  l2EveryUs?: number;
}

/** An FTP session as the live stream shows it. */
export interface LiveSessionSummary {
  session: number;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  state: 'open' | 'closed';
  login: FtpSessionFact['login'];
  tls: FtpSessionFact['tls']['mode'];
  commands: number;
  channels: number;
  transfers: number;
  firstTs: number;
  lastTs: number;
  lastFrame: number;
}

export interface LiveChanges {
  /** Findings published by this snapshot. */
  added: Finding[];
  /** Published findings that no longer hold (the data connection came up after all...). */
  cleared: Finding[];
  /** FTP sessions new or changed since the previous snapshot. */
  sessions: LiveSessionSummary[];
}

export interface LiveCounters {
  frames: number;
  bytes: number;
  /** Flows ended so far, and open now. */
  flows: number;
  openFlows: number;
  /** FTP sessions in memory, and stored for good. */
  sessions: number;
  settledSessions: number;
  /** Findings published and holding now. */
  findings: number;
}

export interface LiveSnapshot {
  /** The whole capture so far: capture row, stats, warnings, hosts; protocol sections = current part. */
  facts: FactSet;
  /** Settled units and their findings (null when none settled since the last snapshot). */
  settled: { facts: FactSet; findings: Finding[] } | null;
  current: { facts: FactSet; findings: Finding[] };
  changes: LiveChanges;
  counters: LiveCounters;
}

interface Published { finding: Finding; since: number; shown: boolean; seen: number }

export class LiveAnalysis {
  readonly ctx: AnalysisContext;
  private run: Run;
  private open = new Map<number, Flow>();
  private ftp: FtpTracker;
  private l2: Analyzer | null;
  private published = new Map<string, Published>();
  private settledFindings = 0;
  private ticks = 0;
  private finished = false;
  private lastL2 = -Infinity;
  private settleUs: number;
  private l2EveryUs: number;

  constructor(private options: AnalyzeOptions, o: LiveAnalysisOptions) {
    this.ctx = new AnalysisContext(options, o.file, o.name);
    this.settleUs = o.settleUs ?? DEFAULT_SETTLE_US;
    this.l2EveryUs = o.l2EveryUs ?? DEFAULT_L2_EVERY_US;
    const analyzers = (o.factories ?? ANALYZERS).map((make) => make(this.ctx));
    const ftp = analyzers.find((a): a is FtpAnalyzer => a instanceof FtpAnalyzer) ?? null;
    this.ftp = new FtpTracker(ftp, this.open);
    this.l2 = analyzers.find((a) => a.name === 'l2') ?? null;
    // Last in the list: by the time it hears of a flow's end, the others have handled it.
    const probe: Analyzer = {
      name: 'live',
      flowStart: (flow) => { this.open.set(flow.index, flow); },
      flowEnd: (flow) => { this.open.delete(flow.index); this.ftp.flowEnded(flow); },
    };
    this.run = new Run(this.ctx, [...analyzers, probe], o.flowSink);
  }

  frame(f: Frame): void {
    this.run.frame(f);
    // A live capture has no file reader to stop the young generation's growth (src/heap.ts).
    if ((f.no & 1023) === 0) leanHeapTick();
  }

  get openFlows(): number {
    return this.run.openFlows;
  }

  /**
   * The analysis so far at `now` (µs, the frames' clock): ends idle flows, gathers facts,
   * runs the rules. Call release() once the snapshot is stored.
   */
  snapshot(now: number): LiveSnapshot {
    if (this.finished) throw new Error('live analysis already finished');
    this.ticks++;
    this.run.expire(now);
    const { current, settled } = this.ftp.collect(now);
    if (this.l2 && now - this.lastL2 >= this.l2EveryUs) {
      this.l2.finish?.();
      this.lastL2 = now;
    }
    const base = this.ctx.facts;
    const facts: FactSet = { ...base, hosts: this.run.hostFacts(), protocols: this.run.protocolCounts(), ftp: { ...emptyFtpFacts(), sessions: current } };
    const settledKeys = new Set(settled.map((s) => s.flow));
    const all = runRules({ ...facts, ftp: { ...emptyFtpFacts(), sessions: [...current, ...settled] } }, this.options);
    const settledFindings = all.filter((f) => f.subject.session !== undefined && settledKeys.has(f.subject.session));
    const currentFindings = all.filter((f) => !(f.subject.session !== undefined && settledKeys.has(f.subject.session)));
    const changes = this.publish(currentFindings, settledFindings, now, false);
    changes.sessions = this.ftp.changedSessions(current, settled);
    this.settledFindings += settledFindings.length;
    return {
      facts,
      settled: settled.length > 0 ? { facts: onlyFtp(base, settled), findings: settledFindings } : null,
      current: { facts, findings: [...this.published.values()].filter((p) => p.shown).map((p) => p.finding) },
      changes,
      counters: this.counters(current.length),
    };
  }

  /** The snapshot's settled units are stored: forget them. */
  release(s: LiveSnapshot): void {
    if (s.settled) this.ftp.release(s.settled.facts.ftp.sessions);
  }

  /** The capture ended: everything is finished as offline, and every finding holds at once. */
  finish(): LiveSnapshot {
    this.finished = true;
    this.run.finish();
    const ctx = this.ctx;
    if (ctx.suppressedWarnings > 0) ctx.warn(-1, `${ctx.suppressedWarnings} further warnings suppressed`);
    // Sessions stored as settled stay out, whether or not the analyzer let go of them.
    ctx.facts.ftp.sessions = ctx.facts.ftp.sessions.filter((s) => !this.ftp.isSettled(s.flow));
    const findings = runRules(ctx.facts, this.options);
    const changes = this.publish(findings, [], Infinity, true);
    changes.sessions = this.ftp.changedSessions(ctx.facts.ftp.sessions, []);
    return {
      facts: ctx.facts, settled: null, current: { facts: ctx.facts, findings }, changes,
      counters: this.counters(ctx.facts.ftp.sessions.length),
    };
  }

  private counters(sessions: number): LiveCounters {
    const s = this.ctx.facts.stats;
    return {
      frames: s.frames, bytes: s.bytes, flows: s.flows, openFlows: this.run.openFlows, sessions,
      settledSessions: this.ftp.settledCount, findings: this.settledFindings + [...this.published.values()].filter((p) => p.shown).length,
    };
  }

  private publish(current: Finding[], settled: Finding[], now: number, final: boolean): LiveChanges {
    const added: Finding[] = [];
    const cleared: Finding[] = [];
    const tick = this.ticks;
    for (const [key, f] of keyed(settled)) {
      const p = this.published.get(key);
      if (!p?.shown) added.push(f);
      // Stored for good now: nothing left to follow.
      this.published.delete(key);
    }
    for (const [key, f] of keyed(current)) {
      let p = this.published.get(key);
      if (!p) { p = { finding: f, since: now, shown: false, seen: tick }; this.published.set(key, p); }
      p.finding = f;
      p.seen = tick;
      if (!p.shown && (final || now - p.since >= this.settleUs)) { p.shown = true; added.push(f); }
    }
    for (const [key, p] of this.published) {
      if (p.seen === tick) continue;
      if (p.shown) cleared.push(p.finding);
      this.published.delete(key);
    }
    if (final) this.published.clear();
    return { added, cleared, sessions: [] };
  }
}

/** Findings by a key that survives re-evaluation: code and subject (and rank for repeats). */
function keyed(findings: Finding[]): Array<[string, Finding]> {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const base = `${f.code}|${f.subject.session ?? ''}|${f.subject.flow ?? ''}|${f.subject.host ?? ''}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return [n === 0 ? base : `${base}#${n}`, f];
  });
}

function onlyFtp(base: FactSet, sessions: FtpSessionFact[]): FactSet {
  const ftp = emptyFtpFacts();
  ftp.sessions = sessions;
  return { ...base, ftp };
}

/**
 * FTP sessions of a live capture: the open ones (consumers of open control flows), those whose
 * control flow ended and which may still change, and the count of those stored for good.
 */
class FtpTracker {
  private ended: FtpSession[] = [];
  private settled = new Set<number>();
  private signatures = new Map<number, string>();

  constructor(private analyzer: FtpAnalyzer | null, private open: Map<number, Flow>) {}

  get settledCount(): number {
    return this.settled.size;
  }

  isSettled(session: number): boolean {
    return this.settled.has(session);
  }

  flowEnded(flow: Flow): void {
    for (const c of flow.consumers) {
      if (c instanceof FtpSession && c.flow === flow && !c.abandoned && !c.tentative) this.ended.push(c);
    }
  }

  collect(now: number): { current: FtpSessionFact[]; settled: FtpSessionFact[] } {
    const current: FtpSessionFact[] = [];
    const settled: FtpSessionFact[] = [];
    for (const flow of this.open.values()) {
      for (const c of flow.consumers) {
        if (!(c instanceof FtpSession) || c.flow !== flow || c.abandoned || c.tentative) continue;
        this.refresh(c.fact);
        const fact = c.finish();
        // Until the control flow ends the session's own bounds are those of its start.
        current.push({ ...fact, lastFrame: flow.lastFrame, lastTs: flow.lastTs });
      }
    }
    for (const s of this.ended) {
      const open = this.refresh(s.fact);
      const fact = s.finish();
      if (canSettle(fact, now, () => open > 0)) settled.push(fact);
      else current.push(fact);
    }
    current.sort((a, b) => a.flow - b.flow);
    return { current, settled };
  }

  /** Re-reads the data connections still open off their flows; returns how many are open. */
  private refresh(s: FtpSessionFact): number {
    let open = 0;
    const again = (conn: DataConnectionFact, mode: ChannelMode | null): void => {
      const flow = this.open.get(conn.flow);
      if (!flow) return;
      open++;
      // Who opened it, as the matcher decided: the client for passive mode, the server for active.
      const clientIsInitiator = flow.srcIp === s.client ? true : flow.srcIp === s.server ? false : mode !== 'active';
      observe(conn, flow, clientIsInitiator);
    };
    for (const ch of s.channels) for (const conn of ch.connections) again(conn, ch.mode);
    for (const conn of s.encryptedDataConnections) again(conn, null);
    return open;
  }

  release(facts: FtpSessionFact[]): void {
    const gone = new Set<FtpSession>();
    const keys = new Set(facts.map((f) => f.flow));
    for (const k of keys) { this.settled.add(k); this.signatures.delete(k); }
    this.ended = this.ended.filter((s) => {
      if (!keys.has(s.fact.flow)) return true;
      gone.add(s);
      return false;
    });
    this.analyzer?.release(gone);
  }

  changedSessions(current: FtpSessionFact[], settled: FtpSessionFact[]): LiveSessionSummary[] {
    const out: LiveSessionSummary[] = [];
    for (const [list, state] of [[current, null], [settled, 'closed']] as const) {
      for (const s of list) {
        const closed = state === 'closed' || !this.isOpen(s.flow);
        const sig = `${s.commandCount}|${s.channels.length}|${s.transfers.length}|${s.login}|${s.tls.mode}|${s.lastFrame}|${closed}`;
        if (this.signatures.get(s.flow) === sig) continue;
        this.signatures.set(s.flow, sig);
        out.push({
          session: s.flow, client: s.client, clientPort: s.clientPort, server: s.server, serverPort: s.serverPort,
          state: closed ? 'closed' : 'open', login: s.login, tls: s.tls.mode, commands: s.commandCount,
          channels: s.channels.length, transfers: s.transfers.length, firstTs: s.firstTs, lastTs: s.lastTs, lastFrame: s.lastFrame,
        });
      }
    }
    return out;
  }

  private isOpen(flowIndex: number): boolean {
    return this.open.has(flowIndex);
  }
}

/** The store parts of a snapshot: protocol rows through the modules' own writers. */
export function snapshotParts(s: LiveSnapshot): { settled: SnapshotPart | null; current: SnapshotPart } {
  const write = (facts: FactSet, only?: string) => (db: Db, cid: number): void =>
    writeProtocolFacts(db, cid, facts, PROTOCOLS.filter((p) => only === undefined || p.name === only).map((p) => p.writeFacts));
  return {
    settled: s.settled ? { writeFacts: write(s.settled.facts, 'ftp'), findings: s.settled.findings } : null,
    current: { writeFacts: write(s.current.facts), findings: s.current.findings },
  };
}
