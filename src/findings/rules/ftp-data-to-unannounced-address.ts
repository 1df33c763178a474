import type { DataConnectionFact, FtpChannelFact } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import {
  announcementDetails, announcementText, capFrames, connectionDetails, connectionFrames, connectionText, MAX_ITEMS, sessionName,
  sessions, subject,
} from './ftp-evidence.js';

/**
 * The data connection went to the announced port at the control connection's peer address
 * rather than to the announced address: the client substituted it (curl --ftp-skip-pasv-ip,
 * FileZilla's "use the server's external IP address instead") or NAT changed it. It works, but
 * it hides a wrong announcement that other clients will trip over.
 */
export const FTP_DATA_TO_UNANNOUNCED_ADDRESS: Rule = {
  code: 'FTP_DATA_TO_UNANNOUNCED_ADDRESS',
  severity: 'info',
  title: 'Data connection went to the control address instead of the announced one',
  explanation: 'The data connection went to the address of the control connection instead of the announced one (the client ignored the passive reply\'s address, or NAT changed it). That hides a wrong announcement, which peers without this workaround cannot get past.',
  mitigation: 'Fix the announced address on the server (its external/public address) even though this client worked around it.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const found: Array<{ ch: FtpChannelFact; conn: DataConnectionFact }> = [];
      for (const ch of s.channels) {
        const conn = ch.connections.find((c) => c.matchedBy === 'control-peer');
        if (conn) found.push({ ch, conn });
      }
      if (found.length === 0) continue;
      const { ch, conn } = found[0];
      out.push({
        frames: capFrames(found.flatMap((f) => [f.ch.frame, ...connectionFrames(f.conn)])),
        firstTs: ch.ts,
        subject: subject(s, conn.flow),
        details: { client: s.client, server: s.server, count: found.length,
          connections: found.slice(0, MAX_ITEMS).map((f) => ({ ...announcementDetails(f.ch), connection: connectionDetails(f.conn) })) },
        ...(ch.mode === 'active' ? { mitigation: 'Fix the address the client announces in PORT/EPRT (its NAT\'s public address, or use passive mode) even though this connection got through.' } : {}),
        explanation: `In ${sessionName(s)}, ${announcementText(ch)}, but ${connectionText(conn)} — to ${conn.dst}, the ${ch.mode === 'passive' ? 'server' : 'client'} address of the control connection, not to the announced ${ch.announcedIp}.${found.length > 1 ? ` ${found.length} data connections of this session did the same.` : ''}`,
      });
    }
    return out;
  },
};
