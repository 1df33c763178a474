import { dataConnections, type DataConnectionFact } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import { capFrames, endpoint, MAX_ITEMS, sessionName, sessions, subject } from './ftp-evidence.js';

/**
 * TLS protects the control connection but the files travel in clear: PROT C accepted, a data
 * connection whose first bytes are not a TLS handshake, or (when every command could be read)
 * transfers without any accepted PROT P. Implicit FTPS protects data by default (MS-FTPS), so
 * there only the first two count.
 */
export const FTPS_DATA_UNPROTECTED: Rule = {
  code: 'FTPS_DATA_UNPROTECTED',
  severity: 'high',
  title: 'FTPS protects the login but not the data',
  explanation: 'The control connection used TLS, but file contents and listings crossed the network unencrypted on the data connections.',
  mitigation: 'Require PROT P (after PBSZ 0) in the client, and make the server refuse clear data connections (vsftpd force_local_data_ssl=YES, ProFTPD TLSRequired on, IIS "Require SSL connections" for the data channel).',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const t = s.tls;
      if (t.mode === 'none') continue;
      const frames: number[] = [];
      const reasons: string[] = [];
      const prot = t.prot;
      if (prot && prot.accepted && prot.level === 'C') {
        frames.push(prot.frame);
        reasons.push(`the client chose PROT C (clear data) in frame ${prot.frame} and the server accepted it (${prot.code})`);
      }
      const clear: DataConnectionFact[] = dataConnections(s)
        .filter((c) => c.firstPayloadFrame !== null && !c.tls);
      if (clear.length > 0) {
        const c = clear[0];
        frames.push(...clear.map((x) => x.firstPayloadFrame!));
        reasons.push(`the data connection ${endpoint(c.src, c.srcPort)} → ${endpoint(c.dst, c.dstPort)} (flow ${c.flow}) carried data without a TLS handshake (first payload in frame ${c.firstPayloadFrame})${clear.length > 1 ? `, like ${clear.length - 1} more` : ''}`);
      }
      const transfers = s.transfers.filter((x) => x.result === 'ok');
      if (t.mode === 'explicit' && t.decryptedLines > 0 && transfers.length > 0 && !(prot && prot.accepted && prot.level === 'P') && reasons.length === 0) {
        frames.push(transfers[0].frame);
        reasons.push(`every command was readable and none set PROT P before ${transfers[0].verb} in frame ${transfers[0].frame}`);
      }
      if (reasons.length === 0) continue;
      out.push({
        frames: capFrames(frames),
        firstTs: clear[0]?.firstTs ?? s.firstTs,
        subject: subject(s, clear[0]?.flow ?? s.flow),
        details: { client: s.client, server: s.server, tls: t.mode, prot: prot ? { level: prot.level, frame: prot.frame, code: prot.code } : null,
          clearDataConnections: clear.slice(0, MAX_ITEMS).map((c) => ({ flow: c.flow, src: c.src, dst: c.dst, dstPort: c.dstPort, firstPayloadFrame: c.firstPayloadFrame, bytes: c.bytes })) },
        explanation: `In ${sessionName(s)}, TLS protected the control connection (${t.mode === 'implicit' ? 'implicit FTPS' : `AUTH ${t.auth} in frame ${t.authFrame}`}), but ${reasons.join('; ')}.`,
      });
    }
    return out;
  },
};
