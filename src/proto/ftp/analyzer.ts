/**
 * The FTP analyzer: claims control connections (ports 21 and 990, or anywhere a responder
 * opens with a 220 greeting that the client answers like an FTP client), runs one session per
 * control connection, and hands announcements to the data-channel matcher. Facts go to
 * `ctx.facts.ftp` at the end of the capture, or, when the analysis goes into a store, are handed
 * over session by session as soon as nothing can change them (settle).
 */
import type { Analyzer, AnalyzerFactory, SettledFacts } from '../../analysis/analyzer.js';
import type { AnalysisContext } from '../../analysis/context.js';
import type { Packet } from '../../decode/packet.js';
import { TCP_FLAG } from '../../decode/tcp.js';
import type { Dir, Flow } from '../../flow/flow.js';
import type { FlowTable } from '../../flow/table.js';
import { looksLikeGreeting } from './dialogue.js';
import { isPrivateAddress } from './portmath.js';
import { DataChannelMatcher, type EncryptedClaim } from './matcher.js';
import { FtpSession, type SessionHooks, type SessionLimits } from './session.js';
import { certificatesSeen, offerFtpTls, takeHandshake, type FlowHandshake } from './tls-handoff.js';
import { AFTER_CONTROL_US } from './channel.js';
import { dataConnections, type FtpSessionFact } from './facts.js';

/** IANA: 21 ftp, 990 ftps (implicit TLS). */
const CONTROL_PORTS = new Set([21, 990]);
/** Active-mode data connections come from these server ports by convention (RFC 959 §3.2 L-1; 989 ftps-data). */
const DATA_SOURCE_PORTS = new Set([20, 989]);
const MAX_ENCRYPTED_DATA = 1000;
/** Data connections of an unreadable session may start a little after its control connection closed. */
const ENCRYPTED_GRACE_US = 5e6;
/** Sessions handed over per settle() call: the rules judge them together and their findings wait for the store. */
const SETTLE_BATCH = 500;

export const FTP_LIMITS = { maxCommands: 10000, maxChannels: 10000, maxPending: 10000, maxHold: 64 * 1024 };

function isTcp(flow: Flow): boolean {
  return flow.tcp !== null;
}

export class FtpAnalyzer implements Analyzer {
  readonly name = 'ftp';
  private live = new Map<number, FtpSession>();
  private done: FtpSession[] = [];
  /** Sessions whose announcements are unreadable, by "addrA|addrB" (sorted). */
  private unreadable = new Map<string, FtpSession[]>();
  /** The same sessions by client address, for connections to an address the client was never seen using. */
  private unreadableByClient = new Map<string, FtpSession[]>();
  private matcher: DataChannelMatcher;
  private limits: SessionLimits;

  constructor(private ctx: AnalysisContext) {
    this.limits = { showPasswords: ctx.options.showPasswords, ...FTP_LIMITS, maxHold: Math.min(FTP_LIMITS.maxHold, ctx.options.maxStreamBuffer) };
    this.matcher = new DataChannelMatcher((flow) => this.encryptedClaim(flow));
  }

  flowStart(flow: Flow, pkt: Packet, table: FlowTable): void {
    if (!isTcp(flow)) return;
    const t = pkt.transport;
    const syn = t !== null && t.kind === 'tcp' && (t.flags & TCP_FLAG.SYN) !== 0;
    if (this.matcher.flowStart(flow, syn)) return;
    let clientDir: Dir | null = null;
    if (CONTROL_PORTS.has(flow.dstPort)) clientDir = 0;
    // Joined mid-way with the server's packet first: the server is the flow's "initiator".
    else if (CONTROL_PORTS.has(flow.srcPort) && !syn) clientDir = 1;
    if (clientDir === null) return;
    this.start(flow, clientDir, 'port', table);
    flow.app = 'ftp';
  }

