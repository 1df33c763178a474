/**
 * Shared wording and evidence helpers for the FTP/FTPS rules: how endpoints, announcements and
 * data connections are written in explanations, and which frames prove them.
 */
import { parseIp } from '../../decode/addr.js';
import { isPrivateAddress } from '../../proto/ftp/portmath.js';
import type { FactSet } from '../../analysis/context.js';
import type { DataConnectionFact, FtpChannelFact, FtpReplyFact, FtpSessionFact } from '../../proto/ftp/facts.js';
import type { FindingSubject, RuleOptions } from '../types.js';

/** Evidence frames listed per finding; the count is always in the details. */
export const MAX_FRAMES = 50;
/** Items listed in a finding's details (the rest counted). */
export const MAX_ITEMS = 20;

export function sessions(facts: FactSet): FtpSessionFact[] {
  return facts.ftp.sessions;
}

export function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function subject(s: FtpSessionFact, flow = s.flow): FindingSubject {
  return { session: s.flow, flow };
}

export function sessionName(s: FtpSessionFact): string {
  return `the FTP session ${endpoint(s.client, s.clientPort)} → ${endpoint(s.server, s.serverPort)} (flow ${s.flow})`;
}

/** "the server announced 10.0.0.5:50012 (p1*256+p2 = 195*256+92 = 50012) in frame 42" */
export function announcementText(ch: FtpChannelFact): string {
  const who = ch.mode === 'passive' ? 'the server announced' : 'the client announced';
  const what = ch.kind === 'EPSV' ? `port ${ch.announcedPort} on the control connection's address ${ch.announcedIp}` : endpoint(ch.announcedIp, ch.announcedPort);
  return `${who} ${what} in ${ch.kind} (${ch.arithmetic}) in frame ${ch.frame}`;
}

export function announcementDetails(ch: FtpChannelFact): Record<string, unknown> {
  return { id: ch.id, kind: ch.kind, mode: ch.mode, frame: ch.frame, announcedIp: ch.announcedIp, announcedPort: ch.announcedPort,
    arithmetic: ch.arithmetic, text: ch.text, via: ch.via };
}

export function connectionDetails(c: DataConnectionFact): Record<string, unknown> {
  return { flow: c.flow, src: c.src, srcPort: c.srcPort, dst: c.dst, dstPort: c.dstPort, state: c.state, matchedBy: c.matchedBy,
    firstFrame: c.firstFrame, synFrame: c.synFrame, synRetransmissions: c.synRetransmissions, synAckFrame: c.synAckFrame,
    rstFrame: c.rstFrame, rstFrom: c.rstFrom, icmp: c.icmp, bytes: c.bytes, tls: c.tls };
}

/** Frames that show what a connection did: its SYN(s), SYN-ACK, RST and ICMP errors. */
export function connectionFrames(c: DataConnectionFact): number[] {
  const out = [c.synFrame ?? c.firstFrame];
  if (c.synAckFrame !== null) out.push(c.synAckFrame);
  if (c.rstFrame !== null) out.push(c.rstFrame);
  for (const e of c.icmp) out.push(e.frame);
  if (c.state === 'syn-unanswered' && c.lastFrame !== c.firstFrame) out.push(c.lastFrame);
  return out;
}

/** One sentence on what a data connection did. */
export function connectionText(c: DataConnectionFact): string {
  const path = `${endpoint(c.src, c.srcPort)} → ${endpoint(c.dst, c.dstPort)}`;
  switch (c.state) {
    case 'completed': return `the connection ${path} (flow ${c.flow}, frame ${c.synFrame ?? c.firstFrame}) completed its handshake`;
    case 'syn-unanswered': return `the SYN ${path} (frame ${c.synFrame ?? c.firstFrame}${c.synRetransmissions ? `, sent ${c.synRetransmissions + 1} times` : ''}) was never answered`;
    case 'refused': return `the SYN ${path} (frame ${c.synFrame ?? c.firstFrame}) was answered by a reset in frame ${c.rstFrame}`;
    case 'icmp-unreachable': {
      const e = c.icmp[0];
      return `the SYN ${path} (frame ${c.synFrame ?? c.firstFrame}) drew ICMP${e.version === 6 ? 'v6' : ''} type ${e.type} code ${e.code} from ${e.reporter} in frame ${e.frame}`;
    }
    case 'half-open': return `the connection ${path} (frame ${c.synFrame ?? c.firstFrame}) got a SYN-ACK but no further packet from its initiator`;
    case 'midstream': return `the connection ${path} (flow ${c.flow}) was already open when the capture started`;
  }
}

