import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { Prng } from './prng.js';

/**
 * A real, verifiable self-signed X.509 v3 certificate built with node:crypto alone (no openssl
 * at generation time). Ed25519 because its signatures are deterministic (RFC 8032), and its key
 * can be derived from a seed, so the whole capture stays reproducible from one PRNG seed.
 */
export interface BenchCertificate {
  der: Buffer;
  /** The Ed25519 key, to sign ServerKeyExchange parameters. */
  privateKey: KeyObject;
}

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410 section 7).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const OID_ED25519 = '1.3.101.112';

export function makeCertificate(rng: Prng, commonName: string, altNames: string[]): BenchCertificate {
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, rng.bytes(32)]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const serial = rng.bytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  const name = seq(
    set(seq(oid('2.5.4.6'), printable('ZZ'))),
    set(seq(oid('2.5.4.10'), utf8('faultline bench'))),
    set(seq(oid('2.5.4.3'), utf8(commonName))),
  );
  const algorithm = seq(oid(OID_ED25519));
  const rawPublicKey = spki.subarray(spki.length - 32);
  const extensions = seq(
    extension('2.5.29.19', true, seq()),
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
    extension('2.5.29.14', false, tlv(0x04, createHash('sha1').update(rawPublicKey).digest())),
    extension('2.5.29.17', false, seq(...altNames.map((n) => tlv(0x82, Buffer.from(n, 'ascii'))))),
  );
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    name,
    seq(utcTime('250101000000Z'), utcTime('351231235959Z')),
    name,
    spki,
    tlv(0xa3, extensions),
  );
  const signature = sign(null, tbs, privateKey);
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return { der, privateKey };
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  const parts = [oid(id)];
  if (critical) parts.push(tlv(0x01, Buffer.from([0xff])));
  parts.push(tlv(0x04, value));
  return seq(...parts);
}

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else len = Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

function seq(...parts: Buffer[]): Buffer { return tlv(0x30, Buffer.concat(parts)); }
function set(...parts: Buffer[]): Buffer { return tlv(0x31, Buffer.concat(parts)); }
function integer(b: Buffer): Buffer { return tlv(0x02, b); }
function printable(s: string): Buffer { return tlv(0x13, Buffer.from(s, 'ascii')); }
function utf8(s: string): Buffer { return tlv(0x0c, Buffer.from(s, 'utf8')); }
function utcTime(s: string): Buffer { return tlv(0x17, Buffer.from(s, 'ascii')); }

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
