import type { Rule } from '../types.js';
import { announcementDetails, announcementText, capFrames, MAX_ITEMS, sessionName, sessions, subject } from './ftp-evidence.js';

/** A passive port outside the range the firewall was configured for (`--passive-range`). */
export const FTP_PASV_PORT_OUT_OF_RANGE: Rule = {
  code: 'FTP_PASV_PORT_OUT_OF_RANGE',
  severity: 'medium',
  title: 'Passive port outside the configured range',
  explanation: 'The server announced a passive data port outside the configured passive port range, so firewall rules written for that range will not let the data connection through.',
  mitigation: 'Make the server\'s passive port range (vsftpd pasv_min_port/pasv_max_port, ProFTPD PassivePorts, IIS "Data Channel Port Range", FileZilla Server "custom port range") and the firewall rules match.',
  evaluate(facts, opts) {
    const range = opts.passiveRange;
    if (!range) return [];
    const [lo, hi] = range;
    const out = [];
    for (const s of sessions(facts)) {
      const outside = s.channels.filter((c) => c.mode === 'passive' && (c.announcedPort < lo || c.announcedPort > hi));
      if (outside.length === 0) continue;
      const ch = outside[0];
      out.push({
        frames: capFrames(outside.map((c) => c.frame)),
        firstTs: ch.ts,
        subject: subject(s),
        details: { client: s.client, server: s.server, range: { lo, hi }, count: outside.length,
          ports: [...new Set(outside.map((c) => c.announcedPort))].slice(0, MAX_ITEMS),
          announcements: outside.slice(0, MAX_ITEMS).map((c) => ({ ...announcementDetails(c), outcome: c.outcome })) },
        explanation: `In ${sessionName(s)}, ${announcementText(ch)}: port ${ch.announcedPort} lies outside the configured passive range ${lo}-${hi}.${outside.length > 1 ? ` ${outside.length} passive announcements of this session are outside it.` : ''}`,
      });
    }
    return out;
  },
};
