/**
 * Community ID v1 (corelight/community-id-spec). Expected values: the spec's published
 * baseline (baseline/README.md tables and baseline_deflt.json / baseline_seed1.json, made from
 * its pcaps/combined.pcap.gz by the reference implementation), then tshark 4.0's communityid
 * postdissector (`--enable-protocol communityid`; 4.0 has no communityid.enable preference) on
 * third-party captures, frame by frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { communityId } from '../../../src/flow/community-id.js';
import { FlowTable } from '../../../src/flow/table.js';
import type { Flow } from '../../../src/flow/flow.js';
import { decodePacket, type Packet } from '../../../src/decode/packet.js';
import { readCapture } from '../../../src/source/open.js';
import { thirdParty } from '../../helpers.js';
import { tshark } from '../../tshark.js';

/** Rows of the spec's baseline/README.md tables: for ICMP the "ports" are type and code. */
const TABLE: Array<[number, string, string, number, number, string, string]> = [
  // proto, src, dst, sport, dport, seed 0, seed 1
  [6, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:wCb3OG7yAFWelaUydu0D+125CLM=', '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk='],
  [6, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:wCb3OG7yAFWelaUydu0D+125CLM=', '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk='],
  [17, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=', '1:OShq+iKDAMVouh/4bMxB9Sz4amw='],
  [17, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=', '1:OShq+iKDAMVouh/4bMxB9Sz4amw='],
  [132, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=', '1:uitchpn5MMGAQKBJh7bIr/bAr7s='],
  [132, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=', '1:uitchpn5MMGAQKBJh7bIr/bAr7s='],
  [1, '1.2.3.4', '5.6.7.8', 8, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=', '1:9pr4ZGTICiuZoIh90RRYE2RyXpU='],
  [1, '5.6.7.8', '1.2.3.4', 0, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=', '1:9pr4ZGTICiuZoIh90RRYE2RyXpU='],
  [1, '1.2.3.4', '5.6.7.8', 11, 0, '1:f/YiSyWqczrTgfUCZlBUnvHRcPk=', '1:1DD7cWGC/Yg91YGsQeni8du3pIA='],
  [58, 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 128, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=', '1:IO27GQzPuCtNnwFvjWALMHu5tJE='],
  [58, 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 129, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=', '1:IO27GQzPuCtNnwFvjWALMHu5tJE='],
  [58, 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 146, 0, '1:fYC8+pz24E+EhANP1EZhpX0Dw10=', '1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s='],
  [46, '1.2.3.4', '5.6.7.8', 0, 0, '1:ikv3kmf89luf73WPz1jOs49S768=', '1:/buhqeOmaRCopOZFy9HnoJd5XW8='],
  [46, '5.6.7.8', '1.2.3.4', 0, 0, '1:ikv3kmf89luf73WPz1jOs49S768=', '1:/buhqeOmaRCopOZFy9HnoJd5XW8='],
  [46, 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 0, 0, '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=', '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM='],
  [46, 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D', 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D', 0, 0, '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=', '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM='],
];

test('the spec baseline tables (seed 0 and seed 1)', () => {
  for (const [proto, src, dst, sp, dp, seed0, seed1] of TABLE) {
    assert.equal(communityId(src, dst, proto, sp, dp), seed0, `${proto} ${src}:${sp} → ${dst}:${dp}`);
    assert.equal(communityId(src, dst, proto, sp, dp, 1), seed1, `${proto} ${src}:${sp} → ${dst}:${dp} seed 1`);
  }
});

// The spec's baseline_deflt.json / baseline_seed1.json flows are checked in
// test/unit/decode/community-id.test.ts (with tshark on single frames); here: its README tables
// and whole flows of the flow table against tshark.

test('addresses that are not IP give no Community ID', () => {
  assert.equal(communityId('not-an-ip', '1.2.3.4', 6, 1, 2), '');
  assert.equal(communityId('1.2.3.4', '1.2.3.999', 6, 1, 2), '');
});

interface TsharkRow { frame: number; cid: string; ipLayers: number }

function tsharkCids(path: string): Map<number, TsharkRow> {
  const out = tshark(['-r', path, '--enable-protocol', 'communityid', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
    '-e', 'frame.number', '-e', 'communityid', '-e', 'ip.src', '-e', 'ipv6.src']);
  const rows = new Map<number, TsharkRow>();
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const [frame, cid, v4, v6] = line.split('\t');
    const ipLayers = (v4 ? v4.split(',').length : 0) + (v6 ? v6.split(',').length : 0);
    rows.set(Number(frame), { frame: Number(frame), cid, ipLayers });
  }
  return rows;
}

interface Tally { tcp: number; udp: number; icmp: number; icmp6: number; other: number; flowsFirstFrame: number }

/** Runs a capture through decode and the flow table; compares each frame's Community ID with tshark's. */
async function compare(local: string, tally: Tally): Promise<void> {
  const path = thirdParty(local);
  const truth = tsharkCids(path);
  const flows: Flow[] = [];
  const table = new FlowTable({ flowStart: (f) => flows.push(f), firstPayload: () => undefined, flowEnd: () => undefined, capHit: () => undefined });
  const check = (pkt: Packet): void => {
    const t = truth.get(pkt.frame.no);
    const net = pkt.net;
    // One IP layer only: tunnels and ICMP errors (quoted headers) are another question.
    if (!t || !t.cid || t.ipLayers !== 1 || !net || net.kind === 'arp' || pkt.fragment || pkt.tunnels || pkt.malformed) return;
    const at = `${local} frame ${pkt.frame.no}`;
    const tr = pkt.transport;
    if (tr && tr.kind === 'icmp') {
      // Per message: type and code are this packet's (a flow holds all ICMP between two hosts).
      assert.equal(communityId(net.src, net.dst, net.protocol, tr.type, tr.code), t.cid, at);
      if (tr.version === 4) tally.icmp++; else tally.icmp6++;
      return;
    }
    const ports = tr && (tr.kind === 'tcp' || tr.kind === 'udp') ? [tr.srcPort, tr.dstPort] : null;
    let flow: Flow | undefined;
    if (ports) flow = table.lookup(net.protocol, net.src, ports[0], net.dst, ports[1]);
    else flow = flows.filter((f) => f.protocol === net.protocol && ((f.srcIp === net.src && f.dstIp === net.dst) || (f.srcIp === net.dst && f.dstIp === net.src))).pop();
    assert.ok(flow, `${at}: a flow`);
    assert.equal(flow.communityId, t.cid, at);
    if (tr?.kind === 'tcp') tally.tcp++;
    else if (tr?.kind === 'udp') tally.udp++;
    else tally.other++;
  };
  await readCapture(path, {
    frame: (f) => {
      const pkt = decodePacket(f);
      table.packet(pkt);
      check(pkt);
    },
    warning: () => undefined,
  });
  table.finish();
  // Every flow's own ID is the one tshark gives its first frame.
  for (const f of flows) {
    const t = truth.get(f.firstFrame);
    if (!t || !t.cid || t.ipLayers !== 1) continue;
    assert.equal(f.communityId, t.cid, `${local}: flow ${f.index} (first frame ${f.firstFrame})`);
    tally.flowsFirstFrame++;
  }
}

test('Community IDs equal tshark frame by frame (TCP, UDP, SCTP, IGMP, ICMP, ICMPv6; IPv4 and IPv6)', async (t) => {
  const tally: Tally = { tcp: 0, udp: 0, icmp: 0, icmp6: 0, other: 0, flowsFirstFrame: 0 };
  for (const local of [
    'files/zeek/testing/btest/Traces/linux_dlt_sll2.pcap', // ICMP echo, ICMPv6 echo
    'files/suricata-verify/tests/tls-extra-alert/input.pcap', // ICMP, TCP
    'files/suricata-verify/tests/output-eve-ftp-data/input.pcap', // UDP v4/v6, ICMPv6 ND, TCP
    'files/tcpdump/tests/babel.pcap', // UDP over IPv6
    'files/PcapPlusPlus/Tests/Pcap++Test/PcapExamples/IgmpPackets.pcap', // MLD behind hop-by-hop, IGMP, UDP
    'files/arkime/tests/pcap/arkime_synthetic.pcap', // many protocols, SCTP
    'files/tcpdump/tests/isup.pcap', // SCTP
    'files/zeek/testing/btest/Traces/ftp/ipv6.pcap', // TCP over IPv6
  ]) {
    await compare(local, tally);
  }
  t.diagnostic(JSON.stringify(tally));
  assert.ok(tally.tcp > 100 && tally.udp > 20 && tally.icmp >= 4 && tally.icmp6 >= 4 && tally.other > 5, JSON.stringify(tally));
});
