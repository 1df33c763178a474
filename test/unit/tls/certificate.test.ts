/**
 * Certificates taken from the third-party captures' Certificate messages, checked two ways:
 * against tshark's x509 fields stored with each capture (serial, issuer/subject DER, validity,
 * certificate lengths) and against `openssl x509` on the same DER (names in RFC 2253 form,
 * SANs, key size, signature algorithm, fingerprint, CA flag). Plus RFC 6125 name matching.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { type CertificateInfo, nameMatches, parseCertificateDer, validAt } from '../../../src/proto/tls/certificate.js';
import { manifest, thirdParty, tsharkTruth } from '../../helpers.js';
import { mapLimit, tcpStreams, walkConnection } from './tshark-streams.test.js';

interface TruthCert {
  frame: number; serial?: string; issuer_der_hex?: string; subject_der_hex?: string; notBefore?: string; notAfter?: string;
}

interface Extracted { capture: string; ders: Buffer[]; truth: TruthCert[]; truthLengths: number[] }

const extracted: Extracted[] = [];

before(async () => {
  const entries = manifest().filter((e) => {
    const t = tsharkTruth(e) as { tls?: { certificates?: TruthCert[] } };
    return (t.tls?.certificates ?? []).length > 0;
  });
  await mapLimit(entries, 4, async (e) => {
    const truth = tsharkTruth(e) as { tls: { certificates: TruthCert[]; records: Array<{ certificate_lengths?: number[] }> } };
    const ders: Buffer[] = [];
    for (const s of await tcpStreams(thirdParty(e.localPath))) {
      for (const w of walkConnection(s).directions) {
        for (const { view } of w.views) if (view.kind === 'certificate') ders.push(...view.entries.map((x) => x.der));
      }
    }
    extracted.push({
      capture: e.localPath, ders, truth: truth.tls.certificates,
      truthLengths: truth.tls.records.flatMap((r) => r.certificate_lengths ?? []),
    });
  });
});

function parsed(der: Buffer): CertificateInfo {
  const c = parseCertificateDer(der);
  assert.ok(c.kind === 'certificate', c.kind === 'malformed' ? c.reason : '');
  return c;
}

/**
 * tshark shows UTCTime as "2021-05-31 03:52:05 (UTC)" or, with an offset, the local time and
 * "(UTC+0530)"; GeneralizedTime as "Sep  1, 2015 13:33:37.000000000 UTC".
 */
function tsharkTime(text: string | undefined): number {
  if (!text) return NaN;
  const utc = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) \(UTC(?:([+-])(\d{2})(\d{2}))?\)$/.exec(text);
  if (utc) {
    const offset = utc[7] ? (utc[7] === '-' ? -1 : 1) * (+utc[8] * 60 + +utc[9]) : 0;
    return (Date.UTC(+utc[1], +utc[2] - 1, +utc[3], +utc[4], +utc[5], +utc[6]) - offset * 60_000) * 1000;
  }
  const gen = /^(\w{3}) +(\d+), (\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{9}) UTC$/.exec(text);
  if (!gen) return NaN;
  const month = 'JanFebMarAprMayJunJulAugSepOctNovDec'.indexOf(gen[1]) / 3;
  return Date.UTC(+gen[3], month, +gen[2], +gen[4], +gen[5], +gen[6]) * 1000 + Math.round(+gen[7] / 1000);
}

test('serial, issuer/subject DER and validity equal tshark for every certificate in the captures', (t) => {
  const problems: string[] = [];
  let compared = 0;
  for (const e of extracted) {
    // tshark's x509 list also holds certificates inside stapled OCSP responses; the
    // Certificate-message certificates are exactly its tls.handshake.certificate_length list.
    const theirs = e.truth.map((c) => [c.serial, c.issuer_der_hex, c.subject_der_hex, tsharkTime(c.notBefore), tsharkTime(c.notAfter)].join('|'));
    for (const c of e.ders.map(parsed)) {
      const key = [c.serialNumber, c.issuerDer.toString('hex'), c.subjectDer.toString('hex'), c.validFrom, c.validTo].join('|');
      const at = theirs.indexOf(key);
      if (at < 0 && e.capture.endsWith('tls-subjectaltname/input.pcap') && /bing\.com|Microsoft RSA TLS CA 01/.test(c.subject)) continue;
      if (at < 0) problems.push(`${e.capture}: not in tshark's list: ${c.subject} serial ${c.serialNumber}`);
      else { theirs.splice(at, 1); compared++; }
    }
    // tshark never assembles stream 3's server flight here (see tshark-crosscheck.test.ts).
    if (e.capture.endsWith('tls-subjectaltname/input.pcap')) continue;
    if (JSON.stringify(e.ders.map((d) => d.length).sort()) !== JSON.stringify([...e.truthLengths].sort())) {
      problems.push(`${e.capture}: certificate lengths ${e.ders.length} vs ${e.truthLengths.length}`);
    }
  }
  t.diagnostic(`${compared} certificates in ${extracted.length} captures equal to tshark`);
  assert.deepEqual(problems, []);
  assert.ok(compared >= 350);
});

