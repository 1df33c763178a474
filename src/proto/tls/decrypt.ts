/**
 * Per-connection record decryption from a key log (FACTS §6).
 *
 * A TlsDecryptor is given every record of the connection, per direction and in order. It
 * passes cleartext records through, tracks each direction's sequence number and keys, and
 * returns plaintext or a typed failure (the caller warns; nothing undecryptable is guessed).
 *
 * TLS ≤ 1.2: keys come from the master secret (CLIENT_RANDOM line, or a secret handed in for a
 * resumed session); a direction is protected from the record after its ChangeCipherSpec.
 * TLS 1.3: each direction walks early → handshake → application_0 → application_N secrets;
 * the switch happens after the record carrying that direction's EndOfEarlyData, Finished or
 * KeyUpdate. When a record fails under the current keys the next generation is tried once,
 * which recovers from a missed switch (e.g. rejected 0-RTT data).
 * Not followed: TLS ≤ 1.2 renegotiation (new keys from a handshake inside the protected
 * stream) — records after it come back as failures.
 */
import { type SuiteParams, suiteParams } from './cipher-params.js';
import { HS, type HandshakeAssembler, newHandshakeAssembler, pushHandshake } from './handshake.js';
import { HASH_LENGTH, prf10, prf12, tls13NextTrafficSecret, tls13TrafficKeys } from './kdf.js';
import { KEYLOG_LABELS, type KeyLog, secretsFor } from './keylog.js';
import { type DirectionKeys, type OpenFailure, type RecordHeader, openTls12, openTls13 } from './record-crypto.js';

export { prf10, prf12, hkdfExpandLabel, tls13TrafficKeys, tls13NextTrafficSecret } from './kdf.js';
export { openTls12, openTls13 } from './record-crypto.js';
export { suiteParams } from './cipher-params.js';

/** Who sent the record. */
export type Sender = 'client' | 'server';

export type Epoch = 'tls12' | 'early' | 'handshake' | 'application';

export interface TlsDecryptorInit {
  clientRandom: Buffer;
  serverRandom: Buffer;
  cipherSuite: number;
  /** Negotiated version (ServerHello supported_versions, else its version field). */
  version: number;
  keyLog: KeyLog;
  /** TLS ≤ 1.2 master secret known from elsewhere: a resumed session's (looked up by session ID or ticket). */
  masterSecret?: Buffer;
  /** RFC 7366 encrypt_then_mac negotiated (CBC suites only). */
  encryptThenMac?: boolean;
}

export type DecryptSetupFailure = {
  kind: 'setup-failure';
  reason: 'unsupported-suite' | 'unsupported-version' | 'no-secrets' | 'bad-secret-length';
  detail: string;
};

export type DecryptResult =
  /** Not protected: sent before this direction's keys took effect. */
  | { kind: 'cleartext'; contentType: number }
  /** TLS 1.3 middlebox-compatibility ChangeCipherSpec: ignored, no sequence number used. */
  | { kind: 'skipped'; reason: 'compat-change-cipher-spec' }
  | { kind: 'plaintext'; contentType: number; data: Buffer; epoch: Epoch; generation: number; seq: number }
  | {
    kind: 'failure'; reason: OpenFailure | 'missing-secret'; detail: string;
    epoch: Epoch; generation: number; seq: number;
  };

interface Tls12Direction {
  active: boolean;
  seq: number;
  keys: DirectionKeys;
  cbcChain?: { iv: Buffer };
}

interface Tls13Key {
  epoch: Epoch;
  generation: number;
  secret: Buffer | undefined;
  derived?: { key: Buffer; iv: Buffer };
}

interface Tls13Direction {
  keys: Tls13Key[];
  index: number;
  seq: number;
  messages: HandshakeAssembler;
}

export class TlsDecryptor {
  readonly params: SuiteParams;
  readonly version: number;
  /** TLS ≤ 1.2: the master secret in use, for the caller to cache by session ID / ticket. */
  readonly masterSecret: Buffer | undefined;
  private readonly tls12?: Record<Sender, Tls12Direction>;
  private readonly tls13?: Record<Sender, Tls13Direction>;
  private readonly encryptThenMac: boolean;

  private constructor(init: TlsDecryptorInit, params: SuiteParams, master: Buffer | undefined, secrets13: Map<string, Buffer> | undefined) {
    this.params = params;
    this.version = init.version;
    this.masterSecret = master;
    this.encryptThenMac = init.encryptThenMac === true && params.protection === 'cbc';
    if (master) this.tls12 = deriveTls12(params, init, master);
    if (secrets13) this.tls13 = { client: direction13(secrets13, 'client'), server: direction13(secrets13, 'server') };
  }

