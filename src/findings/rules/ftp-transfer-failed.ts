import type { FtpTransferFact } from '../../proto/ftp/facts.js';
import { replyDescription } from '../../proto/ftp/commands.js';
import type { Rule } from '../types.js';
import { capFrames, MAX_ITEMS, sessionName, sessions, subject } from './ftp-evidence.js';

/** What to do about each failing reply code (RFC 959 §4.2 meanings; 522 as vsftpd uses it for data-channel TLS). */
function advice(code: number): string {
  switch (code) {
    case 425: return 'The server could not open or accept the data connection: check the announced address and port and every firewall/NAT on the data path (see the data-channel findings for this session).';
    case 426: return 'The data connection broke during the transfer: look for resets or idle timeouts on the data connection (firewalls, load balancers) and for TLS failures on it.';
    case 450: case 550: return 'The file or directory was unavailable: check that the path exists and that the account may read or write it (FileZilla Server also answers 450 when the data connection\'s TLS session was not resumed).';
    case 451: return 'The server hit a local error while processing: check its logs and its disk.';
    case 452: case 552: return 'The server ran out of storage or quota: free space or raise the quota.';
    case 522: return 'The server refused the data connection\'s protocol: with FTPS, vsftpd answers 522 when the data connection\'s TLS handshake fails or does not reuse the control session; enable TLS session reuse in the client or check PROT settings.';
    case 530: case 532: return 'The account is not logged in or lacks permission for this: log in first or grant the right.';
    case 534: case 533: return 'The server\'s policy refused it (often: TLS required): use FTPS with PROT P.';
    case 553: return 'The server does not allow that file name: rename it.';
    case 500: case 501: case 502: case 504: return 'The server did not accept the command or its arguments: check client/server compatibility (e.g. MLSD support).';
    default: return 'Act on the server\'s reply text.';
  }
}

/** A transfer or listing (RETR, STOR, STOU, APPE, LIST, NLST, MLSD) answered 4xx/5xx; one finding per session and code. */
export const FTP_TRANSFER_FAILED: Rule = {
  code: 'FTP_TRANSFER_FAILED',
  severity: 'medium',
  title: 'FTP transfer or listing failed',
  explanation: 'A file transfer or directory listing got a negative reply (4xx transient, 5xx permanent) from the server.',
  mitigation: 'Act on the reply code and text: 425/426 point at the data connection, 450/550 at the file or permissions, 451/452/552 at the server, 522 at TLS on the data channel.',
  evaluate(facts) {
    const out = [];
    for (const s of sessions(facts)) {
      const byCode = new Map<number, FtpTransferFact[]>();
      for (const t of s.transfers) {
        if (t.result !== 'failed' || !t.final) continue;
        const list = byCode.get(t.final.code);
        if (list) list.push(t);
        else byCode.set(t.final.code, [t]);
      }
      for (const [code, list] of byCode) {
        const t = list[0];
        const f = t.final!;
        const name = t.name === null ? '' : ` ${JSON.stringify(t.name)}`;
        out.push({
          frames: capFrames(list.flatMap((x) => [x.frame, x.final!.frame])),
          firstTs: t.ts,
          subject: subject(s),
          title: `FTP ${t.verb} failed with ${code} (${replyDescription(code)})`,
          mitigation: advice(code),
          details: { client: s.client, server: s.server, code, meaning: replyDescription(code), count: list.length,
            transfers: list.slice(0, MAX_ITEMS).map((x) => ({ command: x.verb, name: x.name, frame: x.frame, channel: x.channel,
              reply: { code: x.final!.code, text: x.final!.text, frame: x.final!.frame }, preliminary: x.preliminary?.code ?? null })) },
          explanation: `In ${sessionName(s)}, ${t.verb}${name} (frame ${t.frame}) was answered ${code} "${f.text.split('\n')[0].slice(0, 100)}" in frame ${f.frame} (${replyDescription(code)}).${list.length > 1 ? ` ${list.length} transfers in this session failed with ${code}.` : ''}`,
        });
      }
    }
    return out;
  },
};
