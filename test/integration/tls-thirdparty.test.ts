/**
 * The TLS analyzer through the whole pipeline (analyzeCapture → SQLite → the `--json` document's
 * `tls` section) against tshark 4.0 on every third-party capture whose ground truth has TLS
 * records: per TCP stream, the ClientHello and ServerHello frames, SNI, JA3, JA3S, negotiated
 * version and cipher, ALPN, the certificates each Certificate message carried (frame, position,
 * serial, validity, subject and issuer CN) and the clear alerts. Disagreements are listed in
 * KNOWN_DIFFERENCES, each checked by hand against tshark's own dissection.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { openDb } from '../../src/store/db.js';
import { CaptureWriter } from '../../src/store/writer.js';
import { writeProtocolFacts } from '../../src/store/facts.js';
import { analysisDocument } from '../../src/store/queries.js';
import { PROTOCOLS } from '../../src/protocols.js';
import { tlsDocument } from '../../src/proto/tls/document.js';
import { materialize } from '../../src/store/json-stream.js';
import { manifest, thirdParty, tsharkTruth, type ManifestEntry } from '../helpers.js';
import { tshark } from '../tshark.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-tls-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface TruthRecord {
  frame: number; stream: string | null; src: string; dst: string; sport: string; dport: string;
  handshake_types: number[]; handshake_versions?: string[]; ciphersuites?: string[]; sni?: string[];
  supported_versions?: string[]; alpn?: string[]; ja3?: string[]; ja3s?: string[]; certificate_lengths?: number[];
}
interface TruthCert { frame: number; index_in_frame: number; serial: string; subject: string; issuer: string; notBefore: string; notAfter: string }
interface TruthAlert { frame: number; levels: string[]; descs: string[] }
interface TruthStream { stream: number; a_ip: string; a_port: number; b_ip: string; b_port: number; first_frame: number; last_frame: number }
interface Truth { tcp_streams: TruthStream[]; tls?: { records: TruthRecord[]; certificates: TruthCert[]; alerts: TruthAlert[] } }

export interface DocCert { sha256: string; serialNumber?: string; subject?: string; issuer?: string; commonName?: string | null; validFrom?: string; validTo?: string; selfSigned?: boolean; parseError?: string }
export interface DocHandshake {
  flow: number; frame: number; client: string; clientPort: number; server: string; serverPort: number; sni: string | null;
  version: string | null; versionCode: string | null; cipher: string | null; cipherCode: string | null; alpn: string | null;
  ja3: string | null; ja3s: string | null; ja4: string | null; resumed: boolean | null; clientHelloFrame: number | null;
  serverHelloFrame: number | null; hrrFrame: number | null; firstFrame: number; lastFrame: number; state: string;
  certs: DocCert[]; clientCerts: DocCert[]; decrypted: string; origin: string;
  alerts: Array<{ frame: number; levelCode: number | null; descriptionCode: number | null; visibility: string }>;
  messages: Array<{ from: string; name: string; frame: number; decrypted: boolean }>;
  resumedFrom: { flow: number; by: string } | null; sessionId: string | null; serverSessionId: string | null;
}

/** One capture through analyzeCapture, the SQLite writer and the JSON document, as `faultline analyze --json` does. */
export interface Doc {
  tls: { handshakes: DocHandshake[] };
  findings: Array<{ code: string; frames: number[]; explanation: string; subject: Record<string, unknown>; details: Record<string, unknown> }>;
  captures: Array<{ warnings: Array<{ message: string; frame: number | null }> }>;
  ftp: { sessions: Array<Record<string, unknown>> };
}

