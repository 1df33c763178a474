import type { FtpChannelFact } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import {
  announcementDetails, announcementText, capFrames, channelFailed, channelFrames, connectionDetails, connectionFrames,
  connectionText, endpoint, failureReply, MAX_ITEMS, observed, sessionName, sessions, subject,
} from './ftp-evidence.js';

const FAILED = new Set(['syn-unanswered', 'refused', 'icmp-unreachable']);

/**
 * A data connection to an announced endpoint never came up: its SYN went unanswered, was reset
 * or drew an ICMP error, or no attempt appears at all before the server's 425/426.
 */
export const FTP_DATA_CONNECT_FAILED: Rule = {
  code: 'FTP_DATA_CONNECT_FAILED',
  severity: 'high',
  title: 'FTP data connection could not be opened',
  explanation: 'The control connection worked, but the separate data connection it announced never completed: a firewall or NAT between the two ends dropped or refused it.',
  mitigation: 'Open the data port (the server\'s whole passive port range, or the client\'s ports for active mode) on every firewall and NAT between client and server, and make sure the announced address is the one the other side can reach.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const failed: FtpChannelFact[] = s.channels.filter((ch) => channelFailed(s, ch));
      // With the control channel unreadable, the connections between the two hosts stand in for the announcements.
      const blind = s.encryptedDataConnections.filter((c) => FAILED.has(c.state));
      if (failed.length === 0 && blind.length > 0) {
        const c = blind[0];
        out.push({
          frames: capFrames(blind.flatMap(connectionFrames)),
          firstTs: c.firstTs,
          subject: subject(s, c.flow),
          details: { client: s.client, server: s.server, count: blind.length, announcementsReadable: false,
            failures: blind.slice(0, MAX_ITEMS).map((x) => ({ outcome: x.state, connection: connectionDetails(x) })) },
          explanation: `In ${sessionName(s)}, the control connection was encrypted, so its announcements could not be read, but ${connectionText(c)}: a data connection of this session that never came up.${blind.length > 1 ? ` ${blind.length} such connections.` : ''}`,
        });
        continue;
      }
      if (failed.length === 0) continue;
      const ch = failed[0];
      const conn = observed(ch);
      const fail = failureReply(s, ch);
      const opener = ch.mode === 'passive' ? `the client ${s.client}` : `the server ${s.server}`;
      const what = conn ? connectionText(conn)
        : `no connection from ${opener} to ${endpoint(ch.announcedIp, ch.announcedPort)} appears in the capture`;
      const reply = fail ? `; the server answered ${fail.code} "${fail.text.split('\n')[0].slice(0, 80)}" in frame ${fail.frame}` : '';
      out.push({
        frames: capFrames(failed.flatMap((c) => channelFrames(s, c))),
        firstTs: ch.ts,
        subject: subject(s, conn?.flow ?? s.flow),
        details: { client: s.client, server: s.server, count: failed.length,
          failures: failed.slice(0, MAX_ITEMS).map((c) => {
            const r = failureReply(s, c);
            const o = observed(c);
            return { ...announcementDetails(c), outcome: c.outcome, connection: o ? connectionDetails(o) : null,
              reply: r ? { code: r.code, text: r.text, frame: r.frame } : null };
          }) },
        explanation: `In ${sessionName(s)}, ${announcementText(ch)}, and ${opener} was to open the data connection there, but ${what}${reply}.${failed.length > 1 ? ` ${failed.length} data connections of this session failed.` : ''}`,
      });
    }
    return out;
  },
};