  firstPayload(flow: Flow, dir: Dir, payload: Buffer, pkt: Packet, table: FlowTable): void {
    this.matcher.firstPayload(flow, dir, payload, pkt.frame.no);
    if (!isTcp(flow) || dir !== 1 || flow.app !== null || this.live.has(flow.index) || this.matcher.tracks(flow)) return;
    // A server speaks first; if the initiator already sent something this is not FTP's opening.
    if (flow.payloadBytes[0] > 0 || !looksLikeGreeting(payload)) return;
    this.start(flow, 0, 'dialogue', table);
  }

  flowEnd(flow: Flow): void {
    this.matcher.flowEnd(flow);
    const s = this.live.get(flow.index);
    if (!s) return;
    s.end(flow);
    this.live.delete(flow.index);
    if (!s.abandoned && !s.tentative) this.done.push(s);
  }

  /**
   * Finished sessions that can change no more (canSettle), at most SETTLE_BATCH per call. They
   * come with the TLS analyzer's handshakes of their flows (all ended by then), which the FTPS
   * rules read and the TLS rules judge with the session that names them.
   */
  settle(now: number): SettledFacts | null {
    const settled: FtpSession[] = [];
    let kept = 0;
    for (const s of this.done) {
      const f = s.fact;
      if (settled.length < SETTLE_BATCH && canSettle(f, now, () => this.hasOpenData(f), true)) settled.push(s);
      else this.done[kept++] = s;
    }
    if (settled.length === 0) return null;
    this.done.length = kept;
    const out = settled.map((s) => s.finish());
    const handshakes: FlowHandshake[] = [];
    for (const f of out) {
      this.matcher.forget(f.channels);
      for (const flow of [f.flow, ...dataConnections(f).map((c) => c.flow)]) {
        const h = takeHandshake(this.ctx, flow);
        if (h) handshakes.push(h);
      }
    }
    this.untrack(settled);
    out.sort((a, b) => a.flow - b.flow);
    handshakes.sort((a, b) => a.flow - b.flow);
    return {
      protocol: 'ftp',
      fill: (facts) => {
        facts.ftp.sessions = out;
        facts.tls.stored = handshakes;
        facts.tls.certificateIndex = handshakes.length === 0 ? null : certificatesSeen(this.ctx);
      },
      sessions: new Set(out.map((f) => f.flow)),
    };
  }

  /**
   * Live capture stores sessions it judged settled itself (see src/analysis/live.ts): they leave
   * the analyzer's list of finished sessions, which keeps its memory bounded.
   */
  release(sessions: ReadonlySet<FtpSession>): void {
    let kept = 0;
    for (const s of this.done) if (!sessions.has(s)) this.done[kept++] = s;
    this.done.length = kept;
    for (const s of sessions) this.matcher.forget(s.fact.channels);
  }

  /** Finished sessions still held for finish() (neither settled nor released). */
  get heldSessions(): number {
    return this.done.length;
  }

  private hasOpenData(f: FtpSessionFact): boolean {
    for (const ch of f.channels) for (const c of ch.connections) if (this.matcher.isOpen(c.flow)) return true;
    for (const c of f.encryptedDataConnections) if (this.matcher.isOpen(c.flow)) return true;
    return false;
  }

  finish(): void {
    for (const s of this.live.values()) {
      s.end(s.flow);
      if (!s.abandoned && !s.tentative) this.done.push(s);
    }
    this.live.clear();
    this.ctx.facts.ftp.sessions = this.done.map((s) => s.finish()).sort((a, b) => a.flow - b.flow);
  }

  private start(flow: Flow, clientDir: Dir, detectedBy: 'port' | 'dialogue', table: FlowTable): void {
    const hooks: SessionHooks = {
      announce: (ch) => this.matcher.announce(ch),
      close: (ch) => this.matcher.close(ch),
      warn: (message, frame) => this.ctx.warn(-1, message, frame),
      tlsStart: (session, from, implicit) => {
        this.track(session);
        return offerFtpTls(this.ctx, { flow: session.flow, clientDir: session.clientDir, tlsFrom: from, implicit, session, facts: session.fact });
      },
      decided: (session, isFtp) => {
        if (isFtp) { session.flow.app = 'ftp'; return; }
        table.detach(session.flow, session);
        this.live.delete(session.flow.index);
      },
    };
    const session = new FtpSession(flow, clientDir, detectedBy, hooks, this.limits);
    this.live.set(flow.index, session);
    table.attach(flow, session);
  }

