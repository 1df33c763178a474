/**
 * Shared wording and evidence for the TLS rules: how a connection and a certificate are named
 * in explanations, which frames prove them, and which TLS connections belong to an FTPS session
 * (its control connection or one of its data connections), so the rules can say so. And the
 * groups the rules fold handshakes into (HandshakeGroup): the rules group handshakes across the
 * whole capture, part by part as they settle (Rule.tally), keeping per group only what its
 * finding shows.
 */
import type { FactSet } from '../../analysis/context.js';
import { ftpsSessionLinks, type FtpsSessionLink } from '../../proto/ftp/facts.js';
import {
  certificateMessage, certificatesBySha, judgedHandshakes, judgedView, type TlsCertificateFact, type TlsJudgedHandshake,
} from '../../proto/tls/facts.js';
import type { FindingDraft, FindingSubject, Tally } from '../types.js';

export const MAX_FRAMES = 50;
export const MAX_ITEMS = 20;

export function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface FtpsLink {
  session: FtpsSessionLink;
  role: 'control' | 'data';
}

/** TLS flows that are part of an FTP session: its control connection and its data connections. */
export function ftpsLinks(facts: FactSet): Map<number, FtpsLink> {
  const out = new Map<number, FtpsLink>();
  for (const s of ftpsSessionLinks(facts.ftp)) {
    out.set(s.flow, { session: s, role: 'control' });
    for (const flow of s.dataFlows) {
      if (!out.has(flow)) out.set(flow, { session: s, role: 'data' });
    }
  }
  return out;
}

/** "the TLS connection 10.0.0.1:5555 → 93.184.216.34:443 (flow 3, SNI example.com)" */
export function connectionName(h: TlsJudgedHandshake, link?: FtpsLink): string {
  const extras = [`flow ${h.flow}`];
  if (h.sni) extras.push(`SNI ${h.sni}`);
  const kind = link?.role === 'control' ? 'FTPS control connection' : link?.role === 'data' ? 'FTPS data connection' : 'TLS connection';
  return `the ${kind} ${endpoint(h.client, h.clientPort)} → ${endpoint(h.server, h.serverPort)} (${extras.join(', ')})`;
}

export function subjectOf(h: TlsJudgedHandshake, link?: FtpsLink): FindingSubject {
  return link ? { session: link.session.flow, flow: h.flow, host: h.server } : { flow: h.flow, host: h.server };
}

/** When the handshake happened: the capture's clock, which is what certificate validity is judged against. */
export function handshakeTime(h: TlsJudgedHandshake): number {
  return h.serverHelloTs ?? h.clientHelloTs ?? h.firstTs;
}

/** Frame of the message carrying the server's certificates, else the ServerHello's. */
export function certificateFrame(h: TlsJudgedHandshake, sender: 'client' | 'server' = 'server'): number {
  const m = certificateMessage(h.messages, sender);
  return m?.frame ?? h.serverHelloFrame ?? h.clientHelloFrame ?? h.firstFrame;
}

export function helloFrames(h: TlsJudgedHandshake): number[] {
  return [h.clientHelloFrame, h.serverHelloFrame].filter((f): f is number => f !== null);
}

/** Puts a frame into an ascending list of at most MAX_FRAMES distinct frames, the lowest. */
function addFrame(list: number[], f: number): void {
  if (list.length === MAX_FRAMES && f > list[MAX_FRAMES - 1]) return;
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < f) lo = mid + 1; else hi = mid;
  }
  if (list[lo] === f) return;
  list.splice(lo, 0, f);
  if (list.length > MAX_FRAMES) list.pop();
}

