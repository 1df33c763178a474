/**
 * NSS key log files (SSLKEYLOGFILE; RFC 9850): `<LABEL> <client_random_hex> <secret_hex>` per
 * line, `#` comments, LF or CRLF. Also what a pcapng Decryption Secrets Block of type "TLSK"
 * carries. Entries are indexed by client random so a connection finds its secrets from its
 * ClientHello.
 */

export const KEYLOG_LABELS = {
  CLIENT_RANDOM: 'CLIENT_RANDOM',
  RSA: 'RSA',
  CLIENT_EARLY_TRAFFIC_SECRET: 'CLIENT_EARLY_TRAFFIC_SECRET',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  CLIENT_TRAFFIC_SECRET_0: 'CLIENT_TRAFFIC_SECRET_0',
  SERVER_TRAFFIC_SECRET_0: 'SERVER_TRAFFIC_SECRET_0',
  EARLY_EXPORTER_SECRET: 'EARLY_EXPORTER_SECRET',
  EXPORTER_SECRET: 'EXPORTER_SECRET',
} as const;

export interface KeyLogProblem {
  /** 1-based line number. */
  line: number;
  reason: string;
  text: string;
}

/** Secrets known for one client random, by label (values are raw bytes). */
export type ClientSecrets = Map<string, Buffer>;

export interface KeyLog {
  /** Lowercase hex client random → label → secret. */
  byClientRandom: Map<string, ClientSecrets>;
  /** RSA entries: lowercase hex of the first 8 bytes of the encrypted pre-master → pre-master. */
  rsaPreMaster: Map<string, Buffer>;
  /** Number of lines that produced an entry. */
  entries: number;
  problems: KeyLogProblem[];
}

export function emptyKeyLog(): KeyLog {
  return { byClientRandom: new Map(), rsaPreMaster: new Map(), entries: 0, problems: [] };
}

const HEX = /^[0-9a-fA-F]*$/;
const TLS13_LABELS = new Set<string>([
  KEYLOG_LABELS.CLIENT_EARLY_TRAFFIC_SECRET, KEYLOG_LABELS.CLIENT_HANDSHAKE_TRAFFIC_SECRET,
  KEYLOG_LABELS.SERVER_HANDSHAKE_TRAFFIC_SECRET, KEYLOG_LABELS.CLIENT_TRAFFIC_SECRET_0,
  KEYLOG_LABELS.SERVER_TRAFFIC_SECRET_0, KEYLOG_LABELS.EARLY_EXPORTER_SECRET, KEYLOG_LABELS.EXPORTER_SECRET,
]);

/**
 * Parses key log text into `into` (a fresh log by default), so several files and DSBs can
 * be merged. Unknown labels (e.g. ECH ones) are kept; lines that do not parse are reported.
 */
export function parseKeyLog(text: string, into: KeyLog = emptyKeyLog()): KeyLog {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const reason = addLine(into, line);
    if (reason) into.problems.push({ line: i + 1, reason, text: raw.length > 200 ? `${raw.slice(0, 200)}…` : raw });
  }
  return into;
}

function addLine(log: KeyLog, line: string): string | undefined {
  const fields = line.split(/\s+/);
  if (fields.length !== 3) return `expected 3 fields, found ${fields.length}`;
  const [label, id, secretHex] = fields;
  if (!HEX.test(id) || !HEX.test(secretHex) || id.length % 2 || secretHex.length % 2) return 'not hex';
  const secret = Buffer.from(secretHex, 'hex');
  if (label === KEYLOG_LABELS.RSA) {
    if (id.length !== 16) return `RSA entry needs 8 bytes of encrypted pre-master, found ${id.length / 2}`;
    if (secret.length !== 48) return `RSA pre-master of ${secret.length} bytes (expected 48)`;
    log.rsaPreMaster.set(id.toLowerCase(), secret);
    log.entries++;
    return undefined;
  }
  if (id.length !== 64) return `client random of ${id.length / 2} bytes (expected 32)`;
  if (label === KEYLOG_LABELS.CLIENT_RANDOM && secret.length !== 48) {
    return `master secret of ${secret.length} bytes (expected 48)`;
  }
  if (TLS13_LABELS.has(label) && secret.length !== 32 && secret.length !== 48) {
    return `${label} of ${secret.length} bytes (expected 32 or 48)`;
  }
  if (!/^[A-Z0-9_]+$/.test(label)) return `unknown label ${label}`;
  const key = id.toLowerCase();
  let secrets = log.byClientRandom.get(key);
  if (!secrets) log.byClientRandom.set(key, (secrets = new Map()));
  secrets.set(label, secret);
  log.entries++;
  return undefined;
}

export function secretsFor(log: KeyLog, clientRandom: Buffer): ClientSecrets | undefined {
  return log.byClientRandom.get(clientRandom.toString('hex'));
}

/** TLS ≤ 1.2 master secret logged for this client random (CLIENT_RANDOM label). */
export function masterSecretFor(log: KeyLog, clientRandom: Buffer): Buffer | undefined {
  return secretsFor(log, clientRandom)?.get(KEYLOG_LABELS.CLIENT_RANDOM);
}
