import type { DataConnectionFact, FtpChannelFact, FtpReplyFact } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import {
  announcementDetails, announcementText, capFrames, connectionDetails, connectionFrames, MAX_ITEMS, sessionName,
  sessions, subject, transferOf,
} from './ftp-evidence.js';

/** vsftpd refuses a passive data connection from another address than the control client ("425 Security: Bad IP connecting."). */
const BAD_IP = /bad ip|wrong ip|ip mismatch|different ip/i;

interface Mismatch { ch: FtpChannelFact; conn: DataConnectionFact | null; expected: string; reply: FtpReplyFact | null }

/**
 * The data connection came from another address than the control connection's end it should
 * come from (passive: the client; active: the server) — a load balancer or a multi-address
 * egress NAT split the two channels — or the server said so in its 425 reply.
 */
export const FTP_DATA_SOURCE_MISMATCH: Rule = {
  code: 'FTP_DATA_SOURCE_MISMATCH',
  severity: 'high',
  title: 'FTP data connection uses another address than the control connection',
  explanation: 'The data connection did not come from the address the control connection uses. Servers that check it refuse the connection, and it shows that a load balancer or a NAT with several public addresses sends the two channels different ways.',
  mitigation: 'Pin both channels of a session to one address and node: source-address persistence on the load balancer, a single SNAT address (or "persistent" address pooling) on the NAT for the client.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const found: Mismatch[] = [];
      for (const ch of s.channels) {
        const expected = ch.mode === 'passive' ? s.client : s.server;
        const t = transferOf(s, ch);
        const reply = t?.final && t.final.code >= 400 && BAD_IP.test(t.final.text) ? t.final : null;
        const conn = ch.connections.find((c) => c.src !== expected && c.state !== 'midstream') ?? null;
        if (conn || reply) found.push({ ch, conn, expected, reply });
      }
      if (found.length === 0) continue;
      const m = found[0];
      const from = m.conn
        ? `the data connection to it came from ${m.conn.src} (flow ${m.conn.flow}, frame ${m.conn.synFrame ?? m.conn.firstFrame}), not from ${m.expected}, the ${m.ch.mode === 'passive' ? 'client' : 'server'} address of the control connection`
        : `the server saw the data connection arrive from another address than ${m.expected}`;
      const reply = m.reply ? `; the server refused it with ${m.reply.code} "${m.reply.text.split('\n')[0].slice(0, 80)}" in frame ${m.reply.frame}` : '';
      out.push({
        frames: capFrames(found.flatMap((f) => [f.ch.frame, ...(f.conn ? connectionFrames(f.conn) : []), ...(f.reply ? [f.reply.frame] : [])])),
        firstTs: m.ch.ts,
        subject: subject(s, m.conn?.flow ?? s.flow),
        details: { client: s.client, server: s.server, count: found.length,
          mismatches: found.slice(0, MAX_ITEMS).map((f) => ({ ...announcementDetails(f.ch), expectedSource: f.expected,
            connection: f.conn ? connectionDetails(f.conn) : null, reply: f.reply ? { code: f.reply.code, text: f.reply.text, frame: f.reply.frame } : null })) },
        explanation: `In ${sessionName(s)}, ${announcementText(m.ch)}; ${from}${reply}.`,
      });
    }
    return out;
  },
};
