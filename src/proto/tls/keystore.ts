/**
 * Key material for one analysis: the `--keylog` text and any pcapng Decryption Secrets Blocks
 * merged into one NSS key log, plus the TLS ≤ 1.2 master secrets learnt from connections that
 * could be decrypted, cached by the session ID and tickets they issued. A resumed connection
 * (an FTPS data connection resuming the control connection's session) finds its master secret
 * the way Wireshark's ssl_finalize_decryption does: Session ID, then Session Ticket, then
 * Client Random.
 */
import { createHash } from 'node:crypto';
import { type KeyLog, KEYLOG_LABELS, emptyKeyLog, parseKeyLog, secretsFor } from './keylog.js';

/** pcapng DSB secrets type "TLSK" (draft-ietf-opsawg-pcapng §4.7): NSS key log text. */
export const DSB_TLS_KEY_LOG = 0x544c534b;

/** Entries kept in each resumption cache; the oldest go first. */
const MAX_CACHED = 1 << 16;

/** A short, stable name for a ticket or PSK identity (tickets run to hundreds of bytes). */
export function ticketId(ticket: Buffer): string {
  return createHash('sha256').update(ticket).digest('hex').slice(0, 32);
}

function remember(map: Map<string, Buffer>, key: string, value: Buffer): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_CACHED) map.delete(map.keys().next().value as string);
}

export class KeyStore {
  readonly log: KeyLog = emptyKeyLog();
  private bySessionId = new Map<string, Buffer>();
  private byTicket = new Map<string, Buffer>();
  /** Key log lines that did not parse, reported once. */
  problemsReported = 0;

  /** Merges key log text (a file or a DSB) into the log. */
  add(text: string): void {
    parseKeyLog(text, this.log);
  }

  get empty(): boolean {
    return this.log.entries === 0 && this.bySessionId.size === 0 && this.byTicket.size === 0;
  }

  has(clientRandom: Buffer): boolean {
    return secretsFor(this.log, clientRandom) !== undefined;
  }

  /**
   * TLS ≤ 1.2 master secret for a connection. `resumedBy` says how the server resumed: a
   * resumed session keeps the original master secret, cached when that connection was read.
   */
  masterSecret(clientRandom: Buffer, resumedBy: { sessionId: string | null; ticketId: string | null } | null): { secret: Buffer; via: 'session-id' | 'ticket' | 'client-random' } | undefined {
    if (resumedBy?.sessionId) {
      const s = this.bySessionId.get(resumedBy.sessionId);
      if (s) return { secret: s, via: 'session-id' };
    }
    if (resumedBy?.ticketId) {
      const s = this.byTicket.get(resumedBy.ticketId);
      if (s) return { secret: s, via: 'ticket' };
    }
    const s = secretsFor(this.log, clientRandom)?.get(KEYLOG_LABELS.CLIENT_RANDOM);
    return s ? { secret: s, via: 'client-random' } : undefined;
  }

  cacheSession(sessionId: string, master: Buffer): void {
    if (sessionId) remember(this.bySessionId, sessionId, master);
  }

  cacheTicket(id: string, master: Buffer): void {
    remember(this.byTicket, id, master);
  }
}
