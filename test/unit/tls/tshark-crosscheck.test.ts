/**
 * Cross-check against tshark 4.0 on every third-party capture whose ground truth has TLS
 * handshakes: per TCP stream, our JA3 / JA3S, SNI, ALPN, offered cipher suites and
 * supported_versions, and the ServerHello's negotiated version and chosen cipher must equal
 * tshark's (captures/third-party/<file>.tshark.json), except for the disagreements listed in
 * KNOWN_DIFFERENCES, each checked by hand against tshark's own dissection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manifest, thirdParty, tsharkTruth, type ManifestEntry } from '../../helpers.js';
import { ja3, ja3s } from '../../../src/proto/tls/fingerprint.js';
import { endpointsKey, mapLimit, tcpStreams, walkConnection } from './tshark-streams.test.js';

interface TruthRecord {
  frame: number; stream: string | null; src: string; dst: string; sport: string; dport: string; handshake_types: number[]; handshake_versions?: string[];
  ciphersuites?: string[]; sni?: string[]; supported_versions?: string[]; alpn?: string[];
  ja3?: string[]; ja3s?: string[];
}

const FIELDS = ['ja3', 'ja3s', 'sni', 'alpn', 'clientCiphers', 'clientVersions', 'serverCiphers', 'serverVersions'] as const;
type Field = typeof FIELDS[number];
type StreamFacts = Record<Field, string[]>;

const empty = (): StreamFacts => ({
  ja3: [], ja3s: [], sni: [], alpn: [], clientCiphers: [], clientVersions: [], serverCiphers: [], serverVersions: [],
});
const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

/**
 * Streams where tshark 4.0.17 is wrong or silent and we are right (checked with `tshark -O tls`),
 * or where the hello is malformed and JA3 has no defined value.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {
  // tshark takes everything after the server's compatibility CCS as encrypted, so it never
  // decodes the real ServerHello that follows the HelloRetryRequest (frame 9).
  'files/zeek/testing/btest/Traces/tls/hrr.pcap|0|ja3s': 'tshark misses the post-HRR ServerHello',
  'files/zeek/testing/btest/Traces/tls/hrr.pcap|0|serverVersions': 'tshark misses the post-HRR ServerHello',
  'files/zeek/testing/btest/Traces/tls/hrr.pcap|0|serverCiphers': 'tshark misses the post-HRR ServerHello',
  // Draft-14 ServerHello has no session id; tshark reads a 192-byte "session id" and cipher 0xacad.
  'files/suricata-verify/tests/tls/tls13-draft14/tls13_draft14.pcap|0|ja3s': 'tshark misparses the draft-14 ServerHello',
  'files/suricata-verify/tests/tls/tls13-draft14/tls13_draft14.pcap|0|serverCiphers': 'tshark misparses the draft-14 ServerHello',
  // Server segments tshark does not put together (no ServerHello in its output at all).
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|ja3s': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|serverVersions': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|serverCiphers': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap|0|alpn': 'tshark shows no ServerHello (its ALPN h2)',
  'files/suricata-verify/tests/tls/tls-subjectaltname/input.pcap|3|ja3s': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-subjectaltname/input.pcap|3|serverVersions': 'tshark shows no ServerHello',
  'files/suricata-verify/tests/tls/tls-subjectaltname/input.pcap|3|serverCiphers': 'tshark shows no ServerHello',
  'files/nDPI/tests/cfgs/default/pcap/tls_multiple_synack_different_seq.pcapng|0|ja3s': 'tshark shows no ServerHello',
  'files/nDPI/tests/cfgs/default/pcap/tls_multiple_synack_different_seq.pcapng|0|serverVersions': 'tshark shows no ServerHello',
  'files/nDPI/tests/cfgs/default/pcap/tls_multiple_synack_different_seq.pcapng|0|serverCiphers': 'tshark shows no ServerHello',
  // Synthetic ServerHello with 256 empty extensions: tshark reads supported_versions past its
  // zero-length body (the next extension's type, 0x002c); we keep legacy_version.
  'files/arkime/tests/pcap/arkime_synthetic.pcap|97|serverVersions': 'tshark reads past an empty supported_versions',
  // Malformed ClientHellos: tshark stops building the JA3 string at the damage ("769,," and
  // "769,<ciphers>,") or drops it; we keep every field, empty where nothing parsed.
  // cipher_suites length overruns the hello: tshark truncates the vector and lists extension
  // bytes as suites; we report the hello as malformed.
  'files/nDPI/tests/cfgs/default/pcap/tls_cipher_lens.pcap|2|clientCiphers': 'cipher_suites overrun: hello rejected',
  'files/nDPI/tests/cfgs/default/pcap/tls_cipher_lens.pcap|4|ja3': 'truncated extensions: no defined JA3',
  'files/nDPI/tests/cfgs/default/pcap/tls_invalid_reads.pcap|0|ja3': 'truncated extensions: no defined JA3',
  'files/nDPI/tests/cfgs/default/pcap/tls_invalid_reads.pcap|2|ja3': 'truncated extensions: no defined JA3',
};

/** Facts per connection, keyed by its endpoints; `label` is tshark's tcp.stream number. */
function truthByStream(records: TruthRecord[]): Map<string, StreamFacts & { label: string }> {
  const out = new Map<string, StreamFacts & { label: string }>();
  for (const r of records) {
    if (r.stream === null || r.stream === undefined || r.stream === '') continue;
    const id = endpointsKey(r.src, r.sport, r.dst, r.dport);
    let t = out.get(id);
    if (!t) out.set(id, (t = { ...empty(), label: r.stream }));
    t.ja3.push(...(r.ja3 ?? []));
    t.ja3s.push(...(r.ja3s ?? []));
    t.sni.push(...(r.sni ?? []));
    t.alpn.push(...(r.alpn ?? []));
    // SSLv2 CLIENT-HELLOs have cipher specs, not ciphersuites, and no JA3 in tshark: skipped.
    if (r.handshake_types.includes(1) && r.ciphersuites) {
      t.clientCiphers.push(r.ciphersuites.join(','));
      t.clientVersions.push(...(r.supported_versions ?? []));
    }
    if (r.handshake_types.includes(2)) {
      t.serverCiphers.push(...(r.ciphersuites ?? []));
      const v = r.supported_versions?.[0] ?? r.handshake_versions?.[0];
      if (v) t.serverVersions.push(v);
    }
  }
  return out;
}

