/**
 * The TLS analyzer: finds TLS on TCP flows by content (any port; a first payload that is a TLS
 * record or an SSL 2.0 hello), inside plain-text conversations (STARTTLS), and on FTPS control
 * connections, which the FTP analyzer hands over (ftp/tls-handoff.ts) because FTP owns those
 * streams. One TlsConnection per flow; facts go to `ctx.facts.tls` at the end, or, when the
 * analysis goes into a store, are handed over as each connection ends (settle): the rules fold
 * them into their findings then and there (Rule.tally), except the handshakes of FTP's
 * connections, which wait (as TlsJudgedHandshake) for the FTP session that names them.
 *
 * Key material: `--keylog` and pcapng Decryption Secrets Blocks ("TLSK") merge into one key log.
 * TLS ≤ 1.2 master secrets are cached by session ID and ticket, so a resumed connection (an
 * FTPS data connection resuming the control session) decrypts too.
 */
import type { Analyzer, AnalyzerFactory, SettledFacts } from '../../analysis/analyzer.js';
import type { AnalysisContext } from '../../analysis/context.js';
import type { Packet } from '../../decode/packet.js';
import type { Dir, Flow } from '../../flow/flow.js';
import type { FlowTable } from '../../flow/table.js';
import { onFtpTlsStart, provideHandshakes, type FtpTlsStart, type FtpTlsSink } from '../ftp/tls-handoff.js';
import { CertificateRegistry } from './cert-registry.js';
import { type ConnectionEnv, TlsConnection } from './connection.js';
import { judgedView, type TlsHandshakeFact, type TlsJudgedHandshake, type TlsOrigin } from './facts.js';
import { DSB_TLS_KEY_LOG, KeyStore } from './keystore.js';
import { looksLikeTls } from './records.js';
import { ResumptionIndex } from './resumption.js';
import { TlsStream } from './stream.js';

export const TLS_LIMITS = {
  /** Handshake facts held at once (all of them, unless the analysis goes into a store); the rest are counted. */
  maxHandshakes: 100000,
  /** Connections warned about individually for lacking key log entries; the rest are summed up. */
  noKeyWarnings: 20,
};

/** Handshakes handed over per settle() call. */
const SETTLE_BATCH = 500;

interface Live {
  conn: TlsConnection | null;
  stream: TlsStream | null;
}

/** FTP owns its control connections: TLS there arrives through the hand-off, never by attaching. */
function ftpControl(flow: Flow): boolean {
  return flow.app === 'ftp' || flow.app === 'ftps';
}

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Who sent the ClientHello: the first payload's sender, unless that payload is the server's. */
function clientDirOf(flow: Flow, dir: Dir, payload: Buffer): Dir {
  const other: Dir = dir === 0 ? 1 : 0;
  if (payload[0] === 22 && payload.length > 5) {
    if (payload[5] === 1) return dir;
    if (payload[5] === 2) return other;
  } else if ((payload[0] & 0x80) !== 0 && payload.length > 2) {
    if (payload[2] === 1) return dir;
    if (payload[2] === 4) return other;
  }
  return flow.tcp?.synSeen ? 0 : dir;
}

export class TlsAnalyzer implements Analyzer {
  readonly name = 'tls';
  private live = new Map<number, Live>();
  private done: TlsHandshakeFact[] = [];
  /**
   * Handshakes of ended connections FTP owns (control and data connections), held or stored,
   * until the FTP session settles and takes them (FTPS findings read them).
   */
  private forFtp = new Map<number, TlsJudgedHandshake>();
  /** Flows of `done` whose handshakes go to the rules with their FTP session. */
  private ftpOwned = new Set<number>();
  private dropped = 0;
  private keys = new KeyStore();
  private certs = new CertificateRegistry();
  private resumption = new ResumptionIndex();
  private noKeyFlows: number[] = [];
  private keyProblemsReported = 0;