export async function analyzeToDocument(path: string, keylog: string | null = null, dbName = 'tls.db'): Promise<{ doc: Doc; dbPath: string }> {
  const dbPath = join(tmp, dbName);
  const db = openDb(dbPath);
  try {
    const writer = new CaptureWriter(db, path, path);
    const result = await analyzeCapture(path, { ...DEFAULT_OPTIONS, keylog }, { flowSink: writer });
    writer.finish(result.facts, result.findings, (d, cid) => writeProtocolFacts(d, cid, result.facts, PROTOCOLS.map((p) => p.writeFacts)));
    let doc: Record<string, unknown>;
    try {
      doc = analysisDocument(db, [writer.captureId], {}, PROTOCOLS.map((p) => p.document));
    } catch (e) {
      // pcapng-example.pcapng has a frame time beyond what Date holds: the core document's
      // capture summary (isoTime) throws on it. The tls section itself is read the same way.
      if (!(e instanceof RangeError)) throw e;
      doc = { tls: materialize(tlsDocument(db, [writer.captureId], {})), findings: [], captures: [{ warnings: [] }], ftp: { sessions: [] } };
    }
    return { doc: JSON.parse(JSON.stringify(doc)) as Doc, dbPath };
  } finally {
    db.close();
  }
}

const KNOWN_DIFFERENCES: Record<string, string> = {
  // tshark 4.0 does not reassemble out-of-order segments by default: the Certificate (and for
  // some, the ServerHello) completed by a late segment never shows in its output.
  'files/zeek/testing/btest/Traces/postgresql/psql-aws-ssl-require.pcap|0|certs': 'tshark drops the out-of-order Certificate',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|serverHelloFrame': 'tshark shows no ServerHello (out of order)',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|certs': 'tshark shows no ServerHello (out of order)',
  'files/nDPI/tests/cfgs/default/pcap/google_ssl.pcap|0|serverHelloFrame': 'tshark shows no ServerHello (lost then retransmitted)',
  'files/nDPI/tests/cfgs/default/pcap/google_ssl.pcap|0|certs': 'tshark shows no ServerHello (lost then retransmitted)',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|ja3s': 'tshark shows no ServerHello (out of order)',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|version': 'tshark shows no ServerHello (out of order)',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|cipher': 'tshark shows no ServerHello (out of order)',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|alpn': 'tshark shows no ServerHello (out of order)',
  'files/nDPI/tests/cfgs/default/pcap/google_ssl.pcap|0|ja3s': 'tshark shows no ServerHello (lost then retransmitted)',
  'files/nDPI/tests/cfgs/default/pcap/google_ssl.pcap|0|version': 'tshark shows no ServerHello (lost then retransmitted)',
  'files/nDPI/tests/cfgs/default/pcap/google_ssl.pcap|0|cipher': 'tshark shows no ServerHello (lost then retransmitted)',
  'files/suricata-verify/tests/tls/tls-subjectaltname/input.pcap|3|serverHelloFrame': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-subjectaltname/input.pcap|3|ja3s': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-subjectaltname/input.pcap|3|version': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-subjectaltname/input.pcap|3|cipher': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-subjectaltname/input.pcap|3|certs': 'tshark shows no ServerHello',
  // A 339,629-byte Certificate message: tshark (-Y tls.handshake.type==11) never shows it.
  'files/zeek/testing/btest/Traces/tls/tls-fragmented-handshake.pcap.gz|0|certs': 'tshark does not decode the 339 KB Certificate',
  // tshark takes everything after the server's compatibility CCS as encrypted and never decodes
  // the real ServerHello after the HelloRetryRequest; our JA3S is that ServerHello's.
  'files/zeek/testing/btest/Traces/tls/hrr.pcap|0|ja3s': 'tshark misses the post-HRR ServerHello',
  // Draft-14 ServerHello has no session id; tshark reads a 192-byte "session id" and cipher 0xacad.
  'files/suricata-verify/tests/tls/tls13-draft14/tls13_draft14.pcap|0|ja3s': 'tshark misparses the draft-14 ServerHello',
  'files/suricata-verify/tests/tls/tls13-draft14/tls13_draft14.pcap|0|cipher': 'tshark misparses the draft-14 ServerHello',
  // Synthetic ServerHello with an empty supported_versions: tshark reads the next extension's type.
  'files/arkime/tests/pcap/arkime_synthetic.pcap|97|version': 'tshark reads past an empty supported_versions',
  // Malformed ClientHellos: we reject the hello (cipher_suites overrun) or keep every field where
  // tshark stops its JA3 at the damage.
  'files/nDPI/tests/cfgs/default/pcap/tls_cipher_lens.pcap|1|clientHelloFrame': 'cipher_suites overrun: hello rejected',
  'files/nDPI/tests/cfgs/default/pcap/tls_cipher_lens.pcap|2|clientHelloFrame': 'cipher_suites odd length: hello rejected',
  'files/nDPI/tests/cfgs/default/pcap/tls_cipher_lens.pcap|4|ja3': 'truncated extensions: no defined JA3',
  'files/nDPI/tests/cfgs/default/pcap/tls_invalid_reads.pcap|0|ja3': 'truncated extensions: no defined JA3',
};

