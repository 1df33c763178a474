/**
 * What record decryption needs to know about a cipher suite, read off its IANA name
 * (TLS_<kx>_WITH_<bulk>_<mac> for TLS ≤ 1.2, TLS_<aead>_<hash> for TLS 1.3).
 */
import { getCiphers } from 'node:crypto';
import { IANA_CIPHER_SUITES } from './cipher-suites.js';
import type { HashName } from './kdf.js';

export type RecordProtection = 'gcm' | 'ccm' | 'chacha20-poly1305' | 'cbc' | 'null';

export interface SuiteParams {
  code: number;
  name: string;
  protection: RecordProtection;
  /** OpenSSL cipher name for node:crypto (empty for NULL). */
  cipher: string;
  keyLength: number;
  /** Implicit IV bytes from the key block: GCM/CCM salt 4, ChaCha20 12, CBC block size (TLS 1.0 only). */
  fixedIvLength: number;
  /** Explicit per-record nonce bytes (GCM/CCM 8). */
  recordIvLength: number;
  blockSize: number;
  tagLength: number;
  /** HMAC for CBC / NULL suites. */
  macHash?: HashName;
  macLength: number;
  /** PRF hash for TLS 1.2 (SHA-384 when the suite says so) and the TLS 1.3 transcript hash. */
  hash: 'sha256' | 'sha384';
  tls13: boolean;
}

const MAC: Record<string, { hash: HashName; length: number }> = {
  MD5: { hash: 'md5', length: 16 }, SHA: { hash: 'sha1', length: 20 },
  SHA256: { hash: 'sha256', length: 32 }, SHA384: { hash: 'sha384', length: 48 },
};

const BLOCK: Record<string, { cipher: string; keyLength: number; blockSize: number }> = {
  AES_128_CBC: { cipher: 'aes-128-cbc', keyLength: 16, blockSize: 16 },
  AES_256_CBC: { cipher: 'aes-256-cbc', keyLength: 32, blockSize: 16 },
  CAMELLIA_128_CBC: { cipher: 'camellia-128-cbc', keyLength: 16, blockSize: 16 },
  CAMELLIA_256_CBC: { cipher: 'camellia-256-cbc', keyLength: 32, blockSize: 16 },
  ARIA_128_CBC: { cipher: 'aria-128-cbc', keyLength: 16, blockSize: 16 },
  ARIA_256_CBC: { cipher: 'aria-256-cbc', keyLength: 32, blockSize: 16 },
  '3DES_EDE_CBC': { cipher: 'des-ede3-cbc', keyLength: 24, blockSize: 8 },
};

let available: Set<string> | undefined;
function nodeHas(cipher: string): boolean {
  available ??= new Set(getCiphers());
  return cipher === '' || available.has(cipher);
}

/** Parameters for a suite this module can decrypt; undefined for the rest (RC4, export, SSL 3.0 MACs …). */
export function suiteParams(code: number): SuiteParams | undefined {
  const name = IANA_CIPHER_SUITES.get(code);
  if (!name) return undefined;
  const params = fromName(code, name);
  return params && nodeHas(params.cipher) ? params : undefined;
}

function fromName(code: number, name: string): SuiteParams | undefined {
  const base = { code, name, recordIvLength: 0, blockSize: 0, tagLength: 16, macLength: 0, tls13: false };
  const tls13 = /^TLS_(AES_(128|256)_(GCM|CCM(_8)?)|CHACHA20_POLY1305)_(SHA256|SHA384)$/.exec(name);
  if (tls13) {
    const hash = tls13[5] === 'SHA384' ? 'sha384' : 'sha256';
    if (tls13[1] === 'CHACHA20_POLY1305') {
      return { ...base, protection: 'chacha20-poly1305', cipher: 'chacha20-poly1305', keyLength: 32, fixedIvLength: 12, hash, tls13: true };
    }
    const bits = tls13[2];
    const mode = tls13[3] === 'GCM' ? 'gcm' : 'ccm';
    return {
      ...base, protection: mode, cipher: `aes-${bits}-${mode}`, keyLength: Number(bits) / 8, fixedIvLength: 12,
      tagLength: tls13[4] ? 8 : 16, hash, tls13: true,
    };
  }
  const withIdx = name.indexOf('_WITH_');
  if (withIdx < 0 || name.includes('EXPORT')) return undefined;
  const bulk = name.slice(withIdx + 6);
  const prfHash = bulk.endsWith('_SHA384') ? 'sha384' : 'sha256';
  let m = /^(AES|ARIA)_(128|256)_GCM_(SHA256|SHA384)$/.exec(bulk);
  if (m) {
    return {
      ...base, protection: 'gcm', cipher: `${m[1].toLowerCase()}-${m[2]}-gcm`, keyLength: Number(m[2]) / 8,
      fixedIvLength: 4, recordIvLength: 8, hash: prfHash,
    };
  }
  m = /^AES_(128|256)_CCM(_8)?$/.exec(bulk);
  if (m) {
    // RFC 6655 §3: CCM suites use the TLS 1.2 default PRF (SHA-256).
    return {
      ...base, protection: 'ccm', cipher: `aes-${m[1]}-ccm`, keyLength: Number(m[1]) / 8, fixedIvLength: 4,
      recordIvLength: 8, tagLength: m[2] ? 8 : 16, hash: 'sha256',
    };
  }
  if (bulk === 'CHACHA20_POLY1305_SHA256') {
    return { ...base, protection: 'chacha20-poly1305', cipher: 'chacha20-poly1305', keyLength: 32, fixedIvLength: 12, hash: 'sha256' };
  }
  m = /^(.+)_(MD5|SHA|SHA256|SHA384)$/.exec(bulk);
  if (!m) return undefined;
  const mac = MAC[m[2]];
  if (m[1] === 'NULL') {
    return { ...base, protection: 'null', cipher: '', keyLength: 0, fixedIvLength: 0, tagLength: 0, macHash: mac.hash, macLength: mac.length, hash: prfHash };
  }
  const block = BLOCK[m[1]];
  if (!block) return undefined;
  return {
    ...base, protection: 'cbc', cipher: block.cipher, keyLength: block.keyLength, fixedIvLength: block.blockSize,
    blockSize: block.blockSize, tagLength: 0, macHash: mac.hash, macLength: mac.length, hash: prfHash,
  };
}