interface OpensslView {
  subject: string; issuer: string; serial: string; sha256: string; notBefore: number; notAfter: number;
  /** undefined when openssl could not decode the extension and dumped it raw. */
  san: string[] | undefined; keyBits?: number; signature: string; ca?: boolean; reencodedLength: number;
}

const run = promisify(execFile);
const opensslCache = new Map<string, OpensslView>();

/** One `openssl x509` run per certificate: the text view plus its own re-encoding (PEM). */
async function openssl(der: Buffer): Promise<OpensslView> {
  const sha = createHash('sha256').update(der).digest('hex');
  const cached = opensslCache.get(sha);
  if (cached) return cached;
  const child = run('openssl', ['x509', '-inform', 'DER', '-text', '-subject', '-issuer', '-serial',
    '-fingerprint', '-sha256', '-dates', '-nameopt', 'RFC2253,-esc_msb'], { encoding: 'utf8' });
  child.child.stdin?.end(der);
  const out = (await child).stdout;
  const lines = out.split('\n');
  const field = (prefix: string) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? '';
  const sanAt = lines.findIndex((l) => l.trim().startsWith('X509v3 Subject Alternative Name'));
  const bcAt = lines.findIndex((l) => l.trim().startsWith('X509v3 Basic Constraints'));
  const bits = /Public-Key: \((\d+) bit\)/.exec(out);
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(out)?.[1] ?? '';
  const view: OpensslView = {
    subject: field('subject='), issuer: field('issuer='), serial: field('serial='),
    sha256: field('sha256 Fingerprint=').replace(/:/g, '').toLowerCase(),
    notBefore: Date.parse(field('notBefore=')) * 1000, notAfter: Date.parse(field('notAfter=')) * 1000,
    san: sanAt < 0 || lines[sanAt + 1].trim() === '<EMPTY>' ? [] : /^(DNS|IP Address|email|URI|DirName|othername|Registered ID):/.test(lines[sanAt + 1].trim())
      ? lines[sanAt + 1].trim().split(', ').filter((x) => /^(DNS|IP Address):/.test(x)) : undefined,
    keyBits: bits ? Number(bits[1]) : undefined,
    signature: /Signature Algorithm: (\S+)/.exec(out)?.[1] ?? '',
    ca: bcAt >= 0 ? lines[bcAt + 1].includes('CA:TRUE') : undefined,
    reencodedLength: Buffer.from(pem.replace(/\s+/g, ''), 'base64').length,
  };
  opensslCache.set(sha, view);
  return view;
}

