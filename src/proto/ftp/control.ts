/**
 * FTP control-channel text: Telnet-aware line splitting (one splitter per direction),
 * command parsing and multi-line reply assembly. All state lives in the explicit
 * `LineSplitter` / `ReplyAssembler` objects the caller owns; nothing here throws on input.
 */
import { commandInfo } from './commands.js';

/** Longest line kept; anything beyond is cut so one endless line cannot grow memory. */
export const MAX_LINE_BYTES = 8192;
/** Text kept per multi-line reply; a reply whose end line never comes stays bounded too. */
export const MAX_REPLY_BYTES = 65536;

export interface FtpLine {
  /** Decoded as UTF-8 with U+FFFD for invalid bytes; no CR/LF, Telnet commands removed. */
  text: string;
  /** Offset in this direction's byte stream of the line's first byte (before Telnet stripping). */
  offset: number;
  /** Stream offset just past the LF, or past the last byte kept for a cut/unterminated line. */
  end: number;
  /** Linux's helper wants PORT/EPRT numbers followed directly by CR, so the ending is kept. */
  eol: 'CRLF' | 'LF' | 'none';
  /** The line exceeded MAX_LINE_BYTES; bytes up to the next LF were dropped. */
  truncated: boolean;
  /** Telnet commands (e.g. IAC IP / IAC DM before ABOR) were stripped from this line. */
  telnet: boolean;
}

const IAC = 0xff;
const SB = 250;
const SE = 240;
const WILL = 251;
const DONT = 254;
const LF = 0x0a;
const CR = 0x0d;

/** Telnet parser states (RFC 854): plain data, after IAC, after WILL/WONT/DO/DONT, inside SB. */
const Telnet = { Data: 0, Iac: 1, Option: 2, Sub: 3, SubIac: 4 } as const;
type TelnetState = (typeof Telnet)[keyof typeof Telnet];

export interface LineSplitter {
  /** Raw bytes consumed so far in this direction. */
  consumed: number;
  lineStart: number;
  buf: Buffer;
  len: number;
  telnetState: TelnetState;
  sawTelnet: boolean;
  /** After a cut line: drop bytes until the next LF. */
  discarding: boolean;
}

const EMPTY = Buffer.alloc(0);

export function newLineSplitter(): LineSplitter {
  // The line buffer starts small and grows to MAX_LINE_BYTES + 1 (one spare byte so a line of
  // exactly MAX_LINE_BYTES can still hold its CR) only for long lines: thousands of sessions,
  // each with four splitters, must not cost 8 KiB apiece.
  return { consumed: 0, lineStart: 0, buf: EMPTY, len: 0,
    telnetState: Telnet.Data, sawTelnet: false, discarding: false };
}

function finishLine(s: LineSplitter, end: number, eol: FtpLine['eol'], truncated: boolean): FtpLine {
  let n = s.len;
  if (eol === 'LF' && n > 0 && s.buf[n - 1] === CR) { n--; eol = 'CRLF'; }
  const line: FtpLine = { text: s.buf.toString('utf8', 0, n), offset: s.lineStart, end, eol, truncated,
    telnet: s.sawTelnet };
  s.len = 0;
  s.sawTelnet = false;
  return line;
}

function pushData(s: LineSplitter, byte: number, at: number, out: FtpLine[]): void {
  if (s.discarding) return;
  if (s.len < MAX_LINE_BYTES || (s.len === MAX_LINE_BYTES && byte === CR)) {
    if (s.len === s.buf.length) {
      // Memory of its own (not the shared pool: see ownedCopy); the splitter lives as long as the session.
      const grown = Buffer.allocUnsafeSlow(Math.min(MAX_LINE_BYTES + 1, Math.max(128, s.buf.length * 2)));
      s.buf.copy(grown, 0, 0, s.len);
      s.buf = grown;
    }
    s.buf[s.len++] = byte;
    return;
  }
  // Cut now rather than at the LF, so a stream that never sends LF (binary junk, TLS
  // after AUTH TLS) still yields something and never grows.
  if (s.len > MAX_LINE_BYTES) s.len = MAX_LINE_BYTES;
  out.push(finishLine(s, at, 'none', true));
  s.discarding = true;
}

function endOfLine(s: LineSplitter, at: number, out: FtpLine[]): void {
  if (s.discarding) {
    s.discarding = false;
    s.len = 0;
    s.sawTelnet = false;
  } else {
    out.push(finishLine(s, at + 1, 'LF', false));
  }
  s.lineStart = at + 1;
}

