import { basename } from 'node:path';
import { readCapture, type ReadOptions } from '../source/open.js';
import { LINKTYPE, type Frame } from '../source/frame.js';
import { decodePacket, type Packet } from '../decode/packet.js';
import { FlowTable } from '../flow/table.js';
import type { Flow } from '../flow/flow.js';
import { runRules } from '../findings/engine.js';
import type { Finding, Rule, Tally } from '../findings/types.js';
import { RULES } from '../findings/registry.js';
import { PROTOCOLS } from '../protocols.js';
import { AnalysisContext, type AnalyzeOptions, type FactSet } from './context.js';
import type { Analyzer, AnalyzerFactory } from './analyzer.js';
import { emptyFtpFacts } from '../proto/ftp/facts.js';
import { emptyTlsFacts } from '../proto/tls/facts.js';
import { emptyL2Facts } from '../proto/l2/facts.js';
import { HostTable } from './hosts.js';
import type { HostFact, ProtocolCount } from './facts.js';
import { ANALYZERS } from './registry.js';

/** Where flows go as they end (the SQLite writer); facts and findings are returned at the end. */
export interface FlowSink {
  flow(flow: Flow): void;
}

export interface AnalysisResult {
  facts: FactSet;
  findings: Finding[];
}

/** Units an analyzer settled during the capture, judged already (or to be judged at the end): stored at once. */
export interface SettledPart {
  protocol: string;
  facts: FactSet;
  findings: Finding[];
}

export interface SettleSink {
  store(part: SettledPart): void;
}

/** How often (capture time) analyzers are asked for settled units. */
export const SETTLE_EVERY_US = 5e6;

export interface PipelineOptions {
  /**
   * Where settled units go during the run (the SQLite writer). Without it everything stays in
   * memory until the end and comes back in the result, as for tests and comparisons.
   */
  settle?: SettleSink;
  progress?: ReadOptions['progress'];
  flowSink?: FlowSink;
  analyzers?: AnalyzerFactory[];
  /** Display name (defaults to the file's base name; '-' becomes 'stdin'). */
  name?: string;
}

/**
 * One capture through the whole pipeline: source → decode → layer-2 analyzers and flow table →
 * reassembly → application analyzers → facts → rules. Streaming: nothing per packet is kept.
 */
export async function analyzeCapture(path: string, options: AnalyzeOptions, p: PipelineOptions = {}): Promise<AnalysisResult> {
  const ctx = new AnalysisContext(options, path, p.name ?? (path === '-' ? 'stdin' : basename(path)));
  const run = new Run(ctx, (p.analyzers ?? ANALYZERS).map((make) => make(ctx)), p.flowSink);
  const cap0 = ctx.facts.capture;
  let nextSettle = -Infinity;
  const settle = p.settle;
  const read = await readCapture(path, {
    frame: settle === undefined ? (f) => run.frame(f) : (f) => {
      run.frame(f);
      // The clock is the capture's: the latest timestamp so far.
      const now = cap0.lastTs;
      if (now === null || now < nextSettle) return;
      nextSettle = now + SETTLE_EVERY_US;
      storeSettled(run, now, settle);
    },
    warning: (w) => ctx.warn(w.offset, w.message),
    secrets: (type, data) => run.secrets(type, data),
  }, { progress: p.progress });
  // Once every flow has ended, whatever can settle is judged and stored in batches the same way,
  // so the end of a large capture does not judge (and hold the findings of) everything at once.
  run.finish(settle === undefined ? undefined : () => storeSettled(run, Infinity, settle));
  const cap = ctx.facts.capture;
  cap.sha256 = read.sha256;
  cap.format = read.format;
  cap.compressed = read.compressed;
  cap.linkTypes = read.linkTypes;
  cap.damaged = read.damaged;
  if (ctx.suppressedWarnings > 0) ctx.warn(-1, `${ctx.suppressedWarnings} further warnings suppressed`);
  const findings = runRules(ctx.facts, options, RULES, run.tallies);
  return { facts: ctx.facts, findings };
}

function rulesOf(protocol: string): Rule[] {
  const m = PROTOCOLS.find((p) => p.name === protocol);
  if (!m) throw new Error(`settled units of unknown protocol ${protocol}`);
  return m.rules;
}