  private track(session: FtpSession): void {
    for (const [map, key] of [[this.unreadable, pairKey(session.fact.client, session.fact.server)], [this.unreadableByClient, session.fact.client]] as const) {
      const list = map.get(key);
      if (!list) map.set(key, [session]);
      else if (!list.includes(session)) list.push(session);
    }
  }

  /** Stored sessions claim no more connections. */
  private untrack(sessions: FtpSession[]): void {
    if (this.unreadable.size === 0) return;
    const gone = new Set(sessions);
    for (const map of [this.unreadable, this.unreadableByClient]) {
      for (const [key, list] of map) {
        const rest = list.filter((s) => !gone.has(s));
        if (rest.length === 0) map.delete(key);
        else if (rest.length < list.length) map.set(key, rest);
      }
    }
  }

  /** A flow between the hosts of an FTPS session whose announcements nobody could read. */
  private encryptedClaim(flow: Flow): EncryptedClaim | null {
    const lookups = [[this.unreadable, pairKey(flow.srcIp, flow.dstIp)], [this.unreadableByClient, flow.srcIp]] as const;
    for (const [map, key] of lookups) {
      const list = map.get(key);
      if (!list) continue;
      for (let i = list.length - 1; i >= 0; i--) {
        const s = list[i];
        const f = s.fact;
        if (s.abandoned || (s.flow.ended && flow.firstTs > s.flow.lastTs + ENCRYPTED_GRACE_US)) { list.splice(i, 1); continue; }
        if (!s.unreadable || flow.firstTs < f.firstTs || CONTROL_PORTS.has(flow.dstPort)) continue;
        // Passive: client → server's data port (never a well-known port), or → a private address
        // while the server is public (an unrewritten PASV that nobody could read); active: server → client.
        const passive = flow.srcIp === f.client && flow.dstPort >= 1024
          && (flow.dstIp === f.server || (isPrivateAddress(flow.dstIp) && !isPrivateAddress(f.server)));
        const active = flow.srcIp === f.server && flow.dstIp === f.client && (DATA_SOURCE_PORTS.has(flow.srcPort) || flow.dstPort >= 1024);
        if (!passive && !active) continue;
        if (f.encryptedDataConnections.length >= MAX_ENCRYPTED_DATA) return null;
        return { clientAddress: f.client, add: (conn) => f.encryptedDataConnections.push(conn) };
      }
      if (list.length === 0) map.delete(key);
    }
    return null;
  }

}

/**
 * A finished session that nothing later in the capture can change at `now`: its control
 * connection ended more than AFTER_CONTROL_US ago (no announcement of it is still open: the
 * flow table ends a closed connection 10 s after its last packet, an unclosed one only after
 * ten idle minutes, both beyond the channel window; see channelExpiry), and none of its
 * data connections still open (asked last: it walks the connections). A session that used TLS
 * settles only where the caller has the handshakes of its flows at hand (`tlsAtHand`: the
 * analysis into a store, through the TLS analyzer); live capture has them only at the end.
 */
export function canSettle(f: FtpSessionFact, now: number, hasOpenData: () => boolean, tlsAtHand = false): boolean {
  return now - f.lastTs > AFTER_CONTROL_US && (tlsAtHand || !usesTls(f)) && !hasOpenData();
}

/** The session started TLS or has encrypted data connections: its findings need the TLS facts. */
function usesTls(s: FtpSessionFact): boolean {
  return s.tls.mode !== 'none' || s.encryptedDataConnections.length > 0 || s.channels.some((ch) => ch.connections.some((c) => c.tls));
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export const ftpAnalyzer: AnalyzerFactory = (ctx) => new FtpAnalyzer(ctx);