test('names, SANs, key size, signature algorithm, fingerprint and CA flag equal openssl x509', async (t) => {
  const unique = new Map<string, Buffer>();
  for (const e of extracted) for (const d of e.ders) unique.set(parsed(d).sha256, d);
  const problems: string[] = [];
  const views = await mapLimit([...unique.values()], 4, openssl);
  for (const [i, [sha, der]] of [...unique].entries()) {
    const c = parsed(der);
    const o = views[i];
    const check = (what: string, ours: unknown, theirs: unknown) => {
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) problems.push(`${sha.slice(0, 12)} ${what}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
    };
    // openssl fingerprints its re-encoding; for the rare non-canonical DER that is not the wire bytes.
    if (o.reencodedLength === der.length) check('sha256', c.sha256, o.sha256);
    else check('sha256', c.sha256, createHash('sha256').update(der).digest('hex'));
    check('serial', BigInt(`0x${c.serialNumber || '0'}`).toString(16), BigInt(`0x${o.serial || '0'}`).toString(16));
    // openssl names OIDs from its object table even where X.520 has no attribute (2.5.29.17 in a
    // subject, tls-subjectaltname); RFC 4514 writes such types as dotted OIDs.
    const asOid = (name: string) => name.replace(/(^|,)subjectAltName=/g, '$12.5.29.17=');
    check('subject', c.subject, asOid(o.subject));
    check('issuer', c.issuer, asOid(o.issuer));
    check('notBefore', c.validFrom, o.notBefore);
    check('notAfter', c.validTo, o.notAfter);
    const ourSan = [...c.sanDns.map((d) => `DNS:${d}`), ...c.sanIp.map((i) => `IP Address:${i.toUpperCase()}`)].sort();
    // A NUL inside a dNSName (tls-altname-zero) makes openssl dump the extension raw; we keep the names.
    if (o.san === undefined) check('san with NUL', ourSan.some((n) => n.includes('\0')), true);
    else check('san', ourSan, [...o.san].sort());
    // OpenSSL 3.0 has no name for ML-DSA and prints the OID.
    check('signature', /^\d+(\.\d+)+$/.test(o.signature) ? c.signatureAlgorithmOid : c.signatureAlgorithm, o.signature);
    if (o.keyBits !== undefined) check('keyBits', c.keyBits, o.keyBits);
    check('weakSignature', c.weakSignature, /^(md2|md5|sha1|dsaWithSHA1|ecdsa-with-SHA1)/i.test(o.signature));
    check('ca', c.isCa, o.ca);
  }
  t.diagnostic(`${unique.size} distinct certificates compared with openssl x509`);
  assert.deepEqual(problems, []);
});

test('self-signed: issuer equals subject and the signature verifies with its own key', async () => {
  let selfSigned = 0;
  for (const e of extracted) {
    for (const d of e.ders) {
      const c = parsed(d);
      if (c.selfSigned) {
        selfSigned++;
        assert.ok(c.subjectDer.equals(c.issuerDer));
        const o = await openssl(d);
        assert.equal(o.subject, o.issuer);
      }
    }
  }
  assert.ok(selfSigned > 0);
});

test('CurveBall (CVE-2020-0601): an EC key with explicit curve parameters is flagged', () => {
  const e = extracted.find((x) => x.capture.endsWith('badcurveball.pcap'));
  assert.ok(e);
  const explicit = e.ders.map(parsed).filter((c) => c.curve === 'explicit');
  assert.equal(explicit.length, 1);
  assert.equal(explicit[0].keyType, 'ec');
  assert.equal(explicit[0].keyBits, 384);
});

test('parse failures are values: garbage, truncation, trailing bytes', () => {
  const der = extracted.find((e) => e.ders.length > 0)!.ders[0];
  for (const cut of [0, 1, 2, 10, 100, der.length - 1]) {
    const r = parseCertificateDer(der.subarray(0, cut));
    assert.equal(r.kind, 'malformed', `cut at ${cut}`);
  }
  assert.equal(parseCertificateDer(Buffer.concat([der, Buffer.from([0])])).kind, 'malformed');
  assert.equal(parseCertificateDer(Buffer.from('not a certificate')).kind, 'malformed');
  let seed = 3;
  for (let i = 0; i < 500; i++) {
    const copy = Buffer.from(der);
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    copy[seed % copy.length] ^= 1 << (seed % 8);
    assert.doesNotThrow(() => parseCertificateDer(copy));
  }
});

function fakeCert(sanDns: string[], cn?: string, sanIp: string[] = []): CertificateInfo {
  const real = parsed(extracted.find((e) => e.ders.length > 0)!.ders[0]);
  return { ...real, sanDns, sanIp, subjectCommonName: cn };
}

test('nameMatches follows RFC 6125: left-most whole-label wildcard, one label, SAN before CN', () => {
  const c = fakeCert(['*.example.com', 'ftp.example.org']);
  assert.equal(nameMatches(c, 'files.example.com'), true);
  assert.equal(nameMatches(c, 'FILES.Example.COM.'), true);
  assert.equal(nameMatches(c, 'example.com'), false);
  assert.equal(nameMatches(c, 'a.b.example.com'), false);
  assert.equal(nameMatches(c, 'ftp.example.org'), true);
  assert.equal(nameMatches(c, 'www.example.org'), false);
  assert.equal(nameMatches(fakeCert(['*.com']), 'example.com'), false);
  assert.equal(nameMatches(fakeCert(['f*.example.com']), 'ftp.example.com'), false);
  assert.equal(nameMatches(fakeCert(['www.*.example.com']), 'www.a.example.com'), false);
  // CN only counts when there is no DNS SAN.
  assert.equal(nameMatches(fakeCert([], 'ftp.example.net'), 'ftp.example.net'), true);
  assert.equal(nameMatches(fakeCert(['other.example.net'], 'ftp.example.net'), 'ftp.example.net'), false);
  // IP literals match iPAddress SANs only.
  assert.equal(nameMatches(fakeCert(['10.0.0.1'], undefined, ['10.0.0.1']), '10.0.0.1'), true);
  assert.equal(nameMatches(fakeCert(['10.0.0.2'], '10.0.0.2'), '10.0.0.2'), false);
  assert.equal(nameMatches(fakeCert([], undefined, ['2001:db8::1']), '2001:DB8:0:0:0:0:0:1'), true);
});

test('validAt uses the validity window in epoch microseconds', () => {
  const c = parsed(extracted.find((e) => e.ders.length > 0)!.ders[0]);
  assert.equal(validAt(c, c.validFrom), true);
  assert.equal(validAt(c, c.validTo), true);
  assert.equal(validAt(c, c.validFrom - 1), false);
  assert.equal(validAt(c, c.validTo + 1), false);
});
