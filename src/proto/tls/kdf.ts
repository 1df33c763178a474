/**
 * Key derivation for record decryption: the TLS 1.0–1.2 PRFs (RFC 2246 §5, RFC 5246 §5) and
 * TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1, RFC 5869 §2.3).
 */
import { createHmac } from 'node:crypto';

export type HashName = 'md5' | 'sha1' | 'sha256' | 'sha384';

export const HASH_LENGTH: Record<HashName, number> = { md5: 16, sha1: 20, sha256: 32, sha384: 48 };

export function hmac(hash: HashName, key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac(hash, key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** P_hash(secret, seed): HMAC(secret, A(i) ‖ seed) with A(0) = seed, A(i) = HMAC(secret, A(i−1)). */
export function pHash(hash: HashName, secret: Buffer, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let produced = 0;
  let a = seed;
  while (produced < length) {
    a = hmac(hash, secret, a);
    const block = hmac(hash, secret, a, seed);
    out.push(block);
    produced += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** TLS 1.2 PRF: P_<hash>(secret, label ‖ seed); SHA-256 unless the suite names SHA-384. */
export function prf12(hash: 'sha256' | 'sha384', secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  return pHash(hash, secret, Buffer.concat([Buffer.from(label, 'latin1'), seed]), length);
}

/**
 * TLS 1.0/1.1 PRF (RFC 2246 §5): P_MD5 over the first half of the secret XOR P_SHA1 over the
 * second half (the halves overlap by one byte when the secret length is odd).
 */
export function prf10(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const half = Math.ceil(secret.length / 2);
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const md5 = pHash('md5', secret.subarray(0, half), labelSeed, length);
  const sha1 = pHash('sha1', secret.subarray(secret.length - half), labelSeed, length);
  for (let i = 0; i < length; i++) md5[i] ^= sha1[i];
  return md5;
}

/** HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i−1) ‖ info ‖ i). */
export function hkdfExpand(hash: HashName, prk: Buffer, info: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let t: Buffer = Buffer.alloc(0);
  for (let i = 1, produced = 0; produced < length; i++) {
    t = hmac(hash, prk, t, info, Buffer.from([i]));
    out.push(t);
    produced += t.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** HKDF-Expand-Label: info = uint16 length ‖ opaque "tls13 "+label<7..255> ‖ opaque context<0..255>. */
export function hkdfExpandLabel(hash: HashName, secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([context.length]), context,
  ]);
  return hkdfExpand(hash, secret, info, length);
}

/** RFC 8446 §7.3: the write key and IV behind a traffic secret. */
export function tls13TrafficKeys(hash: HashName, secret: Buffer, keyLength: number, ivLength = 12): { key: Buffer; iv: Buffer } {
  return {
    key: hkdfExpandLabel(hash, secret, 'key', Buffer.alloc(0), keyLength),
    iv: hkdfExpandLabel(hash, secret, 'iv', Buffer.alloc(0), ivLength),
  };
}

/** RFC 8446 §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length). */
export function tls13NextTrafficSecret(hash: HashName, secret: Buffer): Buffer {
  return hkdfExpandLabel(hash, secret, 'traffic upd', Buffer.alloc(0), HASH_LENGTH[hash]);
}