const FIELDS = ['clientHelloFrame', 'sni', 'ja3', 'serverHelloFrame', 'ja3s', 'version', 'cipher', 'alpn', 'certs', 'alerts'] as const;
type Field = typeof FIELDS[number];

function normalize(a: string): string {
  if (!a.includes(':')) return a;
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g || '0', 16).toString(16)).join(':');
}
const pair = (a: string, ap: number | string, b: string, bp: number | string): string => [`${normalize(a)} ${ap}`, `${normalize(b)} ${bp}`].sort().join('|');

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * tshark writes UTCTime as "2011-05-04 00:00:00 (UTC)" (or "(UTC+0530)" with an offset) and
 * GeneralizedTime as "Sep  1, 2015 13:33:37.000000000 UTC": both as our ISO form.
 */
function tsharkTime(t: string): string {
  let m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \(UTC(?:([+-])(\d\d)(\d\d))?\)$/.exec(t);
  if (m) {
    const offset = m[7] ? (m[7] === '+' ? 1 : -1) * (Number(m[8]) * 60 + Number(m[9])) : 0;
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60000;
    return new Date(ms).toISOString().replace('.000Z', '.000000Z');
  }
  m = /^(\w{3}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)\.\d+ UTC$/.exec(t);
  if (m) return new Date(Date.UTC(Number(m[3]), MONTHS.indexOf(m[1]), Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]))).toISOString().replace('.000Z', '.000000Z');
  return t;
}

/** First CN of tshark's "id-at-commonName=…,…" (octal escapes as in "TL\\000"), decoded. */
const cn = (dn: string | undefined): string | null => {
  const v = dn ? /id-at-commonName=([^,]*)/.exec(dn)?.[1] : undefined;
  return v === undefined ? null : v.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
};
/** First CN of our RFC 4514 string, escapes ("\\,", "\\00") decoded. */
const firstCn = (rfc4514: string | undefined): string | null => {
  const v = rfc4514 ? /(?:^|,)CN=((?:\\.|[^,\\])*)/.exec(rfc4514)?.[1] : undefined;
  return v === undefined ? null : v.replace(/\\([0-9a-fA-F]{2}|.)/g, (_, e: string) => (e.length === 2 ? String.fromCharCode(parseInt(e, 16)) : e));
};
/** tshark cuts long subject strings (and misreads some BMPStrings): its CN need only start ours. */
const sameCn = (ours: string | null, theirs: string | null): boolean => ours === theirs || (ours !== null && theirs !== null && theirs.length > 0 && ours.startsWith(theirs));
const hex4 = (s: string | null | undefined): string | null => (s ? `0x${parseInt(s, 16).toString(16).padStart(4, '0')}` : null);