/** Asks for settled units until none come (analyzers hand them over a batch at a time) and stores them. */
function storeSettled(run: Run, now: number, sink: SettleSink): void {
  for (let parts = run.settle(now); parts.length > 0; parts = run.settle(now)) {
    for (const part of parts) sink.store(part);
  }
}

/**
 * One capture's analysis state: frames in, facts out at finish(). Exported for live capture,
 * which pushes frames as they come and reads snapshots in between (src/analysis/live.ts).
 */
export class Run {
  private flows: FlowTable;
  private hosts = new HostTable();
  private frameAnalyzers: Analyzer[];
  private linkTypeCounts = new Map<number, number>();
  private runLinkType = -1;
  private runLinkTypeFrames = 0;
  private etherTypeCounts = new Map<number, number>();
  /** IPv4 frames, the common case, counted apart from the Map. */
  private ipv4EtherType = 0;
  /**
   * Rules that judge settled parts as they come (Rule.tally): every part is added; the final facts
   * finish them (without parts, that is the rule's evaluate).
   */
  readonly tallies = new Map<Rule, Tally>(RULES.flatMap((r) => (r.tally ? [[r, r.tally()] as const] : [])));

  constructor(private ctx: AnalysisContext, private analyzers: Analyzer[], private flowSink?: FlowSink) {
    this.frameAnalyzers = analyzers.filter((a) => a.frame);
    const stats = ctx.facts.stats;
    this.flows = new FlowTable({
      flowStart: (flow, pkt) => { for (const a of analyzers) a.flowStart?.(flow, pkt, this.flows); },
      firstPayload: (flow, dir, payload, pkt) => { for (const a of analyzers) a.firstPayload?.(flow, dir, payload, pkt, this.flows); },
      flowEnd: (flow) => {
        for (const a of analyzers) a.flowEnd?.(flow);
        stats.flows++;
        this.hosts.flowEnded(flow);
        this.flowSink?.flow(flow);
      },
      capHit: (flow, dir, frameNo) => {
        stats.reassemblyCapHits++;
        ctx.warn(-1, `reassembly buffer of flow ${flow.index} (${dir === 0 ? flow.srcIp : flow.dstIp} → ${dir === 0 ? flow.dstIp : flow.srcIp}) hit its cap of ${ctx.options.maxPendingPerDirection} bytes; bytes missing there are recorded as a gap`, frameNo);
      },
    }, { maxPendingPerDirection: ctx.options.maxPendingPerDirection });
  }

  frame(f: Frame): void {
    const s = this.ctx.facts.stats;
    const cap = this.ctx.facts.capture;
    s.frames++;
    s.bytes += f.origLen;
    cap.frames = f.no;
    cap.bytes += f.origLen;
    if (!f.noTimestamp) {
      if (cap.firstTs === null || f.ts < cap.firstTs) cap.firstTs = f.ts;
      if (cap.lastTs === null || f.ts > cap.lastTs) cap.lastTs = f.ts;
    }
    const pkt = decodePacket(f);
    this.count(pkt);
    for (const a of this.frameAnalyzers) a.frame!(pkt);
    this.flows.packet(pkt);
  }

  private count(pkt: Packet): void {
    const s = this.ctx.facts.stats;
    const lt = pkt.frame.linkType;
    if (lt === LINKTYPE.PCAPNG_CUSTOM_BLOCK) { s.customBlocks++; return; }
    // Per-frame tallies go to Maps (sparse numeric keys make plain objects slow); finish() copies them.
    // Runs of one link type are the rule: counted in a field, folded in when the type changes.
    if (lt !== this.runLinkType) this.foldLinkTypeRun(lt);
    this.runLinkTypeFrames++;
    if (pkt.link === null && pkt.malformed === null) {
      if (s.unknownLinkTypes[lt] === undefined) this.ctx.warn(pkt.frame.offset, `link type ${lt} is not decoded (frame ${pkt.frame.no} and others of that type are counted only)`, pkt.frame.no);
      s.unknownLinkTypes[lt] = (s.unknownLinkTypes[lt] ?? 0) + 1;
      return;
    }
    if (pkt.malformed) {
      const m = pkt.malformed;
      if ((s.malformed[m.layer] ?? 0) === 0) this.ctx.warn(pkt.frame.offset, `frame ${pkt.frame.no}: malformed ${m.layer} at frame byte ${m.offset}: ${m.reason}`, pkt.frame.no);
      s.malformed[m.layer] = (s.malformed[m.layer] ?? 0) + 1;
      if (pkt.frame.caplen < pkt.frame.origLen) s.truncatedHeaders++;
    }
    if (pkt.link) {
      const et = pkt.link.etherType;
      if (et === 0x0800) this.ipv4EtherType++;
      else this.etherTypeCounts.set(et, (this.etherTypeCounts.get(et) ?? 0) + 1);
    }
    const net = pkt.net;
    if (net) {
      if (net.kind === 'ipv4') s.ipv4++;
      else if (net.kind === 'ipv6') s.ipv6++;
      else s.arp++;
    }
    const t = pkt.transport;
    if (t) {
      if (t.kind === 'tcp') s.tcp++;
      else if (t.kind === 'udp') s.udp++;
      else if (t.kind === 'icmp') s.icmp++;
      else s.igmp++;
    } else if (net && net.kind !== 'arp' && !pkt.malformed) {
      s.otherIp++;
    }
    if (pkt.fragment) s.fragments++;
  }

