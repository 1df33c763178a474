import type { FtpChannelFact } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import {
  announcementDetails, announcementText, capFrames, channelFrames, connectionDetails, connectionText,
  MAX_ITEMS, observed, portPrivateProblem, sessionName, sessions, subject, transferOf,
} from './ftp-evidence.js';

/**
 * The client announced a private address in PORT/EPRT/LPRT to a server on the public side:
 * only a NAT helper that rewrites the command could save it. Seen from outside the NAT the
 * announcement differs from the client's address; seen from inside it matches, and a connection
 * that reached it or a successful transfer shows a helper did its job.
 */
export const FTP_PORT_PRIVATE_ADDRESS: Rule = {
  code: 'FTP_PORT_PRIVATE_ADDRESS',
  severity: 'high',
  title: 'Active-mode command announces a private client address to a public server',
  explanation: 'The client is behind NAT and told the server to connect back to its private address; without a working FTP helper on the NAT device the server cannot reach it.',
  mitigation: 'Use passive mode (PASV/EPSV). If active mode is unavoidable, enable the FTP helper/ALG on the client-side NAT (and keep the control channel readable for it).',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const bad: FtpChannelFact[] = s.channels.filter((ch) => portPrivateProblem(s, ch));
      if (bad.length === 0) continue;
      const ch = bad[0];
      const conn = observed(ch);
      const t = transferOf(s, ch);
      const seen = ch.announcedIp !== s.client ? `while the server ${s.server} sees the client as ${s.client}` : `to the public server ${s.server}`;
      const then = conn ? `; ${connectionText(conn)}`
        : t?.final && t.final.code >= 400 ? `; the server could not connect and answered ${t.final.code} in frame ${t.final.frame}`
        : ch.accepted === false && ch.acceptReply ? `; the server refused it with ${ch.acceptReply.code} "${ch.acceptReply.text.split('\n')[0].slice(0, 80)}" in frame ${ch.acceptReply.frame}` : '';
      const frames = bad.flatMap((c) => channelFrames(s, c));
      out.push({
        frames: capFrames(frames),
        firstTs: ch.ts,
        subject: subject(s, conn?.flow ?? s.flow),
        details: { client: s.client, server: s.server, count: bad.length, announcedIp: ch.announcedIp, announcedPort: ch.announcedPort,
          arithmetic: ch.arithmetic, announcements: bad.slice(0, MAX_ITEMS).map((c) => ({ ...announcementDetails(c), outcome: c.outcome,
            connection: observed(c) ? connectionDetails(observed(c)!) : null })) },
        explanation: `In ${sessionName(s)}, ${announcementText(ch)}, a private address, ${seen}${then}.${bad.length > 1 ? ` ${bad.length} active-mode announcements in this session carry private addresses.` : ''}`,
      });
    }
    return out;
  },
};