/** The stream's handshake in the document: same endpoints, first TLS frame inside the stream (ports alone for tunnelled traffic). */
function handshakeFor(st: TruthStream, hs: DocHandshake[]): DocHandshake | undefined {
  const inside = (h: DocHandshake) => h.firstFrame >= st.first_frame && h.firstFrame <= st.last_frame;
  const exact = hs.find((h) => inside(h) && pair(h.client, h.clientPort, h.server, h.serverPort) === pair(st.a_ip, st.a_port, st.b_ip, st.b_port));
  if (exact) return exact;
  const ports = hs.filter((h) => inside(h) && [h.clientPort, h.serverPort].sort().join() === [st.a_port, st.b_port].sort().join());
  return ports.length === 1 ? ports[0] : undefined;
}

function compareStream(recs: TruthRecord[], truth: Truth, h: DocHandshake | undefined): Record<Field, [unknown, unknown]> | 'missing' | null {
  const ch = recs.find((r) => r.handshake_types.includes(1));
  const shs = recs.filter((r) => r.handshake_types.includes(2));
  if (!h) return ch || shs.length > 0 ? 'missing' : null;
  const out = {} as Record<Field, [unknown, unknown]>;
  out.clientHelloFrame = [h.clientHelloFrame, ch?.frame ?? null];
  out.sni = [h.sni, recs.find((r) => r.sni)?.sni?.[0] ?? null];
  // tshark has no JA3 for SSL 2.0-compatible hellos: nothing to compare there.
  out.ja3 = ch?.ja3 ? [h.ja3, ch.ja3[0]] : [null, null];
  // SSL 2.0 server hellos are compared separately (tshark's records carry SSLv2 message types).
  const sslv2 = h.version === 'SSL 2.0';
  const last = shs[shs.length - 1];
  out.serverHelloFrame = sslv2 ? [null, null] : [h.hrrFrame ?? h.serverHelloFrame, shs[0]?.frame ?? null];
  out.ja3s = sslv2 ? [null, null] : [h.ja3s, last?.ja3s?.[0] ?? null];
  const i = last ? last.handshake_types.indexOf(2) : -1;
  out.version = sslv2 ? [null, null] : [h.versionCode, last ? hex4(last.supported_versions?.[0] ?? last.handshake_versions?.[i]) : null];
  out.cipher = sslv2 ? [null, null] : [h.cipherCode, last ? hex4(last.ciphersuites?.[0]) : null];
  out.alpn = [h.alpn, last?.alpn?.[0] ?? null];
  // Certificates per Certificate message: tshark also lists the OCSP responder's certificate of a
  // CertificateStatus in the same frame, so only the first certificate_lengths.length count.
  const ours: Array<{ key: string; subject: string | null; issuer: string | null }> = [];
  for (const [list, from] of [[h.certs, 'server'], [h.clientCerts, 'client']] as const) {
    const frame = h.messages.find((m) => m.from === from && m.name === 'certificate')?.frame;
    list.forEach((c, idx) => {
      if (!c.parseError && !sslv2) ours.push({ key: `${frame}/${idx}/${c.serialNumber}/${c.validFrom}/${c.validTo}`, subject: firstCn(c.subject), issuer: firstCn(c.issuer) });
    });
  }
  const theirs: Array<{ key: string; subject: string | null; issuer: string | null }> = [];
  for (const r of recs) {
    const n = r.certificate_lengths?.length ?? 0;
    for (const c of truth.tls!.certificates.filter((x) => x.frame === r.frame && x.index_in_frame < n)) {
      theirs.push({ key: `${c.frame}/${c.index_in_frame}/${c.serial}/${tsharkTime(c.notBefore)}/${tsharkTime(c.notAfter)}`, subject: cn(c.subject), issuer: cn(c.issuer) });
    }
  }
  const same = ours.length === theirs.length && ours.every((o, k) => o.key === theirs[k].key && sameCn(o.subject, theirs[k].subject) && sameCn(o.issuer, theirs[k].issuer));
  const show = (l: typeof ours) => l.map((c) => `${c.key}/${c.subject}/${c.issuer}`);
  out.certs = same ? [show(theirs), show(theirs)] : [show(ours), show(theirs)];
  out.alerts = [
    h.alerts.filter((a) => a.visibility === 'clear').map((a) => `${a.frame}:${a.levelCode}/${a.descriptionCode}`),
    truth.tls!.alerts.filter((a) => recs.some((r) => r.frame === a.frame)).flatMap((a) => a.levels.map((l, k) => `${a.frame}:${l}/${a.descs[k]}`)),
  ];
  return out;
}

