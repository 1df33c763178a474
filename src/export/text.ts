/**
 * Text hygiene for exports. Everything that came out of a packet (FTP lines, reply texts, host
 * names in heartbeats, SNI) is untrusted: control characters could rewrite a terminal, break a
 * CSV row or make XML ill-formed (XML 1.0 forbids most C0 characters even as references), and
 * markup characters could turn a report into something else. Each output format goes through
 * exactly one of these functions.
 */

/** C0/C1 controls (tab, LF, CR kept apart), DEL, and the XML-illegal noncharacters U+FFFE/U+FFFF. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]/g;
/** Lone UTF-16 surrogates (a decoder fed bytes that were not text). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function hex(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** Visible `\xNN` for control characters; `oneLine` also folds tabs and line breaks into spaces. */
export function printable(s: string, oneLine = true): string {
  let out = s.replace(CONTROL, hex).replace(LONE_SURROGATE, '\ufffd');
  if (oneLine) out = out.replace(/[\t\r\n]+/g, ' ');
  return out;
}

/** For XML/HTML text and attribute values alike. */
export function xml(s: string | number | null | undefined, oneLine = true): string {
  if (s === null || s === undefined) return '';
  return printable(String(s), oneLine)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * Markdown inline text: characters that start emphasis, code, links or GFM table cells are
 * backslash-escaped, block syntax at the start is neutralised, and <, >, & become entities so
 * raw HTML in a packet never reaches a renderer that passes HTML through. Dots and dashes in
 * the middle of addresses stay readable.
 */
export function md(s: string | number | null | undefined): string {
  if (s === null || s === undefined) return '';
  return printable(String(s))
    .replace(/[\\`*_[\]|~]/g, '\\$&')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/^(\s*)([#+=-])/, '$1\\$2').replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/** A fenced code block that no backtick run inside `body` can close early. */
export function mdFence(body: string, info = 'text'): string {
  const clean = body.split('\n').map((l) => printable(l)).join('\n');
  const longest = Math.max(0, ...[...clean.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${clean}\n${fence}`;
}

/**
 * A text cell a spreadsheet would run as a formula (OWASP "CSV injection": = + - @, or a tab or
 * carriage return first) gets a leading apostrophe, which spreadsheets show as text. Packet
 * strings (FTP commands, file names, SNI) are attacker-controlled and land in these cells.
 * A lone "-" (the placeholder of empty l2tcsv cells) is no formula and stays.
 */
export function defuseFormula(s: string): string {
  return s.length > 1 && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** RFC 4180 field: quoted when it holds a comma, a quote or a line break; quotes doubled; text never a formula. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? defuseFormula(printable(v, false)) : printable(String(v), false);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(fields: Array<string | number | boolean | null | undefined>): string {
  return fields.map(csvField).join(',') + '\r\n';
}

/** Shortens for one-line labels, with an ellipsis. */
export function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** `ip:port`, with brackets for IPv6 (RFC 5952 §6). */
export function endpoint(ip: string | null | undefined, port: number | null | undefined): string {
  const host = ip ?? '?';
  if (port === null || port === undefined) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An inline code span: backslashes mean nothing inside one, so backticks are replaced instead. */
export function mdCode(s: string): string {
  return `\`${printable(s).replace(/`/g, "'")}\``;
}
