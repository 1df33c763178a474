import type { Rule } from '../types.js';
import { capFrames, endpoint, sessionName, sessions, showPasswords, subject, tsOfFrame } from './ftp-evidence.js';

/**
 * USER/PASS sent where anyone on the path can read them: the control channel was not (yet)
 * protected by TLS. Fires on a clear PASS, or on a clear USER that the server accepted with 230
 * straight away (no password needed). The password never appears unless showPasswords.
 */
export const FTP_CLEARTEXT_LOGIN: Rule = {
  code: 'FTP_CLEARTEXT_LOGIN',
  severity: 'high',
  title: 'FTP login sent in clear text',
  explanation: 'The user name and password crossed the network unencrypted on the FTP control connection; anyone who can capture the traffic can read them.',
  mitigation: 'Use explicit FTPS (AUTH TLS before USER) or implicit FTPS on port 990, and make the server refuse logins without TLS.',
  evaluate(facts, opts) {
    const out = [];
    for (const s of sessions(facts)) {
      const clearPass = s.passFrame !== null && s.passVia === 'clear';
      const clearUserOnly = !clearPass && s.userFrame !== null && s.userVia === 'clear' && s.login === 'success' && s.passFrame === null;
      if (!clearPass && !clearUserOnly) continue;
      const frames = [s.userFrame, s.passFrame, s.loginReply?.frame].filter((f): f is number => f !== null && f !== undefined);
      const result = s.login === 'success' ? `the server accepted it (${s.loginReply?.code} in frame ${s.loginReply?.frame})`
        : s.login === 'failed' ? `the server refused it (${s.loginReply?.code} in frame ${s.loginReply?.frame}), but the password was exposed anyway`
        : 'no verdict from the server is in the capture';
      const what = clearPass ? `USER ${JSON.stringify(s.user ?? '')}${s.userFrame !== null ? ` (frame ${s.userFrame})` : ''} and its password (PASS, frame ${s.passFrame})`
        : `USER ${JSON.stringify(s.user ?? '')} (frame ${s.userFrame}), which needed no password`;
      const details: Record<string, unknown> = {
        client: s.client, server: s.server, serverPort: s.serverPort, user: s.user, userFrame: s.userFrame, passFrame: s.passFrame,
        login: s.login, loginReply: s.loginReply ? { code: s.loginReply.code, frame: s.loginReply.frame } : null, tls: s.tls.mode,
      };
      if (showPasswords(opts) && s.password !== null) details.password = s.password;
      out.push({
        frames: capFrames(frames),
        firstTs: tsOfFrame(s, s.userFrame ?? s.passFrame),
        subject: subject(s),
        details,
        explanation: `In ${sessionName(s)}, the client ${endpoint(s.client, s.clientPort)} sent ${what} unencrypted${s.tls.mode === 'none' ? ' (the session never started TLS)' : ' before TLS protected the control connection'}; ${result}. Anyone on the path between them can read the credentials.`,
      });
    }
    return out;
  },
};
