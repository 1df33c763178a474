/**
 * X.509 certificates from TLS Certificate messages (RFC 5280). The DER walker reads the
 * structure (names, validity, SANs, algorithm OIDs); node:crypto's X509Certificate supplies
 * the public key details and the self-signature check.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { type DerNode, TAG, derBytes, derChildren, derContent, derNode, derOid, derString, derTime } from './der.js';
import { type Malformed, malformed } from './reader.js';

export interface NameAttribute {
  oid: string;
  /** Short name (CN, O, OU, C, …) or the dotted OID when unknown. */
  type: string;
  value: string;
}

export interface CertificateInfo {
  kind: 'certificate';
  der: Buffer;
  /**
   * Lowercase hex SHA-256 of the certificate bytes as sent (as Zeek computes it). OpenSSL's
   * fingerprint re-encodes first and differs for the odd non-canonical DER certificate.
   */
  sha256: string;
  /** Lowercase hex, as encoded (leading zero byte kept). */
  serialNumber: string;
  version: number;
  /** RFC 4514 string, most specific attribute first (CN=…,O=…,C=…). */
  subject: string;
  issuer: string;
  /** Attributes in DER order (least specific first). */
  subjectAttributes: NameAttribute[];
  issuerAttributes: NameAttribute[];
  subjectCommonName?: string;
  subjectDer: Buffer;
  issuerDer: Buffer;
  /** Epoch microseconds. */
  validFrom: number;
  validTo: number;
  sanDns: string[];
  sanIp: string[];
  sanEmail: string[];
  sanUri: string[];
  /** basicConstraints cA, when the extension is present. */
  isCa?: boolean;
  /** 'rsa', 'ec', 'ed25519', 'dsa', … (node's asymmetricKeyType), or the SPKI OID name. */
  keyType: string;
  keyBits?: number;
  /**
   * EC named curve (OpenSSL name, e.g. prime256v1), or 'explicit' when the key spells out its
   * curve parameters instead of naming one (the CVE-2020-0601 "CurveBall" trick).
   */
  curve?: string;
  publicKeyAlgorithmOid: string;
  signatureAlgorithmOid: string;
  /** OpenSSL's long name (sha256WithRSAEncryption, ecdsa-with-SHA256 …) or the OID. */
  signatureAlgorithm: string;
  /** MD2, MD5 or SHA-1 signature. */
  weakSignature: boolean;
  selfSigned: boolean;
}

const NAME_TYPES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L',
  '2.5.4.8': 'ST', '2.5.4.9': 'street', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'title',
  '2.5.4.13': 'description', '2.5.4.15': 'businessCategory', '2.5.4.17': 'postalCode', '2.5.4.42': 'GN',
  '2.5.4.43': 'initials', '2.5.4.46': 'dnQualifier', '2.5.4.65': 'pseudonym', '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID', '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress', '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST', '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** OpenSSL's names, so output reads like `openssl x509 -text`. */
const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption', '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption', '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption', '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption', '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.3.14.3.2.29': 'sha1WithRSA', '1.2.840.10040.4.3': 'dsaWithSHA1', '2.16.840.1.101.3.4.3.2': 'dsa_with_SHA256',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1', '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256', '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512', '1.3.101.112': 'ED25519', '1.3.101.113': 'ED448',
  '2.16.840.1.101.3.4.3.17': 'ML-DSA-44', '2.16.840.1.101.3.4.3.18': 'ML-DSA-65',
  '2.16.840.1.101.3.4.3.19': 'ML-DSA-87', '1.2.156.10197.1.501': 'SM2-with-SM3',
};
const WEAK_SIGNATURES = new Set(['1.2.840.113549.1.1.2', '1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5',
  '1.3.14.3.2.29', '1.2.840.10040.4.3', '1.2.840.10045.4.1']);

