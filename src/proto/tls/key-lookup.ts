/**
 * Finding a connection's keys once its hellos are known: TLS 1.3 traffic secrets by client
 * random; TLS ≤ 1.2 the master secret, which for a resumed session is the original
 * connection's (by session ID, then ticket, then client random, as Wireshark looks them up).
 */
import { TlsDecryptor } from './decrypt.js';
import type { ClientHello, ServerHello } from './hello.js';
import { KEYLOG_LABELS, secretsFor } from './keylog.js';
import type { KeyStore } from './keystore.js';
import { versionName } from './names.js';

export type KeyLookup =
  | {
    kind: 'decryptor'; dec: TlsDecryptor;
    /** TLS ≤ 1.2 master secret, to cache under the session ID and tickets this connection issues. */
    master: Buffer | null;
    note: string | null;
    /** TLS 1.3: 0-RTT data can be decrypted (CLIENT_EARLY_TRAFFIC_SECRET logged). */
    earlySecret: boolean;
  }
  /** The key log has nothing for this connection. */
  | { kind: 'no-keys' }
  /** Versions the decryptor does not handle (TLS 1.3 drafts, SSL 2.0). */
  | { kind: 'skipped'; note: string }
  /** Secrets are there but cannot be used (unsupported suite, wrong secret length). */
  | { kind: 'unusable'; detail: string };

/** What key lookup reads of the hellos (a connection keeps only this once their facts are taken). */
export type HelloKeys = { client: Pick<ClientHello, 'random'>; server: Pick<ServerHello, 'random' | 'cipherSuite' | 'negotiatedVersion' | 'encryptThenMac'> };

export function lookUpKeys(keys: KeyStore, ch: HelloKeys['client'], sh: HelloKeys['server'],
  resumedBy: { sessionId: string | null; ticketId: string | null } | null): KeyLookup {
  const version = sh.negotiatedVersion;
  if (version === 0x0304) {
    const secrets = secretsFor(keys.log, ch.random);
    if (!secrets) return { kind: 'no-keys' };
    const dec = TlsDecryptor.create({ clientRandom: ch.random, serverRandom: sh.random, cipherSuite: sh.cipherSuite, version, keyLog: keys.log });
    if (!(dec instanceof TlsDecryptor)) return { kind: 'unusable', detail: dec.detail };
    return { kind: 'decryptor', dec, master: null, note: null, earlySecret: secrets.has(KEYLOG_LABELS.CLIENT_EARLY_TRAFFIC_SECRET) };
  }
  if (version < 0x0300 || version > 0x0303) return { kind: 'skipped', note: `${versionName(version)} is not decrypted` };
  const found = keys.masterSecret(ch.random, resumedBy);
  if (!found) return { kind: 'no-keys' };
  const dec = TlsDecryptor.create({
    clientRandom: ch.random, serverRandom: sh.random, cipherSuite: sh.cipherSuite, version,
    keyLog: keys.log, masterSecret: found.secret, encryptThenMac: sh.encryptThenMac,
  });
  if (!(dec instanceof TlsDecryptor)) return { kind: 'unusable', detail: dec.detail };
  const note = found.via === 'client-random' ? null : `master secret of the resumed session, found by its ${found.via}`;
  return { kind: 'decryptor', dec, master: found.secret, note, earlySecret: false };
}