  static create(init: TlsDecryptorInit): TlsDecryptor | DecryptSetupFailure {
    const params = suiteParams(init.cipherSuite);
    const hex = init.cipherSuite.toString(16).padStart(4, '0');
    if (!params) return setupFailure('unsupported-suite', `no decryption for cipher suite 0x${hex}`);
    const is13 = init.version === 0x0304;
    if (is13 !== params.tls13) return setupFailure('unsupported-suite', `suite 0x${hex} with version 0x${init.version.toString(16)}`);
    if (!is13 && (init.version < 0x0301 || init.version > 0x0303)) {
      return setupFailure('unsupported-version', `version 0x${init.version.toString(16)}`);
    }
    const secrets = secretsFor(init.keyLog, init.clientRandom);
    if (is13) {
      if (!secrets) return setupFailure('no-secrets', 'no key log entries for this client random');
      const length = HASH_LENGTH[params.hash];
      for (const label of TRAFFIC_LABELS) {
        const value = secrets.get(label);
        if (value && value.length !== length) return setupFailure('bad-secret-length', `${label} is ${value.length} bytes, suite hash is ${length}`);
      }
      return new TlsDecryptor(init, params, undefined, secrets);
    }
    // "RSA" key log lines (pre-master secrets) are not used yet: they need the ClientKeyExchange,
    // and under the extended master secret (RFC 7627) the handshake hash as well.
    const master = init.masterSecret ?? secrets?.get(KEYLOG_LABELS.CLIENT_RANDOM);
    if (!master) return setupFailure('no-secrets', 'no master secret for this client random');
    return new TlsDecryptor(init, params, master, undefined);
  }

  /** Decrypts (or passes through) the next record `sender` sent. Records must come in order. */
  decrypt(sender: Sender, record: RecordHeader): DecryptResult {
    return this.tls13 ? this.decrypt13(this.tls13[sender], record) : this.decrypt12(this.tls12![sender], record);
  }

  private decrypt12(dir: Tls12Direction, record: RecordHeader): DecryptResult {
    if (!dir.active) {
      // RFC 5246 §7.1: the records after ChangeCipherSpec use the pending keys, from sequence 0.
      if (record.contentType === 20) { dir.active = true; dir.seq = 0; }
      return { kind: 'cleartext', contentType: record.contentType };
    }
    const seq = dir.seq++;
    const opened = openTls12(this.params, dir.keys, seq, record, { encryptThenMac: this.encryptThenMac, cbcChain: dir.cbcChain });
    if (!opened.ok) return { kind: 'failure', reason: opened.reason, detail: opened.detail, epoch: 'tls12', generation: 0, seq };
    return { kind: 'plaintext', contentType: opened.contentType, data: opened.data, epoch: 'tls12', generation: 0, seq };
  }

  private decrypt13(dir: Tls13Direction, record: RecordHeader): DecryptResult {
    if (record.contentType === 20) return { kind: 'skipped', reason: 'compat-change-cipher-spec' };
    if (record.contentType !== 23) return { kind: 'cleartext', contentType: record.contentType };
    const current = dir.keys[dir.index];
    const first = this.open13(current, dir.seq, record);
    if (first.kind === 'plaintext') {
      dir.seq++;
      this.afterPlaintext(dir, first);
      return first;
    }
    const next = this.keyAfter(dir);
    if (next && next.secret) {
      const retry = this.open13(next, 0, record);
      if (retry.kind === 'plaintext') {
        this.switchTo(dir, next);
        dir.seq = 1;
        this.afterPlaintext(dir, retry);
        return retry;
      }
    }
    dir.seq++;
    return first;
  }

  private open13(key: Tls13Key, seq: number, record: RecordHeader): DecryptResult {
    const where = { epoch: key.epoch, generation: key.generation, seq };
    if (!key.secret) return { kind: 'failure', reason: 'missing-secret', detail: `no ${key.epoch} traffic secret logged`, ...where };
    key.derived ??= tls13TrafficKeys(this.params.hash, key.secret, this.params.keyLength);
    const opened = openTls13(this.params, key.derived.key, key.derived.iv, seq, record);
    if (!opened.ok) return { kind: 'failure', reason: opened.reason, detail: opened.detail, ...where };
    return { kind: 'plaintext', contentType: opened.contentType, data: opened.data, ...where };
  }

