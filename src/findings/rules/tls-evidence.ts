/**
 * Shared wording and evidence for the TLS rules: how a connection and a certificate are named
 * in explanations, which frames prove them, and which TLS connections belong to an FTPS session
 * (its control connection or one of its data connections), so the rules can say so.
 */
import type { FactSet } from '../../analysis/context.js';
import { ftpsSessionLinks, type FtpsSessionLink } from '../../proto/ftp/facts.js';
import { certificateMessage, type TlsCertificateFact, type TlsJudgedHandshake } from '../../proto/tls/facts.js';
import type { FindingSubject } from '../types.js';

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

export function capFrames(frames: number[]): number[] {
  return [...new Set(frames)].sort((a, b) => a - b).slice(0, MAX_FRAMES);
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

/** Groups items by a key, keeping first-seen order. */
export function groupBy<T>(items: T[], key: (t: T) => string | null): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (k === null) continue;
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** "flows 3, 7 and 9" / "flow 3" with the rest counted. */
export function flowList(hs: TlsJudgedHandshake[]): string {
  const ids = hs.map((h) => h.flow);
  if (ids.length === 1) return `flow ${ids[0]}`;
  const shown = ids.slice(0, 8);
  const rest = ids.length - shown.length;
  return `flows ${shown.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
}
