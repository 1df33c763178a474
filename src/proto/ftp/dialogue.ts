/**
 * Telling FTP from look-alikes on ports other than 21/990. A 220 greeting is not enough: SMTP
 * (RFC 5321 §4.2) and LMTP greet with 220 too. The client's first commands decide: verbs only
 * FTP has confirm it, verbs of the mail protocols (or unknown verbs) rule it out, and the few
 * both share (NOOP, HELP, QUIT, AUTH with a SASL mechanism) leave it open.
 */
import type { FtpCommand } from './control.js';

export type DialogueVerdict = 'ftp' | 'not-ftp' | 'undecided';

const MAIL_ONLY = new Set(['HELO', 'EHLO', 'LHLO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'VRFY', 'EXPN', 'STARTTLS',
  'BDAT', 'ETRN', 'TURN', 'ATRN', 'SEND', 'SOML', 'SAML']);
const SHARED = new Set(['NOOP', 'HELP', 'QUIT']);
/** RFC 4217 §4 and the pre-RFC drafts' AUTH arguments; SMTP AUTH takes SASL names instead. */
const FTP_AUTH = new Set(['TLS', 'SSL', 'TLS-C', 'TLS-P']);

export function dialogueVerdict(cmd: FtpCommand): DialogueVerdict {
  if (MAIL_ONLY.has(cmd.verb)) return 'not-ftp';
  if (SHARED.has(cmd.verb)) return 'undecided';
  if (cmd.verb === 'AUTH') return FTP_AUTH.has((cmd.arg ?? '').trim().toUpperCase()) ? 'ftp' : 'undecided';
  return cmd.known ? 'ftp' : 'not-ftp';
}

/** A responder's first payload that opens like an FTP greeting: "220 " or "220-" (RFC 959 §4.2). */
export function looksLikeGreeting(payload: Buffer): boolean {
  return payload.length >= 4 && payload[0] === 0x32 && payload[1] === 0x32 && payload[2] === 0x30
    && (payload[3] === 0x20 || payload[3] === 0x2d);
}