  /** Follows EndOfEarlyData, Finished and KeyUpdate to the next key (RFC 8446 §4.5, §4.4.4, §4.6.3). */
  private afterPlaintext(dir: Tls13Direction, result: DecryptResult & { kind: 'plaintext' }): void {
    if (result.contentType !== 22) return;
    let advance = false;
    for (const msg of pushHandshake(dir.messages, result.data, 0)) {
      if (msg.kind === 'malformed') continue;
      const epoch = dir.keys[dir.index].epoch;
      if ((msg.msgType === HS.END_OF_EARLY_DATA && epoch === 'early') ||
        (msg.msgType === HS.FINISHED && epoch === 'handshake') ||
        (msg.msgType === HS.KEY_UPDATE && epoch === 'application')) advance = true;
    }
    if (!advance) return;
    const next = this.keyAfter(dir);
    if (next) this.switchTo(dir, next);
  }

  /** The key after the current one; past application_N it is derived (not yet kept). */
  private keyAfter(dir: Tls13Direction): Tls13Key | undefined {
    const following = dir.keys[dir.index + 1];
    if (following) return following;
    const last = dir.keys[dir.index];
    if (last.epoch !== 'application' || !last.secret) return undefined;
    return {
      epoch: 'application', generation: last.generation + 1,
      secret: tls13NextTrafficSecret(this.params.hash, last.secret),
    };
  }

  private switchTo(dir: Tls13Direction, key: Tls13Key): void {
    if (!dir.keys.includes(key)) dir.keys.push(key);
    dir.index = dir.keys.indexOf(key);
    dir.seq = 0;
    dir.messages = newHandshakeAssembler();
  }
}

const TRAFFIC_LABELS = [
  KEYLOG_LABELS.CLIENT_EARLY_TRAFFIC_SECRET, KEYLOG_LABELS.CLIENT_HANDSHAKE_TRAFFIC_SECRET,
  KEYLOG_LABELS.SERVER_HANDSHAKE_TRAFFIC_SECRET, KEYLOG_LABELS.CLIENT_TRAFFIC_SECRET_0, KEYLOG_LABELS.SERVER_TRAFFIC_SECRET_0,
];

function setupFailure(reason: DecryptSetupFailure['reason'], detail: string): DecryptSetupFailure {
  return { kind: 'setup-failure', reason, detail };
}

function direction13(secrets: Map<string, Buffer>, sender: Sender): Tls13Direction {
  const keys: Tls13Key[] = [];
  const early = secrets.get(KEYLOG_LABELS.CLIENT_EARLY_TRAFFIC_SECRET);
  if (sender === 'client' && early) keys.push({ epoch: 'early', generation: 0, secret: early });
  keys.push({
    epoch: 'handshake', generation: 0,
    secret: secrets.get(sender === 'client' ? KEYLOG_LABELS.CLIENT_HANDSHAKE_TRAFFIC_SECRET : KEYLOG_LABELS.SERVER_HANDSHAKE_TRAFFIC_SECRET),
  });
  keys.push({
    epoch: 'application', generation: 0,
    secret: secrets.get(sender === 'client' ? KEYLOG_LABELS.CLIENT_TRAFFIC_SECRET_0 : KEYLOG_LABELS.SERVER_TRAFFIC_SECRET_0),
  });
  return { keys, index: 0, seq: 0, messages: newHandshakeAssembler() };
}

function prfFor(version: number, params: SuiteParams) {
  return (secret: Buffer, label: string, seed: Buffer, length: number): Buffer =>
    version >= 0x0303 ? prf12(params.hash, secret, label, seed, length) : prf10(secret, label, seed, length);
}

/**
 * RFC 5246 §6.3: key_block = PRF(master, "key expansion", server_random ‖ client_random), cut
 * into client MAC key, server MAC key, client key, server key, client IV, server IV.
 */
function deriveTls12(params: SuiteParams, init: TlsDecryptorInit, master: Buffer): Record<Sender, Tls12Direction> {
  const explicitCbcIv = params.protection === 'cbc' && init.version >= 0x0302;
  const ivLength = explicitCbcIv ? 0 : params.fixedIvLength;
  const size = 2 * (params.macLength + params.keyLength + ivLength);
  const block = prfFor(init.version, params)(master, 'key expansion', Buffer.concat([init.serverRandom, init.clientRandom]), size);
  let pos = 0;
  const cut = (n: number): Buffer => block.subarray(pos, (pos += n));
  const clientMac = cut(params.macLength);
  const serverMac = cut(params.macLength);
  const clientKey = cut(params.keyLength);
  const serverKey = cut(params.keyLength);
  const clientIv = cut(ivLength);
  const serverIv = cut(ivLength);
  const chained = params.protection === 'cbc' && !explicitCbcIv;
  const make = (macKey: Buffer, key: Buffer, iv: Buffer): Tls12Direction => ({
    active: false, seq: 0, keys: { key, iv, macKey }, cbcChain: chained ? { iv } : undefined,
  });
  return { client: make(clientMac, clientKey, clientIv), server: make(serverMac, serverKey, serverIv) };
}