  constructor(private ctx: AnalysisContext) {
    if (ctx.options.keylog !== null) this.addKeys(ctx.options.keylog, '--keylog');
    onFtpTlsStart(ctx, (start) => this.ftpStart(start));
    provideHandshakes(ctx, {
      take: (flow) => {
        const h = this.forFtp.get(flow);
        if (h !== undefined) this.forFtp.delete(flow);
        return h;
      },
      certificates: () => this.certs.index(),
    });
  }

  // ---------------------------------------------------------------------------------------
  // Finding TLS

  firstPayload(flow: Flow, dir: Dir, payload: Buffer, _pkt: Packet, table: FlowTable): void {
    if (flow.tcp === null || this.live.has(flow.index) || ftpControl(flow)) return;
    if (looksLikeTls(payload)) {
      const conn = this.connection(flow, 'content', clientDirOf(flow, dir, payload));
      const stream = new TlsStream(flow, table, this.streamHooks(), conn);
      this.live.set(flow.index, { conn, stream });
      table.attach(flow, stream);
      if (flow.app === null) flow.app = 'tls';
      return;
    }
    const stream = new TlsStream(flow, table, this.streamHooks(), null);
    this.live.set(flow.index, { conn: null, stream });
    table.attach(flow, stream);
  }

  private streamHooks() {
    return {
      watchable: (flow: Flow) => !ftpControl(flow),
      startTls: (flow: Flow, clientDir: Dir) => {
        const live = this.live.get(flow.index);
        if (!live || ftpControl(flow)) return null;
        live.conn = this.connection(flow, 'starttls', clientDir);
        if (flow.app === null) flow.app = 'tls';
        return live.conn;
      },
    };
  }

  /** FTPS control connection: FTP offers the encrypted bytes of each role from where TLS starts. */
  private ftpStart(start: FtpTlsStart): FtpTlsSink {
    const flow = start.flow;
    const prior = this.live.get(flow.index);
    // Whatever watched this flow before FTP recognised it yields: FTP replays TLS from its start.
    prior?.stream?.detach();
    const conn = this.connection(flow, 'ftps-control', start.clientDir,
      (role, data, frame, ts) => start.session.feedDecrypted(role, data, frame, ts));
    this.live.set(flow.index, { conn, stream: null });
    return {
      data: (role, bytes, offset, frame, ts) => conn.data(role, bytes, offset, frame, ts),
      end: (role) => conn.endRole(role),
    };
  }

  private connection(flow: Flow, origin: TlsOrigin, clientDir: Dir,
    plaintext?: (role: 'client' | 'server', data: Buffer, frame: number, ts: number) => void): TlsConnection {
    let conn: TlsConnection | null = null;
    const name = (): string => {
      const f = conn?.fact;
      return f ? `TLS flow ${flow.index} (${endpoint(f.client, f.clientPort)} → ${endpoint(f.server, f.serverPort)})` : `TLS flow ${flow.index}`;
    };
    const env: ConnectionEnv = {
      keys: this.keys, certs: this.certs, resumption: this.resumption,
      maxMessage: this.ctx.options.maxStreamBuffer,
      warn: (message, frame) => this.ctx.warn(-1, `${name()}: ${message}`, frame),
      noKeys: (c, frame) => {
        this.noKeyFlows.push(c.fact.flow);
        if (this.noKeyFlows.length <= TLS_LIMITS.noKeyWarnings) {
          this.ctx.warn(-1, `${name()}: the key log has no secrets for this connection (client random not listed); it stays encrypted`, frame);
        }
      },
    };
    conn = new TlsConnection(env, { flow, origin, clientDir, plaintext });
    return conn;
  }

  // ---------------------------------------------------------------------------------------
  // Keys

  secrets(secretsType: number, data: Buffer): void {
    if (secretsType === DSB_TLS_KEY_LOG) this.addKeys(data.toString('utf8'), 'a Decryption Secrets Block');
  }