  /**
   * Asks every analyzer for units settled at `now` and judges them: the rules run over a fact
   * set holding only those units, and keep the findings about them. Rules that judge across the
   * capture (Rule.tally) take every part, and draft their findings at the end.
   */
  settle(now: number): SettledPart[] {
    const out: SettledPart[] = [];
    for (const a of this.analyzers) {
      const s = a.settle?.(now);
      if (!s) continue;
      const facts: FactSet = { ...this.ctx.facts, ftp: emptyFtpFacts(), tls: emptyTlsFacts(), l2: emptyL2Facts() };
      s.fill(facts);
      // Units judged later (no sessions to keep findings about) are only stored. The others are
      // judged by their own protocol's rules: an FTPS session comes with the handshakes of its
      // flows, which the TLS rules take (as they take TLS parts) for the findings they draft at the end.
      const findings = s.sessions.size === 0 ? [] : runRules(facts, this.ctx.options, rulesOf(s.protocol))
        .filter((f) => f.subject.session !== undefined && s.sessions.has(f.subject.session));
      for (const t of this.tallies.values()) t.add(facts, this.ctx.options);
      out.push({ protocol: s.protocol, facts, findings });
    }
    return out;
  }

  private foldLinkTypeRun(next: number): void {
    if (this.runLinkTypeFrames > 0) this.linkTypeCounts.set(this.runLinkType, (this.linkTypeCounts.get(this.runLinkType) ?? 0) + this.runLinkTypeFrames);
    this.runLinkType = next;
    this.runLinkTypeFrames = 0;
  }

  secrets(type: number, data: Buffer): void {
    for (const a of this.analyzers) a.secrets?.(type, data);
  }

  /** Live capture: ends the flows idle at `now` (µs), so a quiet link still closes its flows. */
  expire(now: number): void {
    this.flows.expire(now);
  }

  /** Flows still open in the table. */
  get openFlows(): number {
    return this.flows.size;
  }

  /** Host and protocol totals of the flows ended so far (live snapshots; finish() sets the final ones). */
  hostFacts(): HostFact[] {
    return this.hosts.hostFacts();
  }

  protocolCounts(): ProtocolCount[] {
    return this.hosts.protocolCounts();
  }

  /** End of input: every flow ends, then `afterFlows` (the last settle), then the analyzers' own finish. */
  finish(afterFlows?: () => void): void {
    this.flows.finish();
    afterFlows?.();
    for (const a of this.analyzers) a.finish?.();
    const s = this.ctx.facts.stats;
    s.peakConcurrentFlows = this.flows.peakFlows;
    this.foldLinkTypeRun(-1);
    if (this.ipv4EtherType > 0) this.etherTypeCounts.set(0x0800, (this.etherTypeCounts.get(0x0800) ?? 0) + this.ipv4EtherType);
    this.ipv4EtherType = 0;
    for (const [k, n] of this.linkTypeCounts) s.linkTypes[k] = n;
    for (const [k, n] of this.etherTypeCounts) s.etherTypes[k] = n;
    this.ctx.facts.hosts = this.hosts.hostFacts();
    this.ctx.facts.protocols = this.hosts.protocolCounts();
    if (s.fragments > 0) this.ctx.warn(-1, `${s.fragments} frames were IP fragments: flagged, their payloads are not reassembled`);
  }
}