const KEY_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'rsa', '1.2.840.113549.1.1.10': 'rsa-pss', '1.2.840.10045.2.1': 'ec',
  '1.2.840.10040.4.1': 'dsa', '1.3.101.110': 'x25519', '1.3.101.111': 'x448', '1.3.101.112': 'ed25519',
  '1.3.101.113': 'ed448', '2.16.840.1.101.3.4.3.17': 'ml-dsa-44', '2.16.840.1.101.3.4.3.18': 'ml-dsa-65',
  '2.16.840.1.101.3.4.3.19': 'ml-dsa-87',
};
const CURVE_BITS: Record<string, number> = {
  prime192v1: 192, secp224r1: 224, prime256v1: 256, secp256k1: 256, secp384r1: 384, secp521r1: 521,
  brainpoolP256r1: 256, brainpoolP384r1: 384, brainpoolP512r1: 512,
};

const OID = { SAN: '2.5.29.17', BASIC_CONSTRAINTS: '2.5.29.19' };

type Nodes = DerNode[];
const isMal = (x: unknown): x is Malformed => typeof x === 'object' && x !== null && 'kind' in x;

/** Parses one DER certificate. Never throws: bad DER gives a malformed result. */
export function parseCertificateDer(der: Buffer): CertificateInfo | Malformed {
  const root = derNode(der, 0);
  if (isMal(root)) return root;
  if (root.tag !== TAG.SEQUENCE) return malformed(0, 'certificate is not a SEQUENCE');
  if (root.end !== der.length) return malformed(root.end, `${der.length - root.end} bytes after the certificate`);
  const top = derChildren(der, root);
  if (isMal(top)) return top;
  if (top.length !== 3 || top[0].tag !== TAG.SEQUENCE || top[1].tag !== TAG.SEQUENCE || top[2].tag !== TAG.BIT_STRING) {
    return malformed(root.contentStart, 'certificate is not tbsCertificate, signatureAlgorithm, signatureValue');
  }
  const tbs = derChildren(der, top[0]);
  if (isMal(tbs)) return tbs;
  let i = 0;
  let version = 1;
  if (tbs[0]?.tag === 0xa0) {
    const v = derNode(der, tbs[0].contentStart, tbs[0].end);
    if (isMal(v)) return v;
    const encoded = derContent(der, v);
    version = (encoded.length > 0 ? encoded[encoded.length - 1] : 0) + 1;
    i = 1;
  }
  const [serial, , issuerNode, validityNode, subjectNode, spkiNode] = tbs.slice(i);
  if (!spkiNode || serial.tag !== TAG.INTEGER || issuerNode.tag !== TAG.SEQUENCE || validityNode.tag !== TAG.SEQUENCE ||
    subjectNode.tag !== TAG.SEQUENCE || spkiNode.tag !== TAG.SEQUENCE) {
    return malformed(top[0].contentStart, 'tbsCertificate fields out of shape');
  }
  const issuerAttributes = parseName(der, issuerNode);
  const subjectAttributes = parseName(der, subjectNode);
  if (isMal(issuerAttributes)) return issuerAttributes;
  if (isMal(subjectAttributes)) return subjectAttributes;
  const validity = derChildren(der, validityNode);
  if (isMal(validity)) return validity;
  const validFrom = validity[0] && derTime(validity[0].tag, derContent(der, validity[0]));
  const validTo = validity[1] && derTime(validity[1].tag, derContent(der, validity[1]));
  if (validFrom === undefined || validTo === undefined) return malformed(validityNode.start, 'unreadable validity times');
  const signatureAlgorithmOid = algorithmOid(der, top[1]);
  const spki = derChildren(der, spkiNode);
  if (isMal(spki) || spki.length < 2 || spki[0].tag !== TAG.SEQUENCE) return malformed(spkiNode.start, 'bad subjectPublicKeyInfo');
  const publicKeyAlgorithmOid = algorithmOid(der, spki[0]);
  if (!signatureAlgorithmOid || !publicKeyAlgorithmOid) return malformed(top[1].start, 'bad AlgorithmIdentifier');

  const info: CertificateInfo = {
    kind: 'certificate', der, sha256: createHash('sha256').update(der).digest('hex'),
    serialNumber: derContent(der, serial).toString('hex'), version,
    subject: rfc4514(subjectAttributes), issuer: rfc4514(issuerAttributes), subjectAttributes, issuerAttributes,
    subjectCommonName: [...subjectAttributes].reverse().find((a) => a.type === 'CN')?.value,
    subjectDer: derBytes(der, subjectNode), issuerDer: derBytes(der, issuerNode), validFrom, validTo,
    sanDns: [], sanIp: [], sanEmail: [], sanUri: [],
    keyType: KEY_ALGORITHMS[publicKeyAlgorithmOid] ?? publicKeyAlgorithmOid, publicKeyAlgorithmOid,
    signatureAlgorithmOid, signatureAlgorithm: SIGNATURE_ALGORITHMS[signatureAlgorithmOid] ?? signatureAlgorithmOid,
    weakSignature: WEAK_SIGNATURES.has(signatureAlgorithmOid), selfSigned: false,
  };
  const extensions = tbs.slice(i).find((n) => n.tag === 0xa3);
  if (extensions) {
    const problem = readExtensions(der, extensions, info);
    if (problem) return problem;
  }
  if (info.keyType === 'ec') readExplicitCurve(der, spki[0], info);
  addNodeCryptoFacts(info);
  return info;
}