/** ISO date of a µs timestamp, to the second. */
export function isoDate(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function certName(c: TlsCertificateFact): string {
  const who = c.subjectCommonName ?? (c.subject || 'an unnamed subject');
  return `"${who}" (SHA-256 ${c.sha256.slice(0, 16)}…)`;
}

export function certDetails(c: TlsCertificateFact): Record<string, unknown> {
  return {
    sha256: c.sha256, subject: c.subject, issuer: c.issuer, sanDns: c.sanDns, sanIp: c.sanIp,
    validFrom: isoDate(c.validFrom), validTo: isoDate(c.validTo), selfSigned: c.selfSigned, serialNumber: c.serialNumber,
  };
}

export function handshakeDetails(h: TlsJudgedHandshake): Record<string, unknown> {
  return {
    flow: h.flow, client: h.client, clientPort: h.clientPort, server: h.server, serverPort: h.serverPort, sni: h.sni,
    version: h.versionName, cipher: h.cipher, clientHelloFrame: h.clientHelloFrame, serverHelloFrame: h.serverHelloFrame,
  };
}

/** A handshake as a rule judges it: with the FTPS session it belongs to, if any. */
export interface Judged {
  h: TlsJudgedHandshake;
  link: FtpsLink | undefined;
}

/** Every handshake a fact set hands to the rules, in flow order, with its FTPS link. */
export function judged(facts: FactSet): Judged[] {
  const links = ftpsLinks(facts);
  return judgedHandshakes(facts.tls).map((h) => ({ h, link: links.get(h.flow) }));
}

/**
 * Handshakes that one finding is about, as the finding shows them, whatever order they come in:
 * the MAX_ITEMS with the lowest flows (in flow order, `first` among them), how many in all, the
 * earliest handshake time and the MAX_FRAMES lowest evidence frames. Its memory stays the same
 * however many handshakes join.
 */
export class HandshakeGroup<E extends Judged = Judged> {
  readonly items: E[] = [];
  count = 0;
  firstTs = Infinity;
  readonly frames: number[] = [];
  /** Among the groups its first handshake joined, this one's place (see Groups.ordered). */
  rank = 0;

  constructor(readonly key: string) {}

  add(e: E, frames: number[], ts: number, rank: number): void {
    this.count++;
    if (ts < this.firstTs) this.firstTs = ts;
    for (const f of frames) addFrame(this.frames, f);
    let i = this.items.length;
    while (i > 0 && this.items[i - 1].h.flow > e.h.flow) i--;
    if (i >= MAX_ITEMS) return;
    // Kept as the rules read it: a whole handshake fact is ten times that.
    this.items.splice(i, 0, { ...e, h: judgedView(e.h) });
    if (this.items.length > MAX_ITEMS) this.items.pop();
    if (i === 0) this.rank = rank;
  }

  get first(): E {
    return this.items[0];
  }

  /** "flows 3, 7 and 9" / "flow 3" with the rest counted. */
  flowList(): string {
    if (this.count === 1) return `flow ${this.first.h.flow}`;
    const shown = this.items.slice(0, 8).map((e) => e.h.flow);
    const rest = this.count - shown.length;
    return `flows ${shown.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
  }
}

/** HandshakeGroups by key. */
export class Groups<E extends Judged = Judged> {
  private byKey = new Map<string, HandshakeGroup<E>>();

  /** `rank`: where the key comes among those one handshake joins (several certificates, say). */
  add(key: string, e: E, frames: number[], ts: number, rank = 0): void {
    let g = this.byKey.get(key);
    if (!g) this.byKey.set(key, g = new HandshakeGroup<E>(key));
    g.add(e, frames, ts, rank);
  }

  /**
   * The groups in the order their handshakes first show them in flow order (by their first
   * handshake, then rank), as a walk over the capture's handshakes in flow order would meet them.
   */
  ordered(): HandshakeGroup<E>[] {
    return [...this.byKey.values()].sort((a, b) => a.first.h.flow - b.first.h.flow || a.rank - b.rank);
  }
}

/** Where a handshake goes among a rule's groups: the key, what the group keeps of it, its evidence frames and time. */
export interface Placement<E extends Judged> {
  key: string;
  entry: E;
  frames: number[];
  ts: number;
  /** Among several groups of one handshake, its place (see Groups.add). */
  rank?: number;
}

/**
 * The tally of a rule that puts the handshakes it selects into groups and drafts one finding per
 * group: `place` says where a handshake goes (nowhere, one group or several), with the
 * certificates seen so far at hand; `draft` writes a group's finding. Findings come in the order
 * a walk over the handshakes in flow order meets their groups.
 */
export function groupTally<E extends Judged>(
  place: (e: Judged, certs: ReadonlyMap<string, TlsCertificateFact>) => Placement<E> | Placement<E>[] | null,
  draft: (g: HandshakeGroup<E>) => FindingDraft,
): Tally {
  const groups = new Groups<E>();
  return {
    add(facts) {
      const certs = certificatesBySha(facts.tls);
      for (const e of judged(facts)) {
        const p = place(e, certs);
        if (p === null) continue;
        for (const x of Array.isArray(p) ? p : [p]) groups.add(x.key, x.entry, x.frames, x.ts, x.rank ?? 0);
      }
    },
    finish: () => groups.ordered().map(draft),
  };
}
