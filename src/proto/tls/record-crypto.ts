/**
 * Opening one protected record. TLS 1.2 AEAD (RFC 5246 §6.2.3.3, RFC 5288, RFC 6655, RFC 7905),
 * TLS 1.0–1.2 CBC with HMAC (RFC 5246 §6.2.3.2; explicit IV from TLS 1.1, chained IV in 1.0;
 * RFC 7366 encrypt-then-MAC), NULL encryption, and TLS 1.3 AEAD (RFC 8446 §5.2–5.3).
 * A failed tag, MAC or padding check is a typed result, never plaintext.
 */
import { type DecipherCCM, type DecipherGCM, createDecipheriv, timingSafeEqual } from 'node:crypto';
import type { SuiteParams } from './cipher-params.js';
import { hmac } from './kdf.js';

export type OpenFailure = 'bad-tag' | 'bad-mac' | 'bad-padding' | 'too-short' | 'no-content-type';

export type OpenResult =
  | { ok: true; contentType: number; data: Buffer }
  | { ok: false; reason: OpenFailure; detail: string };

export interface DirectionKeys {
  key: Buffer;
  /** TLS 1.2: the key block's implicit IV (GCM salt, ChaCha20 IV, TLS 1.0 CBC IV); TLS 1.3: write_iv. */
  iv: Buffer;
  macKey: Buffer;
}

/** The header fields a record's AAD / MAC covers. */
export interface RecordHeader {
  contentType: number;
  version: number;
  fragment: Buffer;
}

function seqBytes(seq: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(seq));
  return b;
}

/** RFC 8446 §5.3 (also RFC 7905 §2): the 64-bit sequence number XORed into the right of the IV. */
export function xorNonce(iv: Buffer, seq: number): Buffer {
  const nonce = Buffer.from(iv);
  const s = seqBytes(seq);
  for (let i = 0; i < 8; i++) nonce[nonce.length - 8 + i] ^= s[i];
  return nonce;
}

function aeadOpen(p: SuiteParams, key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < p.tagLength) return undefined;
  const ciphertext = sealed.subarray(0, sealed.length - p.tagLength);
  const tag = sealed.subarray(sealed.length - p.tagLength);
  try {
    if (p.protection === 'ccm') {
      const d = createDecipheriv(p.cipher as 'aes-128-ccm', key, nonce, { authTagLength: p.tagLength }) as DecipherCCM;
      d.setAuthTag(tag);
      d.setAAD(aad, { plaintextLength: ciphertext.length });
      return d.update(ciphertext);
    }
    const d = createDecipheriv(p.cipher as 'aes-128-gcm', key, nonce, { authTagLength: p.tagLength }) as DecipherGCM;
    d.setAAD(aad, { plaintextLength: ciphertext.length });
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch {
    return undefined; // node:crypto reports a failed tag by throwing
  }
}

function header12(seq: number, contentType: number, version: number, length: number): Buffer {
  const h = Buffer.alloc(13);
  seqBytes(seq).copy(h, 0);
  h[8] = contentType;
  h.writeUInt16BE(version, 9);
  h.writeUInt16BE(length, 11);
  return h;
}

/**
 * Opens a TLS 1.0–1.2 record. `cbcChain` carries TLS 1.0's running CBC IV (the last ciphertext
 * block of the previous record) and is updated; pass undefined for TLS 1.1+.
 */
