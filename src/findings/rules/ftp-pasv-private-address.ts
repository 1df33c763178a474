import type { FtpChannelFact } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import {
  announcementDetails, announcementText, capFrames, channelFrames, connectionDetails, connectionText,
  MAX_ITEMS, observed, pasvPrivateProblem, sessionName, sessions, subject, transferOf,
} from './ftp-evidence.js';

/**
 * The server put a private address into its 227/228 reply while the client knows it by another
 * address (or is itself on the public side): nobody rewrote the reply on the way (no NAT helper,
 * or the control channel was encrypted), so the client cannot use it. A connection that really
 * reached the announced endpoint, or (seen inside the NAT) a successful transfer, clears it.
 */
export const FTP_PASV_PRIVATE_ADDRESS: Rule = {
  code: 'FTP_PASV_PRIVATE_ADDRESS',
  severity: 'high',
  title: 'Passive-mode reply announces a private address',
  explanation: 'The server told the client to open the data connection to a private address that the client cannot reach: the server sits behind NAT and neither the server nor a NAT helper replaced its inside address in the PASV reply.',
  mitigation: 'Configure the server\'s external address for passive mode (IIS: FTP firewall support "External IP Address of Firewall"; vsftpd: pasv_address; ProFTPD: MasqueradeAddress; FileZilla Server: "Use the following IP"), or have clients use EPSV, which carries no address.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const bad: FtpChannelFact[] = s.channels.filter((ch) => pasvPrivateProblem(s, ch));
      if (bad.length === 0) continue;
      const ch = bad[0];
      const conn = observed(ch);
      const t = transferOf(s, ch);
      const seen = ch.announcedIp !== s.server
        ? `but the client ${s.client} reaches the server at ${s.server}`
        : `and the client ${s.client} is outside that private network`;
      const then = conn
        ? `; ${connectionText(conn)}${conn.matchedBy === 'control-peer' ? ' — the client went to the control connection\'s address instead of the announced one' : ''}`
        : t?.final && t.final.code >= 400 ? `; no connection to it appears, and the server answered ${t.final.code} in frame ${t.final.frame}` : '';
      const frames = bad.flatMap((c) => channelFrames(s, c));
      out.push({
        frames: capFrames(frames),
        firstTs: ch.ts,
        subject: subject(s, conn?.flow ?? s.flow),
        details: { client: s.client, server: s.server, count: bad.length, announcedIp: ch.announcedIp, announcedPort: ch.announcedPort,
          arithmetic: ch.arithmetic, announcements: bad.slice(0, MAX_ITEMS).map((c) => ({ ...announcementDetails(c), outcome: c.outcome,
            connection: observed(c) ? connectionDetails(observed(c)!) : null })) },
        explanation: `In ${sessionName(s)}, ${announcementText(ch)}, a private address, ${seen}${then}.${bad.length > 1 ? ` ${bad.length} passive replies in this session announce private addresses.` : ''}`,
      });
    }
    return out;
  },
};