/**
 * RFC 3279 §2.3.5: ECParameters ::= SEQUENCE { version, fieldID, curve, base, order, cofactor }
 * in place of a named-curve OID. The key size is the bit length of the group order.
 */
function readExplicitCurve(der: Buffer, algorithmIdentifier: DerNode, info: CertificateInfo): void {
  const parts = derChildren(der, algorithmIdentifier);
  if (isMal(parts) || parts[1]?.tag !== TAG.SEQUENCE) return;
  info.curve = 'explicit';
  const params = derChildren(der, parts[1]);
  const order = isMal(params) ? undefined : params[4];
  if (order?.tag !== TAG.INTEGER) return;
  const bytes = derContent(der, order);
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  info.keyBits = (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]));
}

function algorithmOid(der: Buffer, algorithmIdentifier: DerNode): string | undefined {
  const parts = derChildren(der, algorithmIdentifier);
  if (isMal(parts) || parts.length === 0 || parts[0].tag !== TAG.OID) return undefined;
  return derOid(derContent(der, parts[0]));
}

function parseName(der: Buffer, name: DerNode): NameAttribute[] | Malformed {
  const out: NameAttribute[] = [];
  const rdns = derChildren(der, name);
  if (isMal(rdns)) return rdns;
  for (const rdn of rdns) {
    const atvs = rdn.tag === TAG.SET ? derChildren(der, rdn) : malformed(rdn.start, 'RDN is not a SET');
    if (isMal(atvs)) return atvs;
    for (const atv of atvs) {
      const pair = derChildren(der, atv);
      if (isMal(pair)) return pair;
      if (pair.length !== 2 || pair[0].tag !== TAG.OID) return malformed(atv.start, 'bad AttributeTypeAndValue');
      const oid = derOid(derContent(der, pair[0])) ?? '?';
      const text = derString(pair[1].tag, derContent(der, pair[1]));
      // RFC 4514 §2.4: values of non-string types are written as # and the BER hex.
      out.push({ oid, type: NAME_TYPES[oid] ?? oid, value: text ?? `#${derBytes(der, pair[1]).toString('hex')}` });
    }
  }
  return out;
}

/** RFC 4514 §2: RDNs in reverse order, special characters escaped. */
function rfc4514(attributes: NameAttribute[]): string {
  return [...attributes].reverse().map((a) => `${a.type}=${escapeValue(a.value)}`).join(',');
}

