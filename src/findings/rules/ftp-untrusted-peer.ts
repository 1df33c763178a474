import { dataConnections } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import { capFrames, inCidr, MAX_ITEMS, sessionName, sessions, subject } from './ftp-evidence.js';

/** An FTP peer (control client or server, or a data connection's end) outside `--trusted`. */
export const FTP_UNTRUSTED_PEER: Rule = {
  code: 'FTP_UNTRUSTED_PEER',
  severity: 'medium',
  title: 'FTP peer outside the trusted networks',
  explanation: 'An FTP control or data connection involved an address outside the networks given as trusted.',
  mitigation: 'Allow FTP only from and to known hosts (firewall rules, the server\'s allow lists such as vsftpd tcp_wrappers or IIS IP restrictions), and check whether this peer is expected.',
  evaluate(facts, opts) {
    const trusted = opts.trusted;
    if (trusted.length === 0) return [];
    const ok = (ip: string): boolean => trusted.some((c) => inCidr(ip, c));
    const out = [];
    for (const s of sessions(facts)) {
      const peers: Array<{ ip: string; role: string; frame: number; flow: number }> = [];
      const add = (ip: string, role: string, frame: number, flow: number): void => {
        if (!ok(ip) && !peers.some((p) => p.ip === ip)) peers.push({ ip, role, frame, flow });
      };
      add(s.client, 'control client', s.firstFrame, s.flow);
      add(s.server, 'control server', s.firstFrame, s.flow);
      for (const c of dataConnections(s)) {
        add(c.src, 'data connection source', c.firstFrame, c.flow);
        add(c.dst, 'data connection destination', c.firstFrame, c.flow);
      }
      if (peers.length === 0) continue;
      const p = peers[0];
      out.push({
        frames: capFrames(peers.map((x) => x.frame)),
        firstTs: s.firstTs,
        subject: { ...subject(s, p.flow), host: p.ip },
        details: { client: s.client, server: s.server, trusted, peers: peers.slice(0, MAX_ITEMS) },
        explanation: `In ${sessionName(s)}, ${peers.map((x) => `the ${x.role} ${x.ip}`).join(', ')} ${peers.length > 1 ? 'lie' : 'lies'} outside the trusted networks ${trusted.join(', ')}.`,
      });
    }
    return out;
  },
};