  private addKeys(text: string, source: string): void {
    const before = this.keys.log.problems.length;
    const entries = this.keys.log.entries;
    this.keys.add(text);
    const problems = this.keys.log.problems.slice(before);
    if (problems.length > 0 && this.keyProblemsReported < 10) {
      this.keyProblemsReported++;
      const p = problems[0];
      this.ctx.warn(-1, `TLS key log from ${source}: ${problems.length} line${problems.length > 1 ? 's' : ''} not understood (line ${p.line}: ${p.reason})`);
    }
    if (this.keys.log.entries === entries) this.ctx.warn(-1, `TLS key log from ${source}: no usable secrets in it`);
  }

  // ---------------------------------------------------------------------------------------
  // Ends

  flowEnd(flow: Flow): void {
    const live = this.live.get(flow.index);
    if (!live) return;
    this.live.delete(flow.index);
    if (live.conn) this.keep(live.conn, flow);
  }

  private keep(conn: TlsConnection, flow: Flow): void {
    const fact = conn.finish();
    // Looked like TLS but not one record was: not a TLS connection after all.
    if (fact.firstFrame === 0) {
      if (flow.app === 'tls') flow.app = null;
      return;
    }
    if (this.done.length >= TLS_LIMITS.maxHandshakes) { this.dropped++; return; }
    this.done.push(fact);
    if ((ftpControl(flow) || flow.app === 'ftp-data') && !this.forFtp.has(fact.flow)) {
      this.forFtp.set(fact.flow, fact);
      this.ftpOwned.add(fact.flow);
    }
  }

  /**
   * Handshakes of ended connections: nothing later changes them, so they are stored now and
   * forgotten. The rules fold them into the findings they draft at the end (they group
   * handshakes per server across the capture), and no findings come with them here. Those of
   * FTP's connections wait, as the rules read them, for their FTP session (see `forFtp`).
   */
  settle(): SettledFacts | null {
    if (this.done.length === 0) return null;
    const out = this.done.splice(0, SETTLE_BATCH);
    const withFtp = new Set<number>();
    for (const h of out) {
      if (!this.ftpOwned.delete(h.flow)) continue;
      withFtp.add(h.flow);
      if (this.forFtp.get(h.flow) === h) this.forFtp.set(h.flow, judgedView(h));
    }
    const certificates = this.certs.index();
    return {
      protocol: 'tls',
      fill: (facts) => {
        facts.tls.handshakes = out;
        facts.tls.judgedWithFtp = withFtp;
        facts.tls.certificateIndex = certificates;
      },
      sessions: new Set(),
    };
  }

  finish(): void {
    for (const live of this.live.values()) if (live.conn) this.keep(live.conn, live.conn.flow);
    this.live.clear();
    const extra = this.noKeyFlows.length - TLS_LIMITS.noKeyWarnings;
    if (extra > 0) {
      const more = this.noKeyFlows.slice(TLS_LIMITS.noKeyWarnings);
      this.ctx.warn(-1, `${extra} more TLS connections had no key log secrets and stayed encrypted (flows ${more.slice(0, 20).join(', ')}${more.length > 20 ? ', …' : ''})`);
    }
    if (this.dropped > 0) this.ctx.warn(-1, `more than ${TLS_LIMITS.maxHandshakes} TLS handshakes held at once: ${this.dropped} were counted, not kept`);
    if (this.certs.dropped > 0) this.ctx.warn(-1, `${this.certs.dropped} certificates beyond the first ${this.certs.all().length} are named by fingerprint only`);
    const t = this.ctx.facts.tls;
    t.handshakes = this.done.sort((a, b) => a.flow - b.flow);
    // Stored handshakes of FTP flows whose session never settled: judged now (held ones are in `handshakes`).
    t.stored = [...this.forFtp.values()].filter((h) => !this.ftpOwned.has(h.flow)).sort((a, b) => a.flow - b.flow);
    t.certificates = this.certs.all();
    t.handshakesDropped = this.dropped;
  }
}

export const tlsAnalyzer: AnalyzerFactory = (ctx) => new TlsAnalyzer(ctx);