async function ours(entry: ManifestEntry): Promise<Map<string, StreamFacts>> {
  const out = new Map<string, StreamFacts>();
  const eventsByKey = new Map<string, Array<{ frame: number; add: (facts: StreamFacts) => void }>>();
  for (const stream of await tcpStreams(thirdParty(entry.localPath))) {
    // tshark reports per frame: order the hellos by the frame holding their last byte.
    let events = eventsByKey.get(stream.endpoints);
    if (!events) eventsByKey.set(stream.endpoints, (events = []));
    for (const walk of walkConnection(stream).directions) {
      for (const { view, message } of walk.views) {
        const last = message.streamOffset + 4 + message.body.length - 1;
        const frame = walk.dir.segments.find((s) => last >= s.offset && last < s.offset + s.length)?.frame ?? 0;
        if (view.kind === 'client_hello') {
          events.push({ frame, add: (facts) => {
            facts.ja3.push(ja3(view).md5);
            facts.sni.push(...(view.serverNames ?? []));
            facts.alpn.push(...(view.alpn ?? []));
            // tshark has no ciphersuites field at all for an empty list.
            if (view.cipherSuites.length > 0) facts.clientCiphers.push(view.cipherSuites.map(hex4).join(','));
            facts.clientVersions.push(...(view.supportedVersions ?? []).map(hex4));
          } });
        }
        if (view.kind === 'server_hello') {
          events.push({ frame, add: (facts) => {
            facts.ja3s.push(ja3s(view).md5);
            if (view.alpn !== undefined) facts.alpn.push(view.alpn);
            facts.serverCiphers.push(hex4(view.cipherSuite));
            facts.serverVersions.push(hex4(view.negotiatedVersion));
          } });
        }
      }
    }
  }
  for (const [key, events] of eventsByKey) {
    const facts = empty();
    events.sort((a, b) => a.frame - b.frame).forEach((e) => e.add(facts));
    out.set(key, facts);
  }
  return out;
}