function escapeValue(value: string): string {
  if (value.startsWith('#') && /^#[0-9a-f]+$/.test(value)) return value;
  let s = value.replace(/[\\"+,;<>]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (s.startsWith(' ') || s.startsWith('#')) s = `\\${s}`;
  if (s.endsWith(' ') && s.length > 1) s = `${s.slice(0, -1)}\\ `;
  return s;
}

function readExtensions(der: Buffer, wrapper: DerNode, info: CertificateInfo): Malformed | undefined {
  const seq = derNode(der, wrapper.contentStart, wrapper.end);
  if (isMal(seq)) return seq;
  const list = derChildren(der, seq);
  if (isMal(list)) return list;
  for (const ext of list) {
    const parts = derChildren(der, ext);
    if (isMal(parts)) return parts;
    if (parts.length < 2 || parts[0].tag !== TAG.OID) return malformed(ext.start, 'bad Extension');
    const oid = derOid(derContent(der, parts[0]));
    const value = parts[parts.length - 1];
    if (value.tag !== TAG.OCTET_STRING) return malformed(value.start, 'extnValue is not an OCTET STRING');
    const inner = derNode(der, value.contentStart, value.end);
    if (oid === OID.SAN) {
      if (isMal(inner)) return inner;
      const names = derChildren(der, inner);
      if (isMal(names)) return names;
      readGeneralNames(der, names, info);
    } else if (oid === OID.BASIC_CONSTRAINTS && !isMal(inner)) {
      const fields = derChildren(der, inner);
      info.isCa = !isMal(fields) && fields[0]?.tag === TAG.BOOLEAN && der[fields[0].contentStart] !== 0;
    }
  }
  return undefined;
}

function readGeneralNames(der: Buffer, names: Nodes, info: CertificateInfo): void {
  for (const n of names) {
    const content = derContent(der, n);
    switch (n.tag) {
      case 0x81: info.sanEmail.push(content.toString('latin1')); break;
      case 0x82: info.sanDns.push(content.toString('latin1')); break;
      case 0x86: info.sanUri.push(content.toString('latin1')); break;
      case 0x87: info.sanIp.push(formatIp(content)); break;
    }
  }
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return compressIpv6(groups);
  }
  return `#${bytes.toString('hex')}`;
}

/** RFC 5952 §4.2: the longest run (≥ 2) of zero groups becomes "::". */
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) { best = i; bestLength = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

function addNodeCryptoFacts(info: CertificateInfo): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(info.der);
  } catch {
    return; // OpenSSL refused it; the DER-level facts stand
  }
  try {
    const key = x509.publicKey;
    info.keyType = key.asymmetricKeyType ?? info.keyType;
    const details = key.asymmetricKeyDetails;
    if (details?.modulusLength) info.keyBits = details.modulusLength;
    if (details?.namedCurve && details.namedCurve !== 'UNDEF') {
      info.curve = details.namedCurve;
      info.keyBits = CURVE_BITS[details.namedCurve];
    }
    if (info.keyType === 'ed25519' || info.keyType === 'x25519') info.keyBits = 256;
    if (info.keyType === 'ed448') info.keyBits = 456;
    if (info.keyType === 'x448') info.keyBits = 448;
    info.selfSigned = info.subjectDer.equals(info.issuerDer) && x509.verify(key);
  } catch {
    // Key algorithms OpenSSL 3.0 does not know (ML-DSA …): keep the OID-derived key type.
  }
}

export function validAt(cert: CertificateInfo, tsMicros: number): boolean {
  return cert.validFrom <= tsMicros && tsMicros <= cert.validTo;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Whether `host` is a name the certificate vouches for (RFC 6125 §6.4). DNS-IDs from the SAN;
 * the subject CN only when the SAN has no DNS names. A wildcard is accepted only as the whole
 * left-most label, matches exactly one label, and needs two labels after it. IP literals
 * match iPAddress SANs only.
 */
export function nameMatches(cert: Pick<CertificateInfo, 'sanDns' | 'sanIp' | 'subjectCommonName'>, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (IPV4.test(h) || h.includes(':')) {
    const wanted = normalizeIp(h);
    return cert.sanIp.some((ip) => normalizeIp(ip) === wanted);
  }
  const names = cert.sanDns.length > 0 ? cert.sanDns : cert.subjectCommonName ? [cert.subjectCommonName] : [];
  return names.some((n) => dnsIdMatches(n.toLowerCase().replace(/\.$/, ''), h));
}

function dnsIdMatches(pattern: string, host: string): boolean {
  if (!pattern.includes('*')) return pattern === host;
  const labels = pattern.split('.');
  if (labels[0] !== '*' || labels.slice(1).some((l) => l.includes('*')) || labels.length < 3) return false;
  const hostLabels = host.split('.');
  if (hostLabels.length !== labels.length || hostLabels[0] === '') return false;
  return hostLabels.slice(1).join('.') === labels.slice(1).join('.');
}

function normalizeIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g || '0', 16).toString(16)).join(':');
}
