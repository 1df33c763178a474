import { tshark } from '../tshark.js';

/**
 * The shape of each FTP control session in a capture, as tshark sees it: the command verbs
 * and reply codes in wire order, one list per control connection (ordered by tcp.stream,
 * i.e. by first appearance). Addresses, ports and texts are left out on purpose: they change
 * from one recording to the next, the dialogue does not.
 */
export type Dialogue = string[][];

export interface ControlChannel {
  /** 21, or 990 for implicit FTPS. */
  port: number;
  /** TLS on the control connection: decrypt with the key log. */
  tls: boolean;
  keylog: string | null;
}

export function dialogue(pcap: string, ch: ControlChannel): Dialogue {
  return ch.tls ? tlsDialogue(pcap, ch) : plainDialogue(pcap);
}

function plainDialogue(pcap: string): Dialogue {
  const out = tshark(['-r', pcap, '-Y', 'ftp', '-T', 'fields', '-e', 'tcp.stream', '-e', 'ftp.request.command', '-e', 'ftp.response.code']);
  const sessions = new Map<number, string[]>();
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const [stream, commands, codes] = line.split('\t');
    const tokens = sessions.get(Number(stream)) ?? [];
    for (const c of (commands ?? '').split(',').filter(Boolean)) tokens.push(c.toUpperCase());
    for (const c of (codes ?? '').split(',').filter(Boolean)) tokens.push(c);
    sessions.set(Number(stream), tokens);
  }
  return [...sessions.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
}

/**
 * tshark hands a control connection to TLS only after exactly `AUTH TLS` + 234, and curl
 * sends `AUTH SSL` first (vsftpd accepts it), so tshark never decrypts curl's explicit FTPS by
 * itself. Decode the control port as TLS from the start instead: the clear-text lines before
 * the handshake come out as plain data, the rest decrypted through the key log; the FTP lines
 * are then split here (tshark 4.0 cannot hand TLS payload to its FTP dissector).
 */
export function decryptedControlArgs(ch: ControlChannel): string[] {
  return [
    ...(ch.keylog ? ['-o', `tls.keylog_file:${ch.keylog}`] : []),
    '-d', `tcp.port==${ch.port},tls`, '-d', `tls.port==${ch.port},data`,
  ];
}

/** Control lines per session: [stream, fromServer, line, frame]. */
export interface ControlLine {
  stream: number;
  fromServer: boolean;
  line: string;
  frame: number;
}

export function decryptedControlLines(pcap: string, ch: ControlChannel): ControlLine[] {
  const out = tshark(['-r', pcap, ...decryptedControlArgs(ch), '-Y', `data && tcp.port==${ch.port}`,
    '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'tcp.srcport', '-e', 'data.data']);
  const pending = new Map<string, string>();
  const lines: ControlLine[] = [];
  for (const row of out.split('\n')) {
    if (!row.trim()) continue;
    const [frame, stream, srcport, hex] = row.split('\t');
    const fromServer = Number(srcport) === ch.port;
    const key = `${stream}/${fromServer}`;
    let text = (pending.get(key) ?? '') + (hex ?? '').split(',').map((h) => Buffer.from(h, 'hex').toString('latin1')).join('');
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      lines.push({ stream: Number(stream), fromServer, line: text.slice(0, nl).replace(/\r$/, ''), frame: Number(frame) });
      text = text.slice(nl + 1);
    }
    pending.set(key, text);
  }
  return lines;
}

function tlsDialogue(pcap: string, ch: ControlChannel): Dialogue {
  const sessions = new Map<number, string[]>();
  for (const l of decryptedControlLines(pcap, ch)) {
    const tokens = sessions.get(l.stream) ?? [];
    if (l.fromServer) {
      // Only the last line of a multi-line reply ("xyz text") ends it.
      const m = /^(\d{3}) /.exec(l.line);
      if (m) tokens.push(m[1]);
    } else {
      const verb = l.line.split(' ')[0];
      if (verb) tokens.push(verb.toUpperCase());
    }
    sessions.set(l.stream, tokens);
  }
  return [...sessions.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
}

/** One line per session, for messages and expected.json. */
export function formatDialogue(d: Dialogue): string[] {
  return d.map((s) => s.join(' '));
}
