import type { Rule } from '../types.js';
import { capFrames, sessionName, sessions, subject } from './ftp-evidence.js';

/**
 * CCC (RFC 4217 §6): the control connection went back to clear text after TLS. Seen directly
 * when the CCC and its 200 were readable, or inferred when clear FTP text followed TLS records.
 */
export const FTPS_CLEAR_COMMAND_CHANNEL: Rule = {
  code: 'FTPS_CLEAR_COMMAND_CHANNEL',
  severity: 'medium',
  title: 'FTPS control connection dropped back to clear text (CCC)',
  explanation: 'After the login under TLS, the client issued CCC and the control connection continued unencrypted. Commands, file names and PASV/PORT replies are readable and can be altered on the path from then on.',
  mitigation: 'Avoid CCC; it only exists so NAT helpers can read PASV/PORT. Prefer a server that announces its public address and a fixed passive port range, or EPSV, and keep the control channel encrypted.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const c = s.tls.ccc;
      if (!c || !(c.inferred || (c.code !== null && c.code >= 200 && c.code < 300))) continue;
      const firstClear = s.commands.find((x) => x.via === 'clear' && c.clearFromFrame !== null && x.frame >= c.clearFromFrame);
      const frames = [c.frame, c.clearFromFrame, firstClear?.frame].filter((f): f is number => f !== null && f !== undefined);
      const how = c.inferred
        ? `the control connection carried TLS from frame ${s.tls.tlsFrom?.frame}, and from frame ${c.clearFromFrame} it carried clear FTP text again (a CCC, unreadable itself, must have preceded it)`
        : `the client sent CCC in frame ${c.frame}, the server accepted it (${c.code})${c.clearFromFrame !== null ? `, and clear text followed from frame ${c.clearFromFrame}` : ''}`;
      out.push({
        frames: capFrames(frames),
        firstTs: firstClear?.ts ?? s.firstTs,
        subject: subject(s),
        details: { client: s.client, server: s.server, inferred: c.inferred, cccFrame: c.frame, code: c.code, clearFromFrame: c.clearFromFrame,
          firstClearCommand: firstClear ? { verb: firstClear.verb, frame: firstClear.frame } : null },
        explanation: `In ${sessionName(s)}, ${how}${firstClear ? `; the first clear command was ${firstClear.verb} in frame ${firstClear.frame}` : ''}.`,
      });
    }
    return out;
  },
};
