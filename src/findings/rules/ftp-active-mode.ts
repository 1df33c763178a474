import type { Rule } from '../types.js';
import { announcementDetails, announcementText, capFrames, MAX_ITEMS, sessionName, sessions, subject } from './ftp-evidence.js';

/**
 * Active mode (PORT/EPRT/LPRT): the server opens the data connection back to the client, which
 * every client-side NAT and firewall has to let in. One finding per session, listing them all.
 */
export const FTP_ACTIVE_MODE: Rule = {
  code: 'FTP_ACTIVE_MODE',
  severity: 'medium',
  title: 'FTP active mode: the server connects back to the client',
  explanation: 'The client used PORT/EPRT/LPRT, so each data connection is opened by the server towards the client. Client-side NAT and firewalls must let those inbound connections through, which they often do not.',
  mitigation: 'Use passive mode (PASV, or EPSV which carries no address) so the client opens every connection.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const active = s.channels.filter((c) => c.mode === 'active');
      if (active.length === 0) continue;
      const first = active[0];
      const refused = active.filter((c) => c.accepted === false).length;
      out.push({
        frames: capFrames(active.map((c) => c.frame)),
        firstTs: first.ts,
        subject: subject(s),
        details: { client: s.client, server: s.server, count: active.length, refusedByServer: refused,
          kinds: [...new Set(active.map((c) => c.kind))], announcements: active.slice(0, MAX_ITEMS).map(announcementDetails) },
        explanation: `In ${sessionName(s)}, ${announcementText(first)}${active.length > 1 ? `, and ${active.length - 1} more active-mode announcement${active.length > 2 ? 's' : ''} followed` : ''}: for each transfer the server ${s.server} has to open a connection to the client side.${refused ? ` The server refused ${refused} of them.` : ''}`,
      });
    }
    return out;
  },
};