function tlsEntries(): ManifestEntry[] {
  return manifest().filter((e) => (tsharkTruth(e) as unknown as Truth).tls?.records.some((r) => r.stream !== null) && !e.localPath.endsWith('.zst'));
}

test('handshakes and certificates in the --json document equal tshark on every third-party TLS capture', async (t) => {
  const entries = tlsEntries();
  const compared: Record<Field, number> = Object.fromEntries(FIELDS.map((f) => [f, 0])) as Record<Field, number>;
  const unexpected: string[] = [];
  const known: string[] = [];
  let streams = 0;
  for (const entry of entries) {
    const truth = tsharkTruth(entry) as unknown as Truth;
    const { doc } = await analyzeToDocument(thirdParty(entry.localPath));
    const byStream = new Map<string, TruthRecord[]>();
    for (const r of truth.tls!.records) {
      if (r.stream === null) continue;
      const list = byStream.get(r.stream) ?? [];
      list.push(r);
      byStream.set(r.stream, list);
    }
    for (const [sid, recs] of byStream) {
      const st = truth.tcp_streams.find((s) => String(s.stream) === sid);
      if (!st) continue;
      const res = compareStream(recs, truth, handshakeFor(st, doc.tls.handshakes));
      if (res === null) continue;
      streams++;
      if (res === 'missing') { unexpected.push(`${entry.localPath}|${sid}: no handshake in the document`); continue; }
      for (const field of FIELDS) {
        const [ours, theirs] = res[field];
        const key = `${entry.localPath}|${sid}|${field}`;
        if (JSON.stringify(ours) === JSON.stringify(theirs)) compared[field] += Array.isArray(theirs) ? theirs.length : theirs === null ? 0 : 1;
        else if (KNOWN_DIFFERENCES[key]) known.push(key);
        else unexpected.push(`${key}: ours ${JSON.stringify(ours)} tshark ${JSON.stringify(theirs)}`);
      }
    }
  }
  t.diagnostic(`${entries.length} captures, ${streams} TLS streams; values equal to tshark: ${JSON.stringify(compared)}`);
  assert.deepEqual(unexpected, []);
  assert.deepEqual(known.sort(), Object.keys(KNOWN_DIFFERENCES).sort(), 'every known difference still occurs');
  assert.ok(compared.ja3 >= 250 && compared.ja3s >= 240 && compared.certs >= 300, 'most handshakes and certificates were compared');
});

test('SSL 2.0: the SERVER-HELLO\'s version and certificate and the CLIENT-MASTER-KEY\'s cipher, as tshark reads them', async () => {
  const path = thirdParty('files/zeek/testing/btest/Traces/tls/ssl-v2.pcap');
  const rows = tshark(['-r', path, '-Y', 'tls.handshake.type', '-T', 'fields', '-e', 'frame.number', '-e', 'tls.handshake.type',
    '-e', 'tls.handshake.version', '-e', 'tls.handshake.cipherspec', '-e', 'x509af.serialNumber']).trim().split('\n').map((l) => l.split('\t'));
  const serverHello = rows.find((r) => r[1] === '4')!;
  const masterKey = rows.find((r) => r[1] === '2')!;
  const { doc } = await analyzeToDocument(path);
  const [h] = doc.tls.handshakes;
  assert.equal(h.serverHelloFrame, Number(serverHello[0]));
  assert.equal(h.versionCode, serverHello[2]);
  assert.equal(h.version, 'SSL 2.0');
  assert.equal(parseInt(h.cipherCode!, 16), parseInt(masterKey[3], 16));
  assert.equal(h.cipher, 'SSL2_DES_192_EDE3_CBC_WITH_MD5');
  assert.equal(h.certs[0].serialNumber, serverHello[4]);
  assert.equal(h.state, 'completed');
  assert.ok(doc.findings.some((f) => f.code === 'TLS_WEAK_VERSION' && f.frames.includes(h.serverHelloFrame!)));
});

