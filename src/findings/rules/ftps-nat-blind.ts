import { isPrivateAddress } from '../../proto/ftp/portmath.js';
import type { DataConnectionFact, FtpSessionFact } from '../../proto/ftp/facts.js';
import type { Rule } from '../types.js';
import {
  capFrames, channelFailed, channelFrames, connectionFrames, connectionText, endpoint, MAX_ITEMS, pasvPrivateProblem,
  portPrivateProblem, sessionName, sessions, subject,
} from './ftp-evidence.js';

const FAILED = new Set(['syn-unanswered', 'refused', 'icmp-unreachable']);

interface Evidence { text: string; frames: number[]; ts: number; flow: number | null }

/** Signs that NAT needed to read or rewrite announcements it could not see. */
function evidence(s: FtpSessionFact): Evidence[] {
  const out: Evidence[] = [];
  const serverPublic = !isPrivateAddress(s.server);
  // Announcements read only thanks to decryption: what a NAT on the path saw as opaque bytes.
  const encryptedChannels = s.channels.filter((c) => c.via === 'decrypted');
  for (const ch of encryptedChannels) {
    if (pasvPrivateProblem(s, ch) || portPrivateProblem(s, ch)) {
      out.push({ text: `the encrypted ${ch.kind} in frame ${ch.frame} announced the private address ${endpoint(ch.announcedIp, ch.announcedPort)}, which a NAT helper would have had to rewrite`, frames: channelFrames(s, ch), ts: ch.ts, flow: ch.observed?.flow ?? null });
    } else if (channelFailed(s, ch)) {
      out.push({ text: `the data connection announced by the encrypted ${ch.kind} in frame ${ch.frame} failed (${ch.outcome})`, frames: channelFrames(s, ch), ts: ch.ts, flow: ch.observed?.flow ?? null });
    }
  }
  const blind: DataConnectionFact[] = [...s.encryptedDataConnections, ...encryptedChannels.flatMap((c) => c.connections)];
  for (const c of blind) {
    if (FAILED.has(c.state)) out.push({ text: connectionText(c), frames: connectionFrames(c), ts: c.firstTs, flow: c.flow });
    else if (serverPublic && isPrivateAddress(c.dst) && c.dst !== s.client) {
      out.push({ text: `the data connection (flow ${c.flow}, frame ${c.synFrame ?? c.firstFrame}) went to the private address ${c.dst} although the server is reached at the public ${s.server}`, frames: connectionFrames(c), ts: c.firstTs, flow: c.flow });
    }
  }
  return out;
}

/**
 * The control connection was encrypted while it carried the data-channel announcements, and the
 * session crosses NAT: no NAT helper or firewall ALG can read or rewrite PASV/PORT inside TLS,
 * so the announcement must already be right and the ports open.
 */
export const FTPS_NAT_BLIND: Rule = {
  code: 'FTPS_NAT_BLIND',
  severity: 'high',
  title: 'FTPS across NAT: the NAT cannot see or fix the data-channel announcements',
  explanation: 'The control connection was encrypted, so NAT devices and firewall FTP helpers could neither rewrite the PASV/PORT addresses nor open the data ports, and the data connections show the consequence.',
  mitigation: 'Make the server announce its public address itself (pasv_address / MasqueradeAddress / external IP), use a fixed passive port range opened on every firewall, or use EPSV; do not rely on an FTP helper for FTPS.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      if (s.tls.mode === 'none') continue;
      const ev = evidence(s);
      if (ev.length === 0) continue;
      const e = ev[0];
      out.push({
        frames: capFrames([...(s.tls.tlsFrom ? [s.tls.tlsFrom.frame] : []), ...ev.flatMap((x) => x.frames)]),
        firstTs: Math.min(...ev.map((x) => x.ts)),
        subject: subject(s, e.flow ?? s.flow),
        details: { client: s.client, server: s.server, tls: s.tls.mode, tlsFromFrame: s.tls.tlsFrom?.frame ?? null,
          clientPrivate: isPrivateAddress(s.client), serverPrivate: isPrivateAddress(s.server), count: ev.length,
          evidence: ev.slice(0, MAX_ITEMS).map((x) => ({ text: x.text, frames: x.frames, flow: x.flow })) },
        explanation: `In ${sessionName(s)}, the control connection was encrypted from frame ${s.tls.tlsFrom?.frame} (${s.tls.mode === 'implicit' ? 'implicit FTPS' : `AUTH ${s.tls.auth}`}), so no NAT helper could read its PASV/PORT; ${e.text}.${ev.length > 1 ? ` ${ev.length} such signs in this session.` : ''}`,
      });
    }
    return out;
  },
};
