import { dataConnections, type DataConnectionFact, type FtpReplyFact, type FtpSessionFact } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import { capFrames, endpoint, MAX_ITEMS, sessionName, sessions, subject } from './ftp-evidence.js';
import { ftpsHandshakes, reuseVerdict } from './ftps-tls-evidence.js';

/**
 * Server texts that name the missing TLS resumption: vsftpd "522 SSL connection failed; session
 * reuse required", FileZilla Server "450 TLS session of data connection has not resumed..." and
 * "425 Unable to build data connection: TLS session of data connection not resumed.", and
 * ProFTPD/others' 425 texts mentioning reuse.
 */
const REUSE_TEXT = /session reuse|reuse required|not resumed|has not resumed|did not reuse|resum(e|ption).*(requir|fail)/i;

function replies(s: FtpSessionFact): FtpReplyFact[] {
  const out: FtpReplyFact[] = [];
  for (const c of s.commands) if (c.final && c.final.code >= 400) out.push(c.final);
  for (const u of s.unsolicited) if (u.code >= 400) out.push(u);
  return out;
}

/**
 * The data connection's TLS session did not resume the control connection's: shown by the
 * server's refusal text, or (through facts.tls) by the data handshake itself.
 */
export const FTPS_SESSION_REUSE_MISSING: Rule = {
  code: 'FTPS_SESSION_REUSE_MISSING',
  severity: 'medium',
  title: 'FTPS data connection does not resume the control connection\'s TLS session',
  explanation: 'Many FTPS servers (vsftpd by default, ProFTPD, FileZilla Server) accept a protected data connection only if its TLS handshake resumes the control connection\'s session, which proves it comes from the same client. Here the data connection did not, so transfers fail.',
  mitigation: 'Enable TLS session resumption (reuse) in the client for data connections (e.g. pass the control session to the data socket; avoid curl --no-sessionid); only as a last resort relax the server (vsftpd require_ssl_reuse=NO, ProFTPD TLSOptions NoSessionReuseRequired).',
  evaluate(facts) {
    const out = [];
    const handshakes = ftpsHandshakes(facts);
    for (const s of sessions(facts)) {
      const texts = replies(s).filter((r) => REUSE_TEXT.test(r.text));
      const tlsEvidence: Array<{ conn: DataConnectionFact; reason: string; frames: number[] }> = [];
      if (handshakes.size > 0) {
        for (const conn of dataConnections(s)) {
          const data = handshakes.get(conn.flow);
          if (!data) continue;
          const v = reuseVerdict(handshakes.get(s.flow), data);
          if (v) tlsEvidence.push({ conn, reason: v.reason, frames: v.frames });
        }
      }
      if (texts.length === 0 && tlsEvidence.length === 0) continue;
      const parts: string[] = [];
      if (texts.length > 0) parts.push(`the server refused a data connection with ${texts[0].code} "${texts[0].text.split('\n')[0].slice(0, 100)}" in frame ${texts[0].frame}`);
      if (tlsEvidence.length > 0) {
        const e = tlsEvidence[0];
        parts.push(`the data connection ${endpoint(e.conn.src, e.conn.srcPort)} → ${endpoint(e.conn.dst, e.conn.dstPort)} (flow ${e.conn.flow}) did not resume: ${e.reason}`);
      }
      out.push({
        frames: capFrames([...texts.map((r) => r.frame), ...tlsEvidence.flatMap((e) => e.frames)]),
        firstTs: Math.min(...texts.map((r) => r.ts), ...tlsEvidence.map((e) => e.conn.firstTs)),
        subject: subject(s, tlsEvidence[0]?.conn.flow ?? s.flow),
        details: { client: s.client, server: s.server,
          replies: texts.slice(0, MAX_ITEMS).map((r) => ({ code: r.code, text: r.text, frame: r.frame })),
          handshakes: tlsEvidence.slice(0, MAX_ITEMS).map((e) => ({ flow: e.conn.flow, reason: e.reason, frames: e.frames })) },
        explanation: `In ${sessionName(s)}, ${parts.join('; and ')}.`,
      });
    }
    return out;
  },
};