test('the tls section has the contract\'s fields and SQLite keeps certificates once per capture', async () => {
  const path = thirdParty('files/zeek/testing/btest/Traces/tls/google-cert-repeat.pcap');
  const truth = tsharkTruth(manifest().find((e) => e.localPath.endsWith('google-cert-repeat.pcap'))!) as unknown as Truth;
  const { doc, dbPath } = await analyzeToDocument(path, null, 'repeat.db');
  const hs = doc.tls.handshakes;
  assert.ok(hs.length > 1);
  for (const h of hs) {
    for (const k of ['frame', 'client', 'server', 'sni', 'version', 'cipher', 'ja3', 'ja4', 'resumed', 'certs', 'clientPort', 'serverPort', 'ts', 'ja3s', 'alpn', 'alerts']) {
      assert.ok(k in h, `handshake field ${k}`);
    }
    for (const c of h.certs) {
      for (const k of ['subject', 'issuer', 'sanDns', 'sanIp', 'validFrom', 'validTo', 'keyType', 'keyBits', 'curve', 'signatureAlgorithm', 'sha256', 'serialNumber', 'selfSigned']) {
        assert.ok(k in c, `certificate field ${k}`);
      }
    }
  }
  // Every certificate tshark saw, distinct by serial and subject, is one row.
  const distinct = new Set(truth.tls!.certificates.map((c) => `${c.serial}|${c.subject}`));
  const { default: Database } = await import('better-sqlite3');
  const d = new Database(dbPath, { readonly: true });
  const count = (sql: string): number => (d.prepare(sql).get() as { n: number }).n;
  assert.equal(count('SELECT COUNT(*) AS n FROM tls_certificates'), distinct.size);
  assert.equal(count('SELECT COUNT(*) AS n FROM tls_handshake_certs'), hs.reduce((n, h) => n + h.certs.length + h.clientCerts.length, 0));
  assert.equal(count('SELECT COUNT(*) AS n FROM tls_handshakes'), hs.length);
  assert.equal(count(`SELECT COUNT(*) AS n FROM tls_handshakes t JOIN flows f ON f.capture_id = t.capture_id AND f.idx = t.flow WHERE f.app = 'tls'`), hs.length);
  d.close();
});

test('TLS after a plain-text STARTTLS exchange is found where tshark\'s protocol dissectors find it', async () => {
  for (const rel of ['files/zeek/testing/btest/Traces/tls/smtp-starttls.pcap', 'files/zeek/testing/btest/Traces/tls/imap-starttls.pcap',
    'files/zeek/testing/btest/Traces/tls/pop3-starttls.pcap', 'files/zeek/testing/btest/Traces/tls/xmpp-starttls.pcap',
    'files/zeek/testing/btest/Traces/postgresql/psql-aws-ssl-require.pcap']) {
    const path = thirdParty(rel);
    const firstHello = Number(tshark(['-r', path, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'frame.number']).split('\n')[0]);
    const { doc } = await analyzeToDocument(path, null, 'starttls.db');
    const [h] = doc.tls.handshakes;
    assert.equal(h.origin, 'starttls', rel);
    assert.equal(h.clientHelloFrame, firstHello, rel);
    assert.equal(h.state, 'completed', rel);
  }
});
