import type { Finding, Rule } from '../types.js';
import { endpoint, MAX_ITEMS } from './ftp-evidence.js';

/**
 * FTP_ADDRESS_REWRITTEN needs two captures of the same session, one on each side of the NAT
 * router: only there can a line be seen before and after the router changed it. The
 * per-capture engine therefore never raises it (evaluate returns nothing); `faultline compare`
 * builds the findings with rewriteFinding() from the announcements it paired.
 */
export const FTP_ADDRESS_REWRITTEN: Rule = {
  code: 'FTP_ADDRESS_REWRITTEN',
  severity: 'info',
  title: 'A NAT helper rewrote an FTP address announcement between the two captures',
  explanation: 'The same PASV/EPSV reply or PORT/EPRT command reads differently inside and outside the router: an FTP helper on the router (Linux nf_conntrack_ftp/nf_nat_ftp, a firewall\'s FTP ALG) replaced the address and/or port with the translated ones, so the peer on the other side is told an endpoint it can reach.',
  mitigation: 'None needed while the control channel stays in clear text; once it is encrypted (FTPS) no helper can read or rewrite the line, so configure the server\'s external address and a fixed passive port range forwarded on the router instead.',
  evaluate() {
    return [];
  },
};

/** One announcement line as one capture shows it. */
export interface AnnouncementSide {
  capture: number;
  /** The session's control flow index in that capture, and its endpoints there. */
  session: number;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  channel: number;
  frame: number;
  ts: number;
  /** The line's text (reply text after the code, or the command's argument). */
  text: string;
  announcedIp: string;
  announcedPort: number;
}

export interface RewrittenLine {
  kind: string;
  mode: 'passive' | 'active';
  inside: AnnouncementSide;
  outside: AnnouncementSide;
  /** Outside length − inside length, bytes. */
  lengthDelta: number;
  /** How the TCP sequence numbers moved after the line (null without packet detail). */
  sequenceShift: {
    direction: string;
    expected: number;
    seq: { observed: number; inside: { line: number; next: number }; outside: { line: number; next: number } } | null;
    ack: { observed: number; inside: { before: number; after: number }; outside: { before: number; after: number } } | null;
  } | null;
}

const REPLY_CODE: Record<string, number> = { PASV: 227, LPSV: 228, EPSV: 229 };

/** The line as it travelled: "227 Entering Passive Mode (...)" or "PORT 192,168,1,2,4,1". */
export function announcementLine(kind: string, mode: 'passive' | 'active', text: string): string {
  return mode === 'passive' ? `${REPLY_CODE[kind] ?? kind} ${text}` : `${kind} ${text}`;
}

/** The endpoint a line announces, as a reader should see it: EPSV carries only a port. */
export function announcedValue(kind: string, ip: string, port: number): string {
  return kind === 'EPSV' ? `port ${port}` : endpoint(ip, port);
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function sideDetails(l: RewrittenLine, s: AnnouncementSide): Record<string, unknown> {
  return {
    capture: s.capture, session: s.session, channel: s.channel, frame: s.frame,
    line: announcementLine(l.kind, l.mode, s.text), text: s.text,
    announcedIp: s.announcedIp, announcedPort: s.announcedPort, value: announcedValue(l.kind, s.announcedIp, s.announcedPort),
    client: endpoint(s.client, s.clientPort), server: endpoint(s.server, s.serverPort),
  };
}

function lineDetails(l: RewrittenLine): Record<string, unknown> {
  return { kind: l.kind, mode: l.mode, inside: sideDetails(l, l.inside), outside: sideDetails(l, l.outside), lengthDelta: l.lengthDelta, sequenceShift: l.sequenceShift };
}

function shiftText(l: RewrittenLine): string {
  if (l.lengthDelta === 0) return ' The line kept its length, so TCP sequence numbers need no adjustment.';
  const s = l.sequenceShift;
  const who = l.mode === 'passive' ? 'server→client' : 'client→server';
  const base = ` The line became ${Math.abs(l.lengthDelta)} byte${Math.abs(l.lengthDelta) === 1 ? '' : 's'} ${l.lengthDelta > 0 ? 'longer' : 'shorter'}, so the router has to shift the ${who} sequence numbers of the rest of the connection by ${signed(l.lengthDelta)}`;
  if (!s?.seq) return `${base}.`;
  const agrees = s.seq.observed === l.lengthDelta;
  return `${base}: ${agrees ? 'it does' : `the captures show ${signed(s.seq.observed)} instead`} (next segment: inside frame ${s.seq.inside.next}, outside frame ${s.seq.outside.next}${s.ack ? `; acknowledgements back shifted by ${signed(s.ack.observed)}, inside frame ${s.ack.inside.after}, outside frame ${s.ack.outside.after}` : ''}).`;
}

/**
 * One finding per paired session with rewritten lines. Its frames are the inside capture's (the
 * finding is filed under the inside capture); the outside frames are in details.outside.
 */
export function rewriteFinding(lines: RewrittenLine[]): Finding {
  const first = lines[0];
  const who = first.mode === 'passive' ? `the server's ${announcementLine(first.kind, first.mode, '').trim()} reply` : `the client's ${first.kind} command`;
  const i = first.inside, o = first.outside;
  const frames = [...new Set(lines.flatMap((l) => [l.inside.frame, ...(l.sequenceShift?.seq ? [l.sequenceShift.seq.inside.next] : [])]))].sort((a, b) => a - b);
  return {
    code: FTP_ADDRESS_REWRITTEN.code,
    severity: FTP_ADDRESS_REWRITTEN.severity,
    title: `NAT helper rewrote the ${first.kind} ${first.mode === 'passive' ? 'reply' : 'command'}: ${announcedValue(first.kind, i.announcedIp, i.announcedPort)} inside, ${announcedValue(first.kind, o.announcedIp, o.announcedPort)} outside`,
    explanation: `In the FTP session ${endpoint(i.client, i.clientPort)} → ${endpoint(i.server, i.serverPort)} (inside flow ${i.session}; outside ${endpoint(o.client, o.clientPort)} → ${endpoint(o.server, o.serverPort)}, flow ${o.session}), ${who} reads "${announcementLine(first.kind, first.mode, i.text)}" inside (frame ${i.frame}) and "${announcementLine(first.kind, first.mode, o.text)}" outside (frame ${o.frame}): a NAT helper on the router rewrote ${announcedValue(first.kind, i.announcedIp, i.announcedPort)} into ${announcedValue(first.kind, o.announcedIp, o.announcedPort)}.${shiftText(first)}${lines.length > 1 ? ` ${lines.length - 1} more line${lines.length > 2 ? 's' : ''} in this session ${lines.length > 2 ? 'were' : 'was'} rewritten too.` : ''}`,
    mitigation: FTP_ADDRESS_REWRITTEN.mitigation,
    frames,
    firstTs: i.ts,
    subject: { session: i.session, flow: i.session },
    details: { ...lineDetails(first), insideCapture: i.capture, outsideCapture: o.capture, count: lines.length, lines: lines.slice(0, MAX_ITEMS).map(lineDetails) },
  };
}
