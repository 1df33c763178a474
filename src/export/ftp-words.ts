/** How FTP facts read in exports: one wording for timeline messages, ladders and reports. */
import { endpoint } from './text.js';
import type { ChannelView, CommandView, ConnectionView } from './ftp-read.js';

export const STATE_TEXT: Record<string, string> = {
  completed: 'connected',
  'syn-unanswered': 'SYN never answered',
  refused: 'refused with RST',
  'icmp-unreachable': 'ICMP unreachable',
  'half-open': 'half-open: SYN-ACK, then nothing',
  midstream: 'already open when the capture started',
  'never-seen': 'no connection attempt in the capture',
  'not-captured': 'not in the capture (filtered?)',
  rejected: 'the server rejected the address',
  unused: 'not used',
};

/** Outcomes that mean the data connection did not work. */
export const FAILED_STATES = new Set(['syn-unanswered', 'refused', 'icmp-unreachable', 'half-open', 'never-seen']);

/** Replies that mean "the data connection failed" (RFC 959 425/426, RFC 4217 522). */
export const DATA_FAILURE_CODES = new Set([425, 426, 522]);

/** Reply codes each passive announcement kind comes in (RFC 959, RFC 1639, RFC 2428). */
export const PASSIVE_REPLY: Record<string, number> = { PASV: 227, LPSV: 228, EPSV: 229 };

export function commandText(c: CommandView): string {
  return c.arg === null || c.arg === '' ? c.verb : `${c.verb} ${c.arg}`;
}

export function connectionPath(c: ConnectionView): string {
  return `${endpoint(c.src, c.srcPort)} → ${endpoint(c.dst, c.dstPort)}`;
}

/** "SYN never answered — SYN sent 3×", "connected, 1234 bytes in 12.5 ms, TLS". */
export function connectionDetail(c: ConnectionView | null, state: string): string {
  let detail = STATE_TEXT[state] ?? state;
  if (!c) return detail;
  if (state === 'syn-unanswered') detail += ` — SYN sent ${1 + c.synRetransmissions}×`;
  if (state === 'icmp-unreachable' && c.icmp[0]) detail += ` — type ${c.icmp[0].type} code ${c.icmp[0].code} from ${c.icmp[0].reporter}`;
  if (state === 'refused' && c.rstFrame !== null) detail += ` (frame ${c.rstFrame})`;
  if (state === 'completed') {
    detail += `, ${c.bytesFromServer + c.bytesFromClient} bytes${c.durationMs !== null ? ` in ${c.durationMs} ms` : ''}${c.tls ? ', TLS' : ''}`;
  }
  return detail;
}

export function announcementText(ch: ChannelView): string {
  const where = ch.kind === 'EPSV' ? `port ${ch.announcedPort} (on ${ch.announcedIp}, the control connection's address)` : endpoint(ch.announcedIp, ch.announcedPort);
  return `${ch.kind} announces ${where}${ch.arithmetic ? ` — ${ch.arithmetic}` : ''}`;
}