export function capFrames(frames: number[]): number[] {
  const uniq = [...new Set(frames)].sort((a, b) => a - b);
  return uniq.length <= MAX_FRAMES ? uniq : uniq.slice(0, MAX_FRAMES);
}

/** Capture time of a command or reply frame in the session (the session start when not kept). */
export function tsOfFrame(s: FtpSessionFact, frame: number | null | undefined): number {
  if (frame === null || frame === undefined) return s.firstTs;
  for (const c of s.commands) {
    if (c.frame === frame) return c.ts;
    if (c.final?.frame === frame) return c.final.ts;
    if (c.preliminary?.frame === frame) return c.preliminary.ts;
  }
  return s.firstTs;
}

/** The analysis options carry showPasswords at run time (AnalyzeOptions extends RuleOptions). */
export function showPasswords(opts: RuleOptions): boolean {
  return (opts as RuleOptions & { showPasswords?: unknown }).showPasswords === true;
}

/** The connection each finding talks about: the first completed one, else the last attempt. */
export function observed(ch: FtpChannelFact): DataConnectionFact | null {
  return ch.observed ?? ch.connections.find((c) => c.state === 'completed') ?? ch.connections[ch.connections.length - 1] ?? null;
}

export function transferOf(s: FtpSessionFact, ch: FtpChannelFact): FtpSessionFact['transfers'][number] | undefined {
  return ch.transfer === null ? undefined : s.transfers.find((t) => t.command === ch.transfer);
}

/** The data connection for this announcement never came up (as the capture or the server's reply shows). */
export function channelFailed(s: FtpSessionFact, ch: FtpChannelFact): boolean {
  if (ch.outcome === 'syn-unanswered' || ch.outcome === 'refused' || ch.outcome === 'icmp-unreachable' || ch.outcome === 'never-seen') return true;
  const code = transferOf(s, ch)?.final?.code;
  return ch.outcome !== 'completed' && (code === 425 || code === 426);
}

/** The 4xx/5xx final reply of the transfer that used this announcement, if any. */
export function failureReply(s: FtpSessionFact, ch: FtpChannelFact): FtpReplyFact | null {
  const f = transferOf(s, ch)?.final;
  return f && f.code >= 400 ? f : null;
}

/** Frames proving what became of an announcement: itself, its connections, a failure reply. */
export function channelFrames(s: FtpSessionFact, ch: FtpChannelFact): number[] {
  const fail = failureReply(s, ch);
  const refused = ch.accepted === false && ch.acceptReply ? [ch.acceptReply.frame] : [];
  return [ch.frame, ...refused, ...ch.connections.flatMap(connectionFrames), ...(fail ? [fail.frame] : [])];
}

/** A connection to exactly the announced endpoint completed: whatever the address looks like, it worked. */
export function reachedAsAnnounced(ch: FtpChannelFact): boolean {
  return ch.connections.some((c) => (c.matchedBy === 'announced' || c.matchedBy === 'nat-translated') && c.state === 'completed');
}

/** The transfer that used this announcement succeeded (2xx): its data connection worked, captured or not. */
export function transferSucceeded(s: FtpSessionFact, ch: FtpChannelFact): boolean {
  const f = transferOf(s, ch)?.final;
  return f !== null && f !== undefined && f.code >= 200 && f.code < 300;
}

/**
 * A 227/228 announcing a private address the client cannot use: it differs from the address the
 * client reaches the server at (seen outside the NAT), or it is the server's own inside address
 * while the client is public (seen inside: only a NAT helper could have rewritten it, and no
 * connection to it nor a successful transfer shows one did).
 */
export function pasvPrivateProblem(s: FtpSessionFact, ch: FtpChannelFact): boolean {
  if (ch.mode !== 'passive' || ch.kind === 'EPSV' || !isPrivateAddress(ch.announcedIp) || reachedAsAnnounced(ch)) return false;
  return ch.announcedIp !== s.server || (!isPrivateAddress(s.client) && !transferSucceeded(s, ch));
}

/** The PORT/EPRT/LPRT counterpart: a private client address announced to a public server. */
export function portPrivateProblem(s: FtpSessionFact, ch: FtpChannelFact): boolean {
  if (ch.mode !== 'active' || isPrivateAddress(s.server) || !isPrivateAddress(ch.announcedIp) || reachedAsAnnounced(ch)) return false;
  return ch.announcedIp !== s.client || !transferSucceeded(s, ch);
}

/** Whether `ip` lies in a CIDR network written as "addr/bits". */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const a = parseIp(ip);
  const n = parseIp(net);
  if (!a || !n || a.length !== n.length) return false;
  let bits = bitsText === undefined ? a.length * 8 : Number(bitsText);
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i] & mask) !== (n[i] & mask)) return false;
  }
  return true;
}