/**
 * Feed the next chunk of one direction's reassembled stream; returns the lines it completed.
 * Lines end at LF (CRLF or bare LF, RFC 959 wants CRLF but bare LF is common).
 * Telnet (RFC 854) is undone first: IAC IAC is a data 0xFF; IAC WILL/WONT/DO/DONT x and
 * two-byte commands (IP, DM, NOP, ...) vanish; IAC SB ... IAC SE vanishes. EC/EL editing is
 * not applied (no FTP client relies on it).
 */
export function splitLines(s: LineSplitter, chunk: Buffer): FtpLine[] {
  const out: FtpLine[] = [];
  const base = s.consumed;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    const at = base + i;
    switch (s.telnetState) {
      case Telnet.Data:
        if (b === LF) endOfLine(s, at, out);
        else if (b === IAC) s.telnetState = Telnet.Iac;
        else pushData(s, b, at, out);
        break;
      case Telnet.Iac:
        s.telnetState = Telnet.Data;
        if (b === IAC) { pushData(s, IAC, at, out); break; }
        if (b >= SE) s.sawTelnet = true;
        if (b >= WILL && b <= DONT) s.telnetState = Telnet.Option;
        else if (b === SB) s.telnetState = Telnet.Sub;
        else if (b < SE) {
          // Not a Telnet command: most likely an unescaped latin-1 'ÿ' in a file name,
          // so both bytes are kept as data.
          pushData(s, IAC, at - 1, out);
          if (b === LF) endOfLine(s, at, out);
          else pushData(s, b, at, out);
        }
        break;
      case Telnet.Option:
        s.telnetState = Telnet.Data;
        break;
      case Telnet.Sub:
      case Telnet.SubIac:
        // FTP never negotiates subnegotiations, so an LF ends one: a stray 0xFF 0xFA in a
        // latin-1 file name must not swallow the rest of the session.
        if (b === LF) { s.telnetState = Telnet.Data; endOfLine(s, at, out); }
        else if (s.telnetState === Telnet.SubIac && b === SE) s.telnetState = Telnet.Data;
        else s.telnetState = b === IAC && s.telnetState === Telnet.Sub ? Telnet.SubIac : Telnet.Sub;
        break;
    }
  }
  s.consumed += chunk.length;
  return out;
}

/** The stream ended (FIN/RST or end of capture): hand out an unterminated last line, if any. */
export function endLines(s: LineSplitter): FtpLine | null {
  const keep = !s.discarding && s.len > 0;
  const line = keep ? finishLine(s, s.consumed, 'none', false) : null;
  s.len = 0;
  s.discarding = false;
  s.lineStart = s.consumed;
  return line;
}

// ---------------------------------------------------------------------------------------
// Commands

export interface FtpCommand {
  kind: 'command';
  /** Upper-cased: commands are case-insensitive (RFC 959 §5.3). */
  verb: string;
  /** Everything after the single SP that ends the verb; null when nothing follows. */
  arg: string | null;
  known: boolean;
}

export interface MalformedLine {
  kind: 'malformed';
  /** Character index within the line where parsing failed. */
  offset: number;
  reason: string;
}

/**
 * Exactly one SP separates verb and argument; further spaces belong to the argument
 * (RFC 2640 §3.1: path names may begin with spaces). Verbs are letters only.
 */
export function parseCommand(line: string): FtpCommand | MalformedLine {
  const sp = line.indexOf(' ');
  const verb = sp < 0 ? line : line.slice(0, sp);
  if (verb.length === 0) {
    return { kind: 'malformed', offset: 0, reason: line.length === 0 ? 'empty command line' : 'line starts with a space' };
  }
  for (let i = 0; i < verb.length; i++) {
    const c = verb.charCodeAt(i) | 0x20;
    if (c < 0x61 || c > 0x7a) return { kind: 'malformed', offset: i, reason: 'command verb contains a non-letter' };
  }
  const rest = sp < 0 ? '' : line.slice(sp + 1);
  const upper = verb.toUpperCase();
  // A known verb is the vocabulary's own string: sessions keep thousands of commands, one copy each.
  const info = commandInfo(upper);
  return { kind: 'command', verb: info ? info.verb : upper, arg: rest === '' ? null : rest, known: info !== undefined };
}

/**
 * PASS carries the password in clear; output shows it only when explicitly unmasked.
 * The masking policy belongs to output code; this is the one place that knows which argument.
 */
export function maskedArg(verb: string, arg: string | null, unmasked = false): string | null {
  if (arg === null || unmasked) return arg;
  return verb.toUpperCase() === 'PASS' ? '****' : arg;
}

