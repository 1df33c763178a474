/**
 * Community ID v1 (src/flow/community-id.ts) against
 *  - the spec's own reference values (corelight/community-id-spec, baseline/baseline_deflt.json
 *    and baseline_seed1.json: TCP, UDP, SCTP, ICMP, ICMPv6 and a port-less protocol, seeds 0
 *    and 1), and
 *  - tshark 4.0's communityid post-dissector (enabled with --enable-protocol communityid), on
 *    every TCP, UDP, ICMP and ICMPv6 frame of a dozen third-party captures, fed with what
 *    decodePacket found in the frame, and on ICMP/ICMPv6 messages of every type written here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { communityId } from '../../../src/flow/community-id.js';
import { readCapture } from '../../../src/source/open.js';
import { PcapWriter } from '../../../src/source/pcap-writer.js';
import { decodePacket, type Packet } from '../../../src/decode/packet.js';
import { parseIp } from '../../../src/decode/addr.js';
import { manifest, thirdParty } from '../../helpers.js';

const TSHARK = '/usr/bin/tshark';

/** [protocol, src, dst, srcPort or ICMP type, dstPort or ICMP code, id with seed 0, id with seed 1] */
type Vector = [number, string, string, number, number, string, string];

// corelight/community-id-spec baseline (commit c4ec2bc). For ICMP the baseline lists the port
// equivalents; here the message's type and code go in, as the API takes them (the request and
// reply types pair up; code 0 for all of those, as RFC 792/4443 define them).
const SPEC: Vector[] = [
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 135, 0, '1:zavyT/cezQr1fmImYCwYnMXbgck=', '1:2hSqmsDZ2kdcY9kbiUzOEBic0iM='],
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 136, 0, '1:zavyT/cezQr1fmImYCwYnMXbgck=', '1:2hSqmsDZ2kdcY9kbiUzOEBic0iM='],
  [58, '3ffe:501:1800:2345::2', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:2ObVBgIn28oZvibYZhZMBgh7WdQ=', '1:lVEtCZpYu84Xqaa++3lXFyuu2n4='],
  [58, '3ffe:501:410:0:2c0:dfff:fe47:33e', '3ffe:507:0:1:200:86ff:fe05:80da', 1, 4, '1:hLZd0XGWojozrvxqE0dWB1iM6R0=', '1:W8MHwXpWzpoSTD+cGcaJr4u0ys8='],
  [58, '3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:501:0:1001::2', 128, 0, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=', '1:GfZxjAkDk2MkegpBYHV6tadtFXQ='],
  [58, '3ffe:501:0:1001::2', '3ffe:507:0:1:200:86ff:fe05:80da', 129, 0, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=', '1:GfZxjAkDk2MkegpBYHV6tadtFXQ='],
  [58, 'fe80::200:86ff:fe05:80da', 'ff02::2', 133, 0, '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=', '1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8='],
  [58, 'fe80::260:97ff:fe07:69ea', 'ff02::1', 134, 0, '1:pkvHqCL88/tg1k4cPigmZXUtL00=', '1:K/ee5UCqAMAQXDorP5nSa2CGLjc='],
  [1, '192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
  [1, '192.168.0.1', '192.168.0.89', 0, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
  [1, '10.0.0.1', '10.0.0.2', 11, 0, '1:YHxtAirCG//0OzkcVAukqKQN9xM=', '1:XjUibYHaafLQ3pxQeiMI8g25q20='],
  [6, '2001:470:e5bf:dead:4957:2174:e82c:4887', '2607:f8b0:400c:c03::1a', 63943, 25, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=', '1:eJYTW6AOzFLlSUoESovMjnu7rMw='],
  [6, '2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887', 25, 63943, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=', '1:eJYTW6AOzFLlSUoESovMjnu7rMw='],
  [132, '192.168.170.8', '192.168.170.56', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=', '1:5w3ZRjeKBzqT3zsaEECDGjUbYeg='],
  [132, '192.168.170.56', '192.168.170.8', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=', '1:5w3ZRjeKBzqT3zsaEECDGjUbYeg='],
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', '1:3V71V58M3Ksw/yuFALMcW0LAHvc='],
  [6, '66.35.250.204', '128.232.110.120', 80, 34855, '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', '1:3V71V58M3Ksw/yuFALMcW0LAHvc='],
  [17, '192.168.1.52', '8.8.8.8', 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ=', '1:Q9We8WO3piVF8yEQBNJF4uiSVrI='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ=', '1:Q9We8WO3piVF8yEQBNJF4uiSVrI='],
  [46, '10.1.12.1', '10.1.12.2', 0, 0, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=', '1:rYir8gphR31noO9iDRQmF/BteEI='],
  [46, '10.1.12.2', '10.1.12.1', 0, 0, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=', '1:rYir8gphR31noO9iDRQmF/BteEI='],
];

test('the spec\'s baseline values, seed 0 and seed 1', () => {
  for (const [proto, src, dst, sp, dp, id0, id1] of SPEC) {
    assert.equal(communityId(src, dst, proto, sp, dp), id0, `${proto} ${src} ${sp} > ${dst} ${dp}`);
    assert.equal(communityId(src, dst, proto, sp, dp, 1), id1, `${proto} ${src} ${sp} > ${dst} ${dp} seed 1`);
  }
});

test('direction does not matter: the spec\'s 10.0.0.1:1234 <-> 127.0.0.1:80 example, and equal addresses ordered by port', () => {
  assert.equal(communityId('10.0.0.1', '127.0.0.1', 6, 1234, 80), communityId('127.0.0.1', '10.0.0.1', 6, 80, 1234));
  assert.equal(communityId('10.0.0.1', '10.0.0.1', 17, 5353, 53), communityId('10.0.0.1', '10.0.0.1', 17, 53, 5353));
  assert.notEqual(communityId('10.0.0.1', '10.0.0.2', 6, 1, 2), communityId('10.0.0.1', '10.0.0.2', 17, 1, 2));
  // Text that is not an address yields '' (the spec allows an empty ID for what it cannot hash).
  assert.equal(communityId('not-an-ip', '10.0.0.1', 6, 1, 2), '');
});

function tsharkIds(path: string): Map<number, { id: string; protocols: string }> {
  const out = execFileSync(TSHARK, ['-r', path, '-n', '--enable-protocol', 'communityid', '-o', 'ip.defragment:FALSE',
    '-o', 'ipv6.defragment:FALSE', '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.number', '-e', 'communityid', '-e', 'frame.protocols'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 });
  const m = new Map<number, { id: string; protocols: string }>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [no, id, protocols] = line.split('\t');
    m.set(Number(no), { id, protocols });
  }
  return m;
}

/** The Community ID inputs of a decoded frame: innermost IP, protocol, ports or ICMP type/code. */
function ourId(p: Packet): { id: string; kind: string } | null {
  const net = p.net;
  if (net === null || net.kind === 'arp' || p.malformed !== null || p.tunnels !== null || p.fragment) return null;
  const t = p.transport;
  if (t === null) return net.protocol === 132 ? null : { id: communityId(net.src, net.dst, net.protocol, 0, 0), kind: 'other' };
  if (t.kind === 'tcp' || t.kind === 'udp') return { id: communityId(net.src, net.dst, net.protocol, t.srcPort, t.dstPort), kind: t.kind };
  if (t.kind === 'icmp') return { id: communityId(net.src, net.dst, t.version === 4 ? 1 : 58, t.type, t.code), kind: t.version === 4 ? 'icmp' : 'icmpv6' };
  return { id: communityId(net.src, net.dst, net.protocol, 0, 0), kind: 'other' };
}

const CAPTURES = [
  'files/zeek/testing/btest/Traces/linux_dlt_sll2.pcap', 'files/zeek/testing/btest/Traces/ftp/ipv4.pcap',
  'files/zeek/testing/btest/Traces/ftp/ipv6.pcap', 'files/suricata-verify/tests/decode-arp-2/arp.pcap',
  'files/suricata-verify/tests/eve-flow-vlan/input.pcap', 'files/suricata-verify/tests/output-eve-ftp-data/input.pcap',
  'files/suricata-verify/tests/tls-extra-alert/input.pcap', 'files/tcpdump/tests/babel.pcap', 'files/arkime/tests/pcap/dot1ad.pcap',
  'files/arkime/tests/pcap/arkime_synthetic.pcap', 'files/PcapPlusPlus/Tests/Pcap++Test/PcapExamples/IgmpPackets.pcap',
  'files/PcapPlusPlus/Tests/Pcap++Test/PcapExamples/VlanPackets.pcap', 'files/PcapPlusPlus/Tests/Pcap++Test/PcapExamples/null_loopback.pcap',
];

test('equal to tshark\'s communityid on the TCP, UDP, ICMP and ICMPv6 frames of third-party captures', async (t) => {
  assert.ok(existsSync(TSHARK), `${TSHARK} is missing: install the Debian package "tshark" (apt-get install tshark)`);
  const known = new Set(manifest().map((e) => e.localPath));
  const counts: Record<string, number> = {};
  let skipped = 0;
  for (const local of CAPTURES) {
    assert.ok(known.has(local), `${local} is not in the manifest`);
    const truth = tsharkIds(thirdParty(local));
    await readCapture(thirdParty(local), {
      frame: (f) => {
        const ours = ourId(decodePacket(f));
        const theirs = truth.get(f.no);
        // Tunnels (tshark hashes the inner packet, and not always the one we keep), fragments
        // and malformed frames are left out, as are frames with no IP at all.
        if (ours === null || !theirs || theirs.id === '') { skipped++; return; }
        const ipLayers = theirs.protocols.split(':').filter((x) => x === 'ip' || x === 'ipv6').length;
        if (ipLayers > 1 && !theirs.protocols.includes('icmp')) { skipped++; return; }
        assert.equal(ours.id, theirs.id, `${local} frame ${f.no} (${theirs.protocols})`);
        counts[ours.kind] = (counts[ours.kind] ?? 0) + 1;
      },
      warning: () => {},
    });
  }
  t.diagnostic(`frames compared by protocol: ${JSON.stringify(counts)}; left out ${skipped}`);
  for (const k of ['tcp', 'udp', 'icmp', 'icmpv6']) assert.ok((counts[k] ?? 0) > 0, `no ${k} frame compared`);
});

// ---- every ICMP type, both directions ----------------------------------------------------------

function icmpFrame(version: 4 | 6, src: string, dst: string, type: number, code: number): Buffer {
  const s = parseIp(src)!, d = parseIp(dst)!;
  // A body long enough for every message type (timestamps, redirects, quoted headers, NS/NA).
  const msg = Buffer.alloc(64);
  msg[0] = type;
  msg[1] = code;
  if (version === 4) {
    if ([3, 4, 5, 11, 12].includes(type)) msg[8] = 0x45; // a quoted IPv4 header
    const ip = Buffer.alloc(20);
    ip[0] = 0x45; ip.writeUInt16BE(20 + msg.length, 2); ip[8] = 64; ip[9] = 1; s.copy(ip, 12); d.copy(ip, 16);
    return Buffer.concat([Buffer.from('00005e00530100005e0053020800', 'hex'), ip, msg]);
  }
  if (type < 128) msg[8] = 0x60;
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0); ip.writeUInt16BE(msg.length, 4); ip[6] = 58; ip[7] = 255; s.copy(ip, 8); d.copy(ip, 24);
  return Buffer.concat([Buffer.from('00005e00530100005e00530286dd', 'hex'), ip, msg]);
}

function icmpIdsAgainstTshark(version: 4 | 6, types: number[]): Array<{ type: number; code: number; ours: string; theirs: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-cid-'));
  try {
    const path = join(dir, 'icmp.pcap');
    const [a, b] = version === 4 ? ['192.0.2.20', '192.0.2.10'] : ['2001:db8::20', '2001:db8::10'];
    const cases: Array<{ src: string; dst: string; type: number; code: number }> = [];
    for (const type of types) {
      for (const code of [0, 1]) {
        cases.push({ src: a, dst: b, type, code }, { src: b, dst: a, type, code });
      }
    }
    const w = new PcapWriter(path, 1);
    cases.forEach((c, i) => w.write(1_700_000_000_000_000 + i, icmpFrame(version, c.src, c.dst, c.type, c.code)));
    w.close();
    const truth = tsharkIds(path);
    return cases.map((c, i) => ({ type: c.type, code: c.code, ours: communityId(c.src, c.dst, version === 4 ? 1 : 58, c.type, c.code), theirs: truth.get(i + 1)?.id ?? '' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ICMP: every type 0-18, both directions, codes 0 and 1, equal tshark', (t) => {
  const rows = icmpIdsAgainstTshark(4, [0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
  for (const r of rows) assert.equal(r.ours, r.theirs, `ICMP type ${r.type} code ${r.code}`);
  t.diagnostic(`${rows.length} ICMP messages compared`);
});

// RFC 4443 errors, echo, MLD (130-132, 143), ND (133-137), home agent discovery (144/145).
const ICMP6_TYPES = [1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143, 144, 145];

test('ICMPv6: errors, echo, MLD, neighbour discovery and home agent discovery, both directions, equal tshark', (t) => {
  const rows = icmpIdsAgainstTshark(6, ICMP6_TYPES).filter((r) => r.theirs !== '');
  for (const r of rows) assert.equal(r.ours, r.theirs, `ICMPv6 type ${r.type} code ${r.code}`);
  t.diagnostic(`${rows.length} ICMPv6 messages compared (tshark gives no ID for the MLDv2 report it finds malformed)`);
  assert.ok(rows.length >= 60);
});

// Node information query/reply (RFC 4620; "who are you" 139/140 in Zeek, pycommunityid and the
// spec's reference script) pair up like echo; src/flow/community-id.ts lacks the pair, so a query
// and its reply get different IDs. Not a src/decode file: reported, left to its owner.
test('ICMPv6 node information query (139) and reply (140) pair up as tshark and the spec say', () => {
  const rows = icmpIdsAgainstTshark(6, [139, 140]);
  for (const r of rows) assert.equal(r.ours, r.theirs, `ICMPv6 type ${r.type} code ${r.code}`);
});