/**
 * For tunnelled traffic (GTP-U) the ground truth pairs the outer IP addresses with the inner
 * TCP ports (its fields take the first occurrence); match such a connection by ports alone.
 */
function byPorts(mine: Map<string, StreamFacts>, key: string): StreamFacts | undefined {
  const ports = (k: string) => k.split('|').map((e) => e.split(' ')[1]).sort().join('|');
  const hits = [...mine.entries()].filter(([k]) => ports(k) === ports(key));
  return hits.length === 1 ? hits[0][1] : undefined;
}

test('handshake fields and JA3/JA3S equal tshark on every third-party TLS capture', async (t) => {
  const entries = manifest().filter((e) => {
    const truth = tsharkTruth(e) as { tls?: { records: TruthRecord[] } };
    return truth.tls?.records.some((r) => r.ja3 || r.ja3s);
  });
  const compared: Record<Field, number> = { ...Object.fromEntries(FIELDS.map((f) => [f, 0])) } as Record<Field, number>;
  let streams = 0;
  const unexpected: string[] = [];
  const known: string[] = [];
  await mapLimit(entries, 4, async (entry) => {
    const truth = truthByStream((tsharkTruth(entry) as { tls: { records: TruthRecord[] } }).tls.records);
    const mine = await ours(entry);
    for (const [id, expected] of truth) {
      streams++;
      const got = mine.get(id) ?? byPorts(mine, id) ?? empty();
      for (const field of FIELDS) {
        const key = `${entry.localPath}|${expected.label}|${field}`;
        if (JSON.stringify(got[field]) === JSON.stringify(expected[field])) {
          compared[field] += expected[field].length;
        } else if (KNOWN_DIFFERENCES[key]) {
          known.push(key);
        } else {
          unexpected.push(`${key}: ours ${JSON.stringify(got[field])} tshark ${JSON.stringify(expected[field])}`);
        }
      }
    }
  });
  t.diagnostic(`${entries.length} captures, ${streams} TCP streams; values equal to tshark: ${JSON.stringify(compared)}`);
  t.diagnostic(`${known.length} known, hand-checked disagreements`);
  assert.deepEqual(unexpected, []);
  assert.deepEqual(known.sort(), Object.keys(KNOWN_DIFFERENCES).sort(), 'every known difference still occurs');
  assert.ok(compared.ja3 >= 250 && compared.ja3s >= 240, 'most hellos were compared');
});

test('SSL 2.0-compatible CLIENT-HELLOs: the version tshark reads', async (t) => {
  const entries = manifest().filter((e) => {
    const truth = tsharkTruth(e) as { tls?: { records: TruthRecord[] } };
    return truth.tls?.records.some((r) => r.handshake_types.includes(1) && (r as { record_versions?: string[] }).record_versions?.[0] === '0x0002');
  });
  let compared = 0;
  for (const entry of entries) {
    const expected = (tsharkTruth(entry) as { tls: { records: Array<TruthRecord & { record_versions: string[] }> } }).tls.records
      .filter((r) => r.handshake_types.includes(1) && r.record_versions[0] === '0x0002').map((r) => r.handshake_versions?.[0]);
    const got: string[] = [];
    for (const stream of await tcpStreams(thirdParty(entry.localPath))) {
      for (const walk of walkConnection(stream).directions) {
        for (const r of walk.records) {
          if (r.kind === 'sslv2' && r.clientHello?.kind === 'client_hello') got.push(hex4(r.clientHello.legacyVersion));
        }
      }
    }
    assert.deepEqual(got, expected, entry.localPath);
    compared += got.length;
  }
  t.diagnostic(`${compared} SSLv2 hellos in ${entries.length} captures`);
  assert.ok(compared >= 3);
});