// ---------------------------------------------------------------------------------------
// Replies

export interface FtpReply {
  kind: 'reply';
  code: number;
  /** The raw lines, code prefixes included. */
  lines: string[];
  /**
   * Reply text without the code: the first line after `xyz-`/`xyz `, continuation lines as
   * sent except a leading `xyz-` of the same code (many servers prefix every line), joined by LF.
   */
  text: string;
  multiline: boolean;
  /** Stream offset of the first line; `endOffset` is just past the last line. */
  startOffset: number;
  endOffset: number;
  /** Three digits followed by neither SP, `-` nor end of line (e.g. `230_no_space`). */
  missingSpace: boolean;
  /** More than MAX_REPLY_BYTES of continuation text; the rest was dropped. */
  truncated: boolean;
}

export interface MalformedReply {
  kind: 'malformed';
  /** Stream offset of the offending line. */
  offset: number;
  reason: string;
  line: string;
}

interface PendingReply {
  code: number;
  prefix: string;
  lines: string[];
  texts: string[];
  bytes: number;
  startOffset: number;
  truncated: boolean;
}

export interface ReplyAssembler {
  pending: PendingReply | null;
}

export function newReplyAssembler(): ReplyAssembler {
  return { pending: null };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hasCode(text: string): boolean {
  return text.length >= 3 && isDigit(text.charCodeAt(0)) && isDigit(text.charCodeAt(1)) && isDigit(text.charCodeAt(2));
}

/**
 * Feed one server→client line; returns a reply when one completes, a malformed result for a
 * line that cannot start a reply, or null while a multi-line reply is still open.
 *
 * First line (as Wireshark): three digits, then `-` opens a multi-line reply; SP, end of line
 * or any other character ends it at once (`230_no_space` is reply 230 with text `no_space`,
 * as tshark shows it). Rejected: fewer than three digits, a fourth digit, a first digit outside
 * 1–6 (RFC 959 classes plus RFC 2228's 6yz).
 * Inside a multi-line reply (RFC 959 §4.2, as Zeek): only the same code followed by SP or end
 * of line ends it; every other line, other codes included, is continuation text.
 */
export function assembleReply(a: ReplyAssembler, line: FtpLine): FtpReply | MalformedReply | null {
  const t = line.text;
  const p = a.pending;
  if (p) {
    if (t.startsWith(p.prefix) && (t.length === 3 || t.charCodeAt(3) === 0x20)) {
      a.pending = null;
      p.lines.push(t);
      p.texts.push(t.slice(4));
      return { kind: 'reply', code: p.code, lines: p.lines, text: p.texts.join('\n'), multiline: true,
        startOffset: p.startOffset, endOffset: line.end, missingSpace: false, truncated: p.truncated };
    }
    if (!p.truncated) {
      p.bytes += t.length;
      if (p.bytes > MAX_REPLY_BYTES) p.truncated = true;
      else {
        p.lines.push(t);
        p.texts.push(t.startsWith(p.prefix + '-') ? t.slice(4) : t);
      }
    }
    return null;
  }
  const bad = (reason: string): MalformedReply => ({ kind: 'malformed', offset: line.offset, reason, line: t });
  if (!hasCode(t)) return bad(t.length === 0 ? 'empty reply line' : 'reply does not start with a three-digit code');
  const first = t.charCodeAt(0);
  if (first < 0x31 || first > 0x36) return bad('reply code class must be 1-6');
  const sep = t.length > 3 ? t.charCodeAt(3) : -1;
  if (isDigit(sep)) return bad('reply code has more than three digits');
  const code = Number(t.slice(0, 3));
  if (sep === 0x2d) {
    a.pending = { code, prefix: t.slice(0, 3), lines: [t], texts: [t.slice(4)], bytes: t.length,
      startOffset: line.offset, truncated: false };
    return null;
  }
  return { kind: 'reply', code, lines: [t], text: t.slice(4), multiline: false, startOffset: line.offset,
    endOffset: line.end, missingSpace: sep !== -1 && sep !== 0x20, truncated: false };
}

/** The stream ended: a multi-line reply still open is reported, never silently dropped. */
export function endReplies(a: ReplyAssembler): MalformedReply | null {
  const p = a.pending;
  a.pending = null;
  if (!p) return null;
  return { kind: 'malformed', offset: p.startOffset, reason: `multi-line ${p.code} reply never terminated`,
    line: p.lines[0] };
}
