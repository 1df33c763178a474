import type { Rule } from '../types.js';
import { capFrames, endpoint, sessionName, sessions, subject, tsOfFrame } from './ftp-evidence.js';

/** RFC 1635 guest access: USER anonymous (or ftp) and the server said 230. */
export const FTP_ANONYMOUS_LOGIN: Rule = {
  code: 'FTP_ANONYMOUS_LOGIN',
  severity: 'info',
  title: 'Anonymous FTP login accepted',
  explanation: 'The server let a client in as the guest account (anonymous or ftp), so anyone who can reach it can log in.',
  mitigation: 'Unless the server is meant to be a public archive, disable anonymous access and allow only known accounts.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      if (!s.anonymous || s.login !== 'success' || !s.loginReply) continue;
      out.push({
        frames: capFrames([s.userFrame ?? s.loginReply.frame, s.loginReply.frame]),
        firstTs: tsOfFrame(s, s.userFrame ?? s.loginReply.frame),
        subject: subject(s),
        details: { client: s.client, server: s.server, serverPort: s.serverPort, user: s.user, userFrame: s.userFrame,
          loginReply: { code: s.loginReply.code, frame: s.loginReply.frame, text: s.loginReply.text.split('\n').pop() } },
        explanation: `In ${sessionName(s)}, the client ${endpoint(s.client, s.clientPort)} logged in as ${JSON.stringify(s.user)} (frame ${s.userFrame}) and the server ${s.server} accepted it with ${s.loginReply.code} in frame ${s.loginReply.frame}: it grants guest access to anyone.`,
      });
    }
    return out;
  },
};
