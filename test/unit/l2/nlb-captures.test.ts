import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { manifest, thirdParty, tsharkTruth, type ManifestEntry } from '../../helpers.js';
import { decodeNlbHeartbeat, NLB_ETHERTYPE, type NlbHeartbeat, type NlbMalformed } from '../../../src/proto/l2/nlb.js';
import { macToString, parseMac, parseMaskedSourceMac, readMac } from '../../../src/proto/l2/cluster-mac.js';

/** What tools/groundtruth.py stores per msnlb frame (tshark 4.0 `-T fields`). */
interface TsharkNlb {
  frame: number; eth_src: string; eth_dst: string; frame_len: number; cap_len: number;
  signature: string | null; version: string | null; unique_host_id: string | null;
  cluster_ip: string | null; host_ip: string | null; my_host_id: string | null;
  default_host_id: string | null; convergence_state: string | null; number_of_port_rules: string | null;
  unique_host_code: string | null; packets_handled: string | null; host_name: string | null;
}

interface RawFrame { no: number; linkType: number; origLen: number; data: Buffer }

/**
 * Just enough of classic pcap and pcapng (SHB/IDB/EPB/SPB) to pull Ethernet frames out of the
 * few third-party files this test needs; the real readers live in src/source and are tested there.
 */
function readFrames(file: Buffer): RawFrame[] {
  const frames: RawFrame[] = [];
  const magicLE = file.readUInt32LE(0);
  if (magicLE === 0x0a0d0d0a) {
    let le = true;
    let linkTypes: number[] = [];
    const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
    for (let off = 0; off + 12 <= file.length;) {
      if (file.readUInt32LE(off) === 0x0a0d0d0a) {
        le = file.readUInt32LE(off + 8) === 0x1a2b3c4d;
        linkTypes = [];
      }
      const type = u32(off);
      const len = u32(off + 4);
      if (type === 1) linkTypes.push(le ? file.readUInt16LE(off + 8) : file.readUInt16BE(off + 8));
      if (type === 6) {
        const caplen = u32(off + 20);
        frames.push({ no: frames.length + 1, linkType: linkTypes[u32(off + 8)], origLen: u32(off + 24), data: file.subarray(off + 28, off + 28 + caplen) });
      }
      if (type === 3) {
        const origLen = u32(off + 8);
        frames.push({ no: frames.length + 1, linkType: linkTypes[0], origLen, data: file.subarray(off + 12, off + 12 + Math.min(origLen, len - 16)) });
      }
      off += len;
    }
    return frames;
  }
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  for (let off = 24; off + 16 <= file.length;) {
    const caplen = u32(off + 8);
    frames.push({ no: frames.length + 1, linkType, origLen: u32(off + 12), data: file.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return frames;
}

/** EtherType and payload of an Ethernet frame, looking through 802.1Q/QinQ tags. */
function ethernetPayload(data: Buffer): { etherType: number; payload: Buffer } | null {
  let off = 12;
  while (off + 2 <= data.length) {
    const t = data.readUInt16BE(off);
    if (t === 0x8100 || t === 0x88a8 || t === 0x9100) { off += 4; continue; }
    return { etherType: t, payload: data.subarray(off + 2) };
  }
  return null;
}

function nlbEntries(): ManifestEntry[] {
  return manifest().filter((e) => {
    if (e.exercises.includes('nlb')) return true;
    const truth = tsharkTruth(e) as { ethertypes?: Record<string, number> };
    return Object.keys(truth.ethertypes ?? {}).some((k) => /^0x(886f|bf01)$/i.test(k));
  });
}

const num = (s: string | null): number | undefined => (s === null ? undefined : Number(s));

/** Every field tshark decoded must match ours; every field tshark could not read, we must not invent. */
function compareToTshark(ours: NlbHeartbeat | NlbMalformed, t: TsharkNlb, where: string): void {
  assert.ok(t.signature !== null, `${where}: tshark saw no signature`);
  const signature = Number(t.signature);
  if (signature >>> 8 !== 0xc0de01) {
    assert.equal(ours.kind, 'malformed', `${where}: foreign signature ${t.signature} must not be a heartbeat`);
    return;
  }
  if (t.cluster_ip === null) {
    // tshark could not even finish the common header: we report it as malformed, keeping the signature.
    assert.equal(ours.kind, 'malformed', where);
    assert.equal((ours as NlbMalformed).signature, signature, where);
    for (const k of ['version', 'unique_host_id', 'host_ip', 'my_host_id', 'packets_handled', 'host_name'] as const) {
      assert.equal(t[k], null, `${where}: tshark has ${k} but the header is short`);
    }
    return;
  }
  assert.notEqual(ours.kind, 'malformed', `${where}: ${JSON.stringify(ours)}`);
  const hb = ours as NlbHeartbeat;
  assert.equal(hb.signature, signature, `${where} signature`);
  assert.equal(hb.versionRaw, num(t.version), `${where} version`);
  assert.equal(hb.uniqueHostId, num(t.unique_host_id), `${where} unique_host_id`);
  assert.equal(hb.clusterIp, t.cluster_ip, `${where} cluster_ip`);
  assert.equal(hb.hostIp, t.host_ip, `${where} host_ip`);
  if (hb.kind === 'membership') {
    assert.equal(hb.myHostId, num(t.my_host_id), `${where} my_host_id`);
    assert.equal(hb.defaultHostId, num(t.default_host_id), `${where} default_host_id`);
    assert.equal(hb.convergenceState, num(t.convergence_state), `${where} convergence_state`);
    assert.equal(hb.numberOfPortRules, num(t.number_of_port_rules), `${where} number_of_port_rules`);
    assert.equal(hb.uniqueHostCode, num(t.unique_host_code), `${where} unique_host_code`);
    assert.equal(hb.packetsHandled, num(t.packets_handled), `${where} packets_handled`);
    // The membership payload is 1496 bytes, so anything captured short of the full frame is cut.
    assert.equal(hb.truncated, t.cap_len < t.frame_len, `${where} truncated`);
  } else if (hb.kind === 'extended') {
    assert.equal(hb.hostName, t.host_name ?? undefined, `${where} host_name`);
  } else {
    assert.equal(t.my_host_id, null, where);
    assert.equal(t.host_name, null, where);
  }
}

test('the manifest lists tcpdump\'s msnlb captures', () => {
  const paths = nlbEntries().map((e) => e.localPath);
  assert.ok(paths.includes('files/tcpdump/tests/msnlb.pcap'), paths.join(', '));
  assert.ok(paths.includes('files/tcpdump/tests/msnlb2.pcapng'), paths.join(', '));
});

for (const entry of nlbEntries()) {
  test(`0x886F frames in ${entry.localPath} decode as tshark decodes them`, () => {
    const truth = tsharkTruth(entry) as { msnlb?: TsharkNlb[] };
    const byFrame = new Map((truth.msnlb ?? []).map((t) => [t.frame, t]));
    let seen = 0;
    for (const f of readFrames(readFileSync(thirdParty(entry.localPath)))) {
      if (f.linkType !== 1) continue;
      const eth = ethernetPayload(f.data);
      if (!eth || eth.etherType !== NLB_ETHERTYPE) continue;
      seen++;
      const t = byFrame.get(f.no);
      assert.ok(t, `frame ${f.no}: EtherType 0x886F but tshark stored no msnlb row`);
      assert.equal(macToString(readMac(f.data, 6)), t.eth_src, `frame ${f.no} eth.src`);
      assert.equal(f.origLen, t.frame_len, `frame ${f.no} frame.len`);
      assert.equal(f.data.length, t.cap_len, `frame ${f.no} frame.cap_len`);
      compareToTshark(decodeNlbHeartbeat(eth.payload), t, `${entry.localPath} frame ${f.no}`);
    }
    assert.equal(seen, byFrame.size, 'every tshark msnlb frame was found');
  });
}

test('msnlb.pcap: two truncated membership heartbeats, exactly as tshark reads them', () => {
  const frames = readFrames(readFileSync(thirdParty('files/tcpdump/tests/msnlb.pcap')));
  assert.equal(frames.length, 2);
  const [a, b] = frames.map((f) => decodeNlbHeartbeat(ethernetPayload(f.data)!.payload));
  // Values from msnlb.pcap.tshark.json (tshark 4.0.17), spelled out.
  assert.deepEqual(a, {
    kind: 'membership', signature: 0xc0de01bf, versionRaw: 518, version: '2.6', uniqueHostId: 2,
    clusterIp: '192.168.100.80', hostIp: '192.168.100.82', truncated: true,
    myHostId: 1, defaultHostId: 0, convergenceState: 1, numberOfPortRules: 9,
    uniqueHostCode: 1329324853, packetsHandled: 80268987,
    teaming: { raw: 0, active: false, master: false, reverseHashing: false, participants: 0, xorClusterIp: 0 },
  });
  assert.equal(b.kind, 'membership');
  if (b.kind !== 'membership') return;
  assert.equal(b.uniqueHostId, 1);
  assert.equal(b.hostIp, '192.168.100.81');
  assert.equal(b.myHostId, 0);
  assert.equal(b.uniqueHostCode, 1329324767);
  assert.equal(b.packetsHandled, 40178855);
});

test('msnlb.pcap agrees with tcpdump\'s own expected output (host priority = unique host id)', () => {
  const out = readFileSync(thirdParty('expected/tcpdump/tests/msnlb.out'), 'utf8');
  const lines = [...out.matchAll(/host priority: (\d+), cluster IP: ([\d.]+), host IP: ([\d.]+)/g)];
  assert.equal(lines.length, 2);
  const frames = readFrames(readFileSync(thirdParty('files/tcpdump/tests/msnlb.pcap')));
  frames.forEach((f, i) => {
    const hb = decodeNlbHeartbeat(ethernetPayload(f.data)!.payload);
    assert.notEqual(hb.kind, 'malformed');
    if (hb.kind === 'malformed') return;
    assert.equal(hb.uniqueHostId, Number(lines[i][1]));
    assert.equal(hb.clusterIp, lines[i][2]);
    assert.equal(hb.hostIp, lines[i][3]);
  });
});

test('msnlb.pcap source MACs are the masked 02-<priority>-<cluster IP>', () => {
  const truth = tsharkTruth(manifest().find((e) => e.localPath === 'files/tcpdump/tests/msnlb.pcap')!) as { msnlb: TsharkNlb[] };
  for (const t of truth.msnlb) {
    assert.deepEqual(parseMaskedSourceMac(parseMac(t.eth_src)!), { priority: Number(t.unique_host_id), ip: t.cluster_ip });
  }
});

test('msnlb2.pcapng (snaplen 20): malformed at the version field, signature kept', () => {
  const frames = readFrames(readFileSync(thirdParty('files/tcpdump/tests/msnlb2.pcapng')));
  assert.equal(frames.length, 2);
  for (const f of frames) {
    const r = decodeNlbHeartbeat(ethernetPayload(f.data)!.payload);
    assert.equal(r.kind, 'malformed');
    if (r.kind !== 'malformed') return;
    // 20 captured bytes − 14 Ethernet = 6: the 4-byte signature and half the version word.
    assert.equal(r.offset, 4);
    assert.equal(r.signature, 0xc0de01bf);
  }
});
