/**
 * Data-channel announcements: where PORT/EPRT/LPRT (client) and 227/228/229 replies (server)
 * say the data connection should go. Pure string functions; bad input is a typed result.
 */
import { isIP } from 'node:net';

export type AnnouncementKind = 'PASV' | 'EPSV' | 'PORT' | 'EPRT' | 'LPRT' | 'LPSV';

export interface Announcement {
  kind: AnnouncementKind;
  /** null for EPSV: the data connection goes to the control connection's address (RFC 2428 §3). */
  ip: string | null;
  port: number;
  family: 4 | 6 | null;
  /** How the port was computed, for explanations (e.g. "p1*256+p2 = 4*256+51 = 1075"). */
  arithmetic: string;
  /** The raw numbers of PORT/227/LPRT/228 forms. */
  numbers?: number[];
}

export interface MalformedAnnouncement {
  kind: 'malformed';
  announcement: AnnouncementKind;
  /** Character index in the argument / reply text where parsing failed. */
  offset: number;
  reason: string;
}

export type AnnouncementResult = Announcement | MalformedAnnouncement;

function malformed(announcement: AnnouncementKind, offset: number, reason: string): MalformedAnnouncement {
  return { kind: 'malformed', announcement, offset, reason };
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

interface NumberList {
  values: number[];
  /** Start index of each value in the text. */
  starts: number[];
  end: number;
}

/**
 * Greedy `n,n,...` from a digit at `i`; spaces after a comma are tolerated. A minus sign is
 * read too (servers that print bytes as signed chars send "-64"), only to be rejected with a
 * precise reason later.
 */
function readNumberList(s: string, i: number): NumberList {
  const values: number[] = [];
  const starts: number[] = [];
  let end = i;
  for (;;) {
    const start = s[i - 1] === '-' ? i - 1 : i;
    while (isDigitAt(s, i)) i++;
    // Number() of a long run is imprecise but still far above 255, which is all that matters.
    values.push(Number(s.slice(start, i)));
    starts.push(start);
    end = i;
    if (s[i] !== ',') break;
    let j = i + 1;
    while (s[j] === ' ' || s[j] === '\t') j++;
    if (s[j] === '-') j++;
    if (!isDigitAt(s, j)) break;
    i = j;
  }
  return { values, starts, end };
}

/**
 * RFC 1123 §4.1.2.6: the client must scan for the first digit, not rely on "(".
 * Like Wireshark, a run of digits that does not start a long enough list (a version number,
 * "v2") is skipped and the scan resumes after it.
 */
function scanForList(s: string, need: number): NumberList | null {
  let i = 0;
  while (i < s.length) {
    if (!isDigitAt(s, i)) { i++; continue; }
    const list = readNumberList(s, i);
    if (list.values.length >= need) return list;
    while (isDigitAt(s, i)) i++;
  }
  return null;
}

/**
 * RFC 959 fields are bytes, 0–255; anything else is rejected with the field named, as Zeek
 * rejects it. tshark 4.0.17 accepts it instead (checked by test/unit/ftp/tshark-crosscheck):
 * it masks port bytes with & 0xff (so -1 becomes 255) but ORs the shifted address bytes,
 * so an excess spills into the neighbouring byte (198,51,100,300 shows as 198.51.101.44).
 */
function checkBytes(kind: AnnouncementKind, list: NumberList, count: number, names: (k: number) => string): MalformedAnnouncement | null {
  for (let k = 0; k < count; k++) {
    const v = list.values[k];
    if (v < 0) return malformed(kind, list.starts[k], `${names(k)} = ${v} is negative`);
    if (v > 255) return malformed(kind, list.starts[k], `${names(k)} = ${v} is above 255`);
  }
  return null;
}

const sixNames = (k: number): string => (k < 4 ? `h${k + 1}` : `p${k - 3}`);

function fromSix(kind: 'PASV' | 'PORT', list: NumberList): AnnouncementResult {
  const bad = checkBytes(kind, list, 6, sixNames);
  if (bad) return bad;
  const n = list.values.slice(0, 6);
  const port = n[4] * 256 + n[5];
  // Port 0 cannot be connected to; tshark shows it as 0.
  if (port === 0) return malformed(kind, list.starts[4], 'announced port is 0');
  return { kind, ip: n.slice(0, 4).join('.'), port, family: 4,
    arithmetic: `p1*256+p2 = ${n[4]}*256+${n[5]} = ${port}`, numbers: n };
}

/** 227 reply text (after the code): the first six comma-separated numbers after the first digit. */
export function parsePasvReply(text: string): AnnouncementResult {
  const list = scanForList(text, 6);
  if (!list) return malformed('PASV', 0, 'no six comma-separated numbers in the 227 text');
  return fromSix('PASV', list);
}

/** PORT argument: exactly `h1,h2,h3,h4,p1,p2`; trailing text is refused, as strict servers answer 501. */
export function parsePort(arg: string): AnnouncementResult {
  let i = 0;
  while (arg[i] === ' ') i++;
  if (!isDigitAt(arg, i)) return malformed('PORT', i, 'PORT argument does not start with a number');
  const list = readNumberList(arg, i);
  if (list.values.length !== 6) {
    return malformed('PORT', i, `PORT needs six comma-separated numbers, found ${list.values.length}`);
  }
  if (arg.slice(list.end).trim() !== '') return malformed('PORT', list.end, 'unexpected text after the six numbers');
  return fromSix('PORT', list);
}

// ---------------------------------------------------------------------------------------
// RFC 2428

/** RFC 2428 §2: any ASCII 33–126; digits excluded as Linux does, since they would be ambiguous. */
function isDelimiter(c: string | undefined): boolean {
  if (c === undefined) return false;
  const code = c.charCodeAt(0);
  return code >= 33 && code <= 126 && !(code >= 0x30 && code <= 0x39);
}

function decimalPort(kind: AnnouncementKind, field: string, at: number): number | MalformedAnnouncement {
  if (!/^[0-9]{1,5}$/.test(field)) return malformed(kind, at, `port field "${field}" is not a decimal number`);
  const port = Number(field);
  if (port < 1 || port > 65535) return malformed(kind, at, `port ${port} is outside 1-65535`);
  return port;
}

/** The `<d><d><d><port><d>` field starting at `start` of a 229 text. */
function epsvField(text: string, start: number): AnnouncementResult {
  const d = text[start];
  if (!isDelimiter(d)) return malformed('EPSV', start, 'delimiter must be ASCII 33-126 and not a digit');
  if (text[start + 1] !== d || text[start + 2] !== d) {
    return malformed('EPSV', start, 'the first three delimiters must be identical (empty protocol and address fields)');
  }
  const from = start + 3;
  const close = text.indexOf(d, from);
  if (close < 0) return malformed('EPSV', from, 'port is not closed by the delimiter');
  const field = text.slice(from, close);
  const port = decimalPort('EPSV', field, from);
  if (typeof port !== 'number') return port;
  return { kind: 'EPSV', ip: null, port, family: null, arithmetic: `decimal port field "${field}" = ${port}` };
}

/**
 * 229 reply text: `(<d><d><d><port><d>)`; the first two fields must be empty (RFC 2428 §3).
 * Each "(" is tried in turn (a server may put other parentheses first); without a usable one,
 * the first run of three identical delimiters followed by a digit. The closing ")" is not
 * required. With no candidate at all, or none that parses, the first candidate's error is given.
 */
export function parseEpsvReply(text: string): AnnouncementResult {
  let firstError: MalformedAnnouncement | null = null;
  for (let open = text.indexOf('('); open >= 0; open = text.indexOf('(', open + 1)) {
    const r = epsvField(text, open + 1);
    if (r.kind !== 'malformed') return r;
    firstError ??= r;
  }
  for (let j = 0; j + 3 < text.length; j++) {
    const c = text[j];
    if (isDelimiter(c) && text[j + 1] === c && text[j + 2] === c && isDigitAt(text, j + 3)) {
      const r = epsvField(text, j);
      if (r.kind !== 'malformed') return r;
      firstError ??= r;
    }
  }
  return firstError ?? malformed('EPSV', 0, 'no "(|||port|)" field in the 229 text');
}

/** EPRT argument `<d>1<d>a.b.c.d<d>port<d>` or `<d>2<d>ipv6<d>port<d>` (RFC 2428 §2). */
export function parseEprt(arg: string): AnnouncementResult {
  const lead = arg.length - arg.trimStart().length;
  const body = arg.trim();
  const d = body[0];
  if (!isDelimiter(d)) return malformed('EPRT', lead, 'delimiter must be ASCII 33-126 and not a digit');
  const fields = body.split(d);
  if (fields.length !== 5 || fields[0] !== '' || fields[4] !== '') {
    return malformed('EPRT', lead, `EPRT needs exactly four "${d}" delimiters`);
  }
  const [, af, addr, portField] = fields;
  const afAt = lead + 1;
  const addrAt = afAt + af.length + 1;
  const portAt = addrAt + addr.length + 1;
  if (af !== '1' && af !== '2') {
    return malformed('EPRT', afAt, `network protocol "${af}" is not 1 (IPv4) or 2 (IPv6)`);
  }
  const family = af === '1' ? 4 : 6;
  if (addr.includes('%')) return malformed('EPRT', addrAt, 'address carries a zone index');
  const found = isIP(addr);
  if (found === 0) return malformed('EPRT', addrAt, `"${addr}" is not an IP address`);
  if (found !== family) {
    return malformed('EPRT', addrAt, `network protocol ${af} (IPv${family}) but the address is IPv${found}`);
  }
  const port = decimalPort('EPRT', portField, portAt);
  if (typeof port !== 'number') return port;
  const ip = family === 6 ? canonicalIpv6(addr) : addr;
  if (ip === null) return malformed('EPRT', addrAt, `"${addr}" is not an IPv6 address`);
  return { kind: 'EPRT', ip, port, family, arithmetic: `decimal port field "${portField}" = ${port}` };
}

// ---------------------------------------------------------------------------------------
// RFC 1639

function fromLong(kind: 'LPRT' | 'LPSV', list: NumberList): AnnouncementResult {
  const n = list.values;
  const [af, hal] = n;
  if (!((af === 4 && hal === 4) || (af === 6 && hal === 16))) {
    return malformed(kind, list.starts[0], `address family ${af} with ${hal ?? '?'} address bytes: expected 4,4 (IPv4) or 6,16 (IPv6)`);
  }
  const palAt = 2 + hal;
  if (n.length <= palAt) return malformed(kind, list.end, `${n.length} numbers: the port length is missing`);
  if (n[palAt] !== 2) return malformed(kind, list.starts[palAt], `port length ${n[palAt]}: expected 2`);
  if (n.length !== palAt + 3) return malformed(kind, list.starts[0], `expected ${palAt + 3} numbers, found ${n.length}`);
  const bad = checkBytes(kind, list, n.length, (k) => (k < 2 ? ['af', 'hal'][k] : k < palAt ? `h${k - 1}` : k === palAt ? 'pal' : `p${k - palAt}`));
  if (bad) return bad;
  const bytes = n.slice(2, palAt);
  const [p1, p2] = n.slice(palAt + 1);
  const port = p1 * 256 + p2;
  if (port === 0) return malformed(kind, list.starts[palAt + 1], 'announced port is 0');
  const ip = af === 4 ? bytes.join('.') : formatIpv6(bytesToWords(bytes));
  return { kind, ip, port, family: af === 4 ? 4 : 6, arithmetic: `p1*256+p2 = ${p1}*256+${p2} = ${port}`, numbers: n.slice() };
}

/** LPRT argument `af,hal,h1..hN,pal,p1,p2`: af 4 with hal 4, af 6 with hal 16; pal 2. */
export function parseLprt(arg: string): AnnouncementResult {
  let i = 0;
  while (arg[i] === ' ') i++;
  if (!isDigitAt(arg, i)) return malformed('LPRT', i, 'LPRT argument does not start with a number');
  const list = readNumberList(arg, i);
  if (arg.slice(list.end).trim() !== '') return malformed('LPRT', list.end, 'unexpected text after the numbers');
  return fromLong('LPRT', list);
}

/** 228 reply text: the LPRT numbers, found like 227's by scanning for the first digit. */
export function parseLpsvReply(text: string): AnnouncementResult {
  const list = scanForList(text, 2);
  if (!list) return malformed('LPSV', 0, 'no comma-separated numbers in the 228 text');
  return fromLong('LPSV', list);
}

// ---------------------------------------------------------------------------------------
// Dispatch

/** PORT/EPRT/LPRT carry an announcement; other commands give null. */
export function announcementFromCommand(verb: string, arg: string | null): AnnouncementResult | null {
  switch (verb.toUpperCase()) {
    case 'PORT': return parsePort(arg ?? '');
    case 'EPRT': return parseEprt(arg ?? '');
    case 'LPRT': return parseLprt(arg ?? '');
    default: return null;
  }
}

/** 227/228/229 carry an announcement; other replies give null. */
export function announcementFromReply(code: number, text: string): AnnouncementResult | null {
  switch (code) {
    case 227: return parsePasvReply(text);
    case 228: return parseLpsvReply(text);
    case 229: return parseEpsvReply(text);
    default: return null;
  }
}

// ---------------------------------------------------------------------------------------
// Addresses

function bytesToWords(bytes: number[]): number[] {
  const words: number[] = [];
  for (let k = 0; k < 16; k += 2) words.push(bytes[k] * 256 + bytes[k + 1]);
  return words;
}

/** The eight 16-bit words of a textual IPv6 address (embedded dotted IPv4 allowed), or null. */
function ipv6Words(addr: string): number[] | null {
  let text = addr.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (isIP(tail) !== 4) return null;
    const o = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${(o[0] * 256 + o[1]).toString(16)}:${(o[2] * 256 + o[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !rest) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const zeros = 8 - head.length - rest.length;
  if (zeros < 1) return null;
  return [...head, ...new Array<number>(zeros).fill(0), ...rest];
}

/**
 * RFC 5952 text: lower-case hex without leading zeros, the longest run (first on a tie) of
 * two or more zero words as "::", and IPv4-mapped addresses as ::ffff:a.b.c.d (§5).
 */
function formatIpv6(w: number[]): string {
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) {
    return `::ffff:${w[6] >> 8}.${w[6] & 0xff}.${w[7] >> 8}.${w[7] & 0xff}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let k = 0; k < 8;) {
    if (w[k] !== 0) { k++; continue; }
    let e = k;
    while (e < 8 && w[e] === 0) e++;
    if (e - k > bestLen) { bestAt = k; bestLen = e - k; }
    k = e;
  }
  const hex = w.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** Canonical (RFC 5952) form of an IPv6 address, as tshark prints `ftp.eprt.ipv6`; null if invalid. */
export function canonicalIpv6(addr: string): string | null {
  if (isIP(addr) !== 6 || addr.includes('%')) return null;
  const w = ipv6Words(addr);
  return w ? formatIpv6(w) : null;
}

function privateIpv4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)
    || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
}

/**
 * "Private" as FINDINGS.md defines it: IPv4 10/8, 172.16/12, 192.168/16, 100.64/10, 169.254/16;
 * IPv6 fc00::/7, fe80::/10. Loopback (127/8, ::1) counts too: an announcement of it is never
 * reachable by the peer either. IPv4-mapped IPv6 is judged by its IPv4 address. Everything
 * else, including unspecified (0.0.0.0, ::) and invalid text, is not private.
 */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return privateIpv4(ip);
  if (family !== 6) return false;
  const w = ipv6Words(ip.split('%')[0]);
  if (!w) return false;
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) {
    return privateIpv4(`${w[6] >> 8}.${w[6] & 0xff}.${w[7] >> 8}.${w[7] & 0xff}`);
  }
  if (w.slice(0, 7).every((x) => x === 0) && w[7] === 1) return true;
  return (w[0] & 0xfe00) === 0xfc00 || (w[0] & 0xffc0) === 0xfe80;
}
