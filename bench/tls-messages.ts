import { sign, type KeyObject } from 'node:crypto';
import type { Prng } from './prng.js';

/** TLS 1.2 wire messages (RFC 5246 section 7.4), plaintext up to ChangeCipherSpec, opaque after. */

export const CONTENT = { CCS: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23 } as const;
const TLS12 = 0x0303;
/** Max TLSPlaintext fragment (RFC 5246 6.2.1); AES-GCM adds an 8-byte explicit nonce and 16-byte tag. */
export const MAX_PLAINTEXT = 16384;
export const GCM_OVERHEAD = 24;

export function record(type: number, body: Buffer, version = TLS12): Buffer {
  const h = Buffer.from([type, version >> 8, version & 0xff, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([h, body]);
}

function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
}

function u16(n: number): Buffer { return Buffer.from([n >> 8, n & 0xff]); }
function u24(n: number): Buffer { return Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]); }
function vec8(b: Buffer): Buffer { return Buffer.concat([Buffer.from([b.length]), b]); }
function vec16(b: Buffer): Buffer { return Buffer.concat([u16(b.length), b]); }
function ext(type: number, body: Buffer): Buffer { return Buffer.concat([u16(type), vec16(body)]); }
function u16list(values: number[]): Buffer { return Buffer.concat(values.map(u16)); }

// What a TLS 1.2 browser offers: ECDHE AEAD suites first, legacy CBC/RSA at the end.
const CLIENT_SUITES = [0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SERVER_SUITE = 0xc02b; // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, usable with Ed25519 (RFC 8422 section 5.1.1)
const GROUPS = [0x001d, 0x0017, 0x0018];
const SIG_ALGS = [0x0807, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

export interface Hello { message: Buffer; random: Buffer }

function alpnBody(protocols: string[]): Buffer {
  return vec16(Buffer.concat(protocols.map((p) => vec8(Buffer.from(p, 'ascii')))));
}

/** ClientHello record (record version 0x0301, as clients send for compatibility). */
export function clientHello(rng: Prng, serverName: string, alpn: string[] | null): Hello {
  const random = rng.bytes(32);
  const name = Buffer.from(serverName, 'ascii');
  const exts = [
    ext(0x0000, vec16(Buffer.concat([Buffer.from([0]), vec16(name)]))),
    ext(0x0017, Buffer.alloc(0)),
    ext(0xff01, Buffer.from([0])),
    ext(0x000a, vec16(u16list(GROUPS))),
    ext(0x000b, vec8(Buffer.from([0]))),
    ext(0x0023, Buffer.alloc(0)),
  ];
  if (alpn) exts.push(ext(0x0010, alpnBody(alpn)));
  exts.push(ext(0x0005, Buffer.from([1, 0, 0, 0, 0])));
  exts.push(ext(0x000d, vec16(u16list(SIG_ALGS))));
  const body = Buffer.concat([
    u16(TLS12), random, vec8(rng.bytes(32)),
    vec16(u16list(CLIENT_SUITES)), vec8(Buffer.from([0])),
    vec16(Buffer.concat(exts)),
  ]);
  return { message: record(CONTENT.HANDSHAKE, handshake(1, body), 0x0301), random };
}

/**
 * The server's first flight in one record, as OpenSSL packs it: ServerHello, Certificate,
 * ServerKeyExchange (X25519, signed with the certificate's Ed25519 key) and ServerHelloDone.
 */
export function serverFlight(rng: Prng, clientRandom: Buffer, certDer: Buffer, key: KeyObject, alpn: string | null): Buffer {
  const random = rng.bytes(32);
  const exts = [ext(0xff01, Buffer.from([0])), ext(0x000b, vec8(Buffer.from([0]))), ext(0x0017, Buffer.alloc(0)), ext(0x0023, Buffer.alloc(0))];
  if (alpn) exts.push(ext(0x0010, alpnBody([alpn])));
  const hello = handshake(2, Buffer.concat([u16(TLS12), random, vec8(rng.bytes(32)), u16(SERVER_SUITE), Buffer.from([0]), vec16(Buffer.concat(exts))]));
  const certificate = handshake(11, Buffer.concat([u24(certDer.length + 3), u24(certDer.length), certDer]));
  // RFC 8422 5.4: ServerECDHParams = named_curve(3) x25519, then the 32-byte public value.
  const params = Buffer.concat([Buffer.from([3]), u16(0x001d), vec8(rng.bytes(32))]);
  const signature = sign(null, Buffer.concat([clientRandom, random, params]), key);
  const keyExchange = handshake(12, Buffer.concat([params, u16(0x0807), vec16(signature)]));
  const done = handshake(14, Buffer.alloc(0));
  return record(CONTENT.HANDSHAKE, Buffer.concat([hello, certificate, keyExchange, done]));
}

/** ClientKeyExchange (X25519 public value), ChangeCipherSpec, encrypted Finished. */
export function clientFinish(rng: Prng): Buffer {
  return Buffer.concat([
    record(CONTENT.HANDSHAKE, handshake(16, vec8(rng.bytes(32)))),
    record(CONTENT.CCS, Buffer.from([1])),
    record(CONTENT.HANDSHAKE, rng.bytes(40)),
  ]);
}

/** NewSessionTicket (RFC 5077), ChangeCipherSpec, encrypted Finished. */
export function serverFinish(rng: Prng): Buffer {
  const ticket = handshake(4, Buffer.concat([Buffer.from([0, 0, 0x1c, 0x20]), vec16(rng.bytes(rng.range(160, 192)))]));
  return Buffer.concat([record(CONTENT.HANDSHAKE, ticket), record(CONTENT.CCS, Buffer.from([1])), record(CONTENT.HANDSHAKE, rng.bytes(40))]);
}

/** Plaintext fatal alert (before the handshake completed). */
export function fatalAlert(description: number): Buffer {
  return record(CONTENT.ALERT, Buffer.from([2, description]));
}

/** close_notify after the handshake: an encrypted 2-byte alert. */
export function encryptedAlert(rng: Prng): Buffer {
  return record(CONTENT.ALERT, rng.bytes(2 + GCM_OVERHEAD));
}

/**
 * Writes application-data records carrying `plaintext` bytes into `out` at `at` (bodies sliced
 * from the random pool, which is what ciphertext looks like); returns the bytes written.
 */
export function appData(out: Buffer, at: number, plaintext: number, pool: Buffer, poolOffset: number): number {
  let o = at;
  for (let left = plaintext; left > 0;) {
    const n = Math.min(MAX_PLAINTEXT, left);
    const len = n + GCM_OVERHEAD;
    out[o] = CONTENT.APPLICATION_DATA; out[o + 1] = 3; out[o + 2] = 3; out.writeUInt16BE(len, o + 3);
    pool.copy(out, o + 5, poolOffset, poolOffset + len);
    o += 5 + len;
    left -= n;
  }
  return o - at;
}

export function appDataSize(plaintext: number): number {
  const records = Math.max(1, Math.ceil(plaintext / MAX_PLAINTEXT));
  return plaintext + records * (5 + GCM_OVERHEAD);
}