export function openTls12(
  p: SuiteParams, keys: DirectionKeys, seq: number, record: RecordHeader,
  options: { encryptThenMac?: boolean; cbcChain?: { iv: Buffer } } = {},
): OpenResult {
  const f = record.fragment;
  if (p.protection === 'gcm' || p.protection === 'ccm' || p.protection === 'chacha20-poly1305') {
    const overhead = p.recordIvLength + p.tagLength;
    if (f.length < overhead) return { ok: false, reason: 'too-short', detail: `${f.length}-byte record under a ${overhead}-byte AEAD overhead` };
    const nonce = p.recordIvLength > 0
      ? Buffer.concat([keys.iv, f.subarray(0, p.recordIvLength)]) // RFC 5288 §3: salt ‖ explicit nonce
      : xorNonce(keys.iv, seq);
    const aad = header12(seq, record.contentType, record.version, f.length - overhead);
    const data = aeadOpen(p, keys.key, nonce, aad, f.subarray(p.recordIvLength));
    if (!data) return { ok: false, reason: 'bad-tag', detail: `AEAD tag mismatch at sequence ${seq}` };
    return { ok: true, contentType: record.contentType, data };
  }
  const macHash = p.macHash ?? 'sha1';
  const macOf = (payload: Buffer): Buffer =>
    hmac(macHash, keys.macKey, header12(seq, record.contentType, record.version, payload.length), payload);
  if (p.protection === 'null') {
    if (f.length < p.macLength) return { ok: false, reason: 'too-short', detail: 'record shorter than its MAC' };
    const data = f.subarray(0, f.length - p.macLength);
    if (!safeEqual(macOf(data), f.subarray(data.length))) return { ok: false, reason: 'bad-mac', detail: `MAC mismatch at sequence ${seq}` };
    return { ok: true, contentType: record.contentType, data: Buffer.from(data) };
  }
  return openCbc(p, keys, seq, record, macOf, options);
}

function openCbc(
  p: SuiteParams, keys: DirectionKeys, seq: number, record: RecordHeader,
  macOf: (payload: Buffer) => Buffer, options: { encryptThenMac?: boolean; cbcChain?: { iv: Buffer } },
): OpenResult {
  let f = record.fragment;
  if (options.encryptThenMac) {
    if (f.length < p.macLength) return { ok: false, reason: 'too-short', detail: 'record shorter than its MAC' };
    const body = f.subarray(0, f.length - p.macLength);
    if (!safeEqual(macOf(body), f.subarray(body.length))) return { ok: false, reason: 'bad-mac', detail: `MAC mismatch at sequence ${seq}` };
    f = body;
  }
  const explicitIv = options.cbcChain === undefined;
  const ivLength = explicitIv ? p.blockSize : 0;
  if (f.length < ivLength + p.blockSize || (f.length - ivLength) % p.blockSize !== 0) {
    return { ok: false, reason: 'too-short', detail: `CBC record of ${f.length} bytes` };
  }
  const iv = explicitIv ? f.subarray(0, ivLength) : options.cbcChain!.iv;
  const ciphertext = f.subarray(ivLength);
  const d = createDecipheriv(p.cipher, keys.key, iv);
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(ciphertext), d.final()]);
  if (options.cbcChain) options.cbcChain.iv = Buffer.from(ciphertext.subarray(ciphertext.length - p.blockSize));
  const padLength = plain[plain.length - 1];
  const macLength = options.encryptThenMac ? 0 : p.macLength;
  if (padLength + 1 + macLength > plain.length) return { ok: false, reason: 'bad-padding', detail: `padding length ${padLength}` };
  for (let i = plain.length - 1 - padLength; i < plain.length; i++) {
    if (plain[i] !== padLength) return { ok: false, reason: 'bad-padding', detail: 'padding bytes differ' };
  }
  const content = plain.subarray(0, plain.length - 1 - padLength - macLength);
  if (!options.encryptThenMac) {
    const mac = plain.subarray(content.length, content.length + macLength);
    if (!safeEqual(macOf(content), mac)) return { ok: false, reason: 'bad-mac', detail: `MAC mismatch at sequence ${seq}` };
  }
  return { ok: true, contentType: record.contentType, data: content };
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Opens a TLS 1.3 record: AAD is the 5-byte header as sent, the plaintext ends with the real
 * content type followed by zero padding (RFC 8446 §5.2, §5.4).
 */
export function openTls13(p: SuiteParams, key: Buffer, iv: Buffer, seq: number, record: RecordHeader): OpenResult {
  const f = record.fragment;
  if (f.length < p.tagLength + 1) return { ok: false, reason: 'too-short', detail: `${f.length}-byte record` };
  const aad = Buffer.alloc(5);
  aad[0] = record.contentType;
  aad.writeUInt16BE(record.version, 1);
  aad.writeUInt16BE(f.length, 3);
  const inner = aeadOpen(p, key, xorNonce(iv, seq), aad, f);
  if (!inner) return { ok: false, reason: 'bad-tag', detail: `AEAD tag mismatch at sequence ${seq}` };
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  if (end < 0) return { ok: false, reason: 'no-content-type', detail: 'plaintext is all padding' };
  return { ok: true, contentType: inner[end], data: inner.subarray(0, end) };
}
