/**
 * What became of each announcement, decided once every flow has ended: the connection that
 * counts as "observed", the channel's outcome, and the bytes and duration of its transfer.
 */
import type { FtpSessionFact } from './facts.js';

export function settleChannels(f: FtpSessionFact): void {
  const byCommand = new Map(f.transfers.map((t) => [t.command, t]));
  for (const ch of f.channels) {
    const conns = ch.connections;
    ch.observed = conns.find((c) => c.state === 'completed') ?? conns[conns.length - 1] ?? null;
    const t = ch.transfer === null ? undefined : byCommand.get(ch.transfer);
    if (ch.observed) ch.outcome = ch.observed.state;
    else if (ch.accepted === false) ch.outcome = 'rejected';
    // No attempt at all, yet the server gave up on the data connection (RFC 959: 425 can't open, 426 closed).
    else if (t?.final && (t.final.code === 425 || t.final.code === 426)) ch.outcome = 'never-seen';
    else if (!t) ch.outcome = 'unused';
    else ch.outcome = 'not-captured';
    if (t && ch.observed) {
      const upload = t.verb === 'STOR' || t.verb === 'STOU' || t.verb === 'APPE';
      t.bytes = upload ? ch.observed.bytesFromClient : ch.observed.bytesFromServer;
      t.durationUs = ch.observed.lastTs - ch.observed.firstTs;
    }
  }
}
