/**
 * The NLB flooding lab: `node dist/test/lab/nlb-bridge.js [--out DIR] [unicast|igmp ...]`. Root
 * only. A Linux bridge in its own network namespace with four ports: the router (clients'
 * traffic enters there), two NLB hosts and an observer that belongs to no cluster. tcpdump
 * records on the observer. The frames an NLB cluster puts on the wire are injected with raw
 * AF_PACKET sockets (a small Python sender per namespace): heartbeats, the hosts' ARP for the VIP
 * and their replies from masked source MACs; the router sends the clients' connections to the
 * cluster MAC. The bridge never sees the cluster MAC as a source, so it floods those frames
 * to every port: the observer records them. The hosts' replies go to the router's MAC, which the
 * bridge learned, and never reach the observer. Everything lives in namespaces this run
 * creates and removes; no frame leaves them.
 *
 * Modes: `unicast` (02-BF-…, heartbeats to broadcast) and `igmp` (01-00-5E-7F-…; the hosts join
 * 239.255.0.100 and the bridge snoops IGMP with its own querier).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tshark } from '../tshark.js';
import { BROADCAST_MAC, clusterMacFor, macToString, maskedSourceMac, type NlbMode } from '../../src/proto/l2/cluster-mac.js';
import { encodeMembershipHeartbeat, encodeExtendedHeartbeat } from '../../src/proto/l2/nlb-encode.js';
import { NamespaceSet, run, sleep } from './netns.js';
import { arp, ETH_ARP, ETH_IPV4, ethernet, groupMac, igmpV2Report, tcp, TCP_ACK, TCP_PSH, TCP_SYN, udp } from './nlb-frames.js';
import { HOSTS, L2_CODES, OBSERVER, ROUTER, VIP, type ExpectedCapture } from './nlb-scenarios.js';
import { NLB_DIR, readExpected, writeExpected, writeManifest } from './nlb-generate.js';
import { pcapFrames } from './pcap.js';

export type LabMode = 'unicast' | 'igmp';
export const LAB_MODES: LabMode[] = ['unicast', 'igmp'];
export const LAB_FILE: Record<LabMode, string> = { unicast: 'nlb-unicast-bridge.pcap', igmp: 'nlb-igmp-bridge.pcap' };
/** Absolute tolerance on shares in a recording (stray ARP refreshes, timing). */
export const LAB_TOLERANCE = 0.03;

const SECONDS = 6;
const IGMP_QUERIER_SETTLE_MS = 12_000;
const CONNECTIONS_PER_SECOND = 3;
const LAB_HOSTS = HOSTS.slice(0, 2);
const CLIENTS = ['198.51.100.23', '203.0.113.40'];

/**
 * Sends hex frames at their offsets from a common start: `inject.py IFACE PLAN START_FILE`. It
 * opens its socket, says "ready", and waits for START_FILE (an epoch time the lab writes once
 * every sender is ready), so the senders of all namespaces keep their relative order.
 */
const INJECTOR = `
import json, os, socket, sys, time
iface, plan, start_file = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
print("ready", flush=True)
while not os.path.exists(start_file):
    time.sleep(0.01)
time.sleep(0.05)
start = float(open(start_file).read())
for at, frame in plan:
    delay = start + at - time.time()
    if delay > 0:
        time.sleep(delay)
    s.send(bytes.fromhex(frame))
print("sent", len(plan), flush=True)
`;

/**
 * The observer's own traffic: an ICMP echo a second to its router through the kernel's IP stack
 * (so the kernel ARPs and the router's kernel answers): `pinger.py DST COUNT START_FILE`.
 */
const PINGER = `
import socket, struct, sys, time
import os
dst, count, start_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s > 0xffff:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(0.5)
print("ready", flush=True)
while not os.path.exists(start_file):
    time.sleep(0.01)
time.sleep(0.05)
start = float(open(start_file).read())
replies = 0
for seq in range(1, count + 1):
    delay = start + seq - 1 + 0.05 - time.time()
    if delay > 0:
        time.sleep(delay)
    body = bytes(range(0x10, 0x10 + 56))
    hdr = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + body), 0x4242, seq) + body, (dst, 0))
    try:
        while True:
            data = s.recv(2048)
            if data[20] == 0:
                replies += 1
                break
    except socket.timeout:
        pass
print("pinged", count, "replies", replies, flush=True)
`;

interface Plan { role: string; frames: Array<[number, string]> }

export interface LabCounts {
  heartbeats: number;
  arp: number;
  igmp: number;
  /** Client frames to the cluster MAC (flooded to the observer when the bridge floods). */
  clusterFrames: number;
  /** Host replies to the router's MAC (learned: must not reach the observer). */
  replies: number;
  /**
   * IGMP mode's control experiment: UDP to the group address 239.255.0.100 itself, same MAC as
   * the cluster. Snooping that works keeps these from the observer (no member there).
   */
  groupFrames: number;
}

export interface LabRecording {
  mode: LabMode;
  path: string;
  injected: LabCounts;
  /** What tshark finds in the observer's capture. */
  observed: { frames: number; bytes: number; toClusterMac: number; toClusterMacBytes: number; repliesFromHosts: number; heartbeats: number; igmpReports: number; groupFrames: number };
  /** `bridge mdb show` just before the capture stopped. */
  mdb: string;
  /** Client frames to the cluster MAC recorded on host 1's port. */
  atHost: number;
  expected: ExpectedCapture;
}

function nlbMode(mode: LabMode): NlbMode {
  return mode === 'unicast' ? 'unicast' : 'igmp';
}

/** The frames each injecting namespace sends, offsets in seconds from the start. */
function plans(mode: LabMode): { plans: Plan[]; counts: LabCounts } {
  const m = nlbMode(mode);
  const cmac = clusterMacFor(VIP, m);
  const counts: LabCounts = { heartbeats: 0, arp: 0, igmp: 0, clusterFrames: 0, replies: 0, groupFrames: 0 };
  const hex = (b: Buffer): string => b.toString('hex');
  const hostPlans: Plan[] = LAB_HOSTS.map((h, i) => {
    const src = m === 'unicast' ? maskedSourceMac(VIP, h.priority) : h.nic;
    const frames: Array<[number, string]> = [];
    if (m === 'igmp') {
      for (const at of [0.05, 3.05]) { frames.push([at + i * 0.01, hex(ethernet(groupMac('239.255.0.100'), h.nic, ETH_IPV4, igmpV2Report(h.ip, '239.255.0.100')))]); counts.igmp++; }
    }
    frames.push([0.1 + i * 0.05, hex(ethernet(BROADCAST_MAC, src, ETH_ARP, arp({ op: 1, senderMac: cmac, senderIp: VIP, targetMac: 0, targetIp: VIP })))]);
    counts.arp++;
    for (let s = 0; s < SECONDS; s++) {
      const at = s + 0.3 + i * 0.31;
      frames.push([at, hex(encodeMembershipHeartbeat({ clusterIp: VIP, hostIp: h.ip, priority: h.priority, mode: m, src, packetsHandled: 1000 * s, numberOfPortRules: 2, uniqueHostCode: 0x5eed0000 + h.priority }))]);
      counts.heartbeats++;
      if (s % 5 === 0) {
        frames.push([at + 0.001, hex(encodeExtendedHeartbeat({ clusterIp: VIP, hostIp: h.ip, priority: h.priority, mode: m, src, hostName: h.name, addresses: [h.ip] }))]);
        counts.heartbeats++;
      }
    }
    return { role: `h${i + 1}`, frames };
  });
  // The router forwards client connections to the VIP; host 1 or 2 answers each (NLB's filter
  // decides in reality), from its masked MAC (unicast) or NIC MAC (igmp) to the router's MAC.
  const router: Array<[number, string]> = [];
  router.push([0.2, hex(ethernet(BROADCAST_MAC, ROUTER.mac, ETH_ARP, arp({ op: 1, senderMac: ROUTER.mac, senderIp: ROUTER.ip, targetMac: 0, targetIp: VIP })))]);
  counts.arp++;
  let port = 51_000;
  for (let s = 0; s < SECONDS; s++) {
    for (let k = 0; k < CONNECTIONS_PER_SECOND; k++) {
      const at = s + 0.5 + k * (0.9 / CONNECTIONS_PER_SECOND);
      const client = CLIENTS[k % CLIENTS.length];
      const sport = port++;
      const isn = 0x30000000 + sport;
      const toCluster = (dt: number, flags: number, seq: number, len = 0): void => {
        router.push([at + dt, hex(ethernet(cmac, ROUTER.mac, ETH_IPV4, tcp({ src: client, dst: VIP, srcPort: sport, dstPort: 443, seq, ack: flags & TCP_ACK ? 0x50000001 : 0, flags, ttl: 117 }, Buffer.alloc(len, 0x17))))]);
        counts.clusterFrames++;
      };
      toCluster(0, TCP_SYN, isn);
      toCluster(0.02, TCP_ACK, isn + 1);
      toCluster(0.021, TCP_ACK | TCP_PSH, isn + 1, 300 + 50 * k);
      const host = LAB_HOSTS[(s + k) % LAB_HOSTS.length];
      const hostSrc = m === 'unicast' ? maskedSourceMac(VIP, host.priority) : host.nic;
      const plan = hostPlans[LAB_HOSTS.indexOf(host)];
      plan.frames.push([at + 0.01, hex(ethernet(ROUTER.mac, hostSrc, ETH_IPV4, tcp({ src: VIP, dst: client, srcPort: 443, dstPort: sport, seq: 0x50000000, ack: isn + 1, flags: TCP_SYN | TCP_ACK })))]);
      plan.frames.push([at + 0.03, hex(ethernet(ROUTER.mac, hostSrc, ETH_IPV4, tcp({ src: VIP, dst: client, srcPort: 443, dstPort: sport, seq: 0x50000001, ack: isn + 301 + 50 * k, flags: TCP_ACK | TCP_PSH }, Buffer.alloc(1200, 0x42))))]);
      counts.replies += 2;
    }
  }
  if (m === 'igmp') {
    for (let s = 1; s < SECONDS; s++) {
      router.push([s + 0.45, hex(ethernet(groupMac('239.255.0.100'), ROUTER.mac, ETH_IPV4, udp(ROUTER.ip, '239.255.0.100', 5000, 5000, Buffer.alloc(100, 0x55), 8)))]);
      counts.groupFrames++;
    }
  }
  for (const p of hostPlans) p.frames.sort((a, b) => a[0] - b[0]);
  router.sort((a, b) => a[0] - b[0]);
  return { plans: [...hostPlans, { role: 'rtr', frames: router }], counts };
}

/** Debian packages the lab needs. */
export const NLB_LAB_PACKAGES = ['iproute2', 'tcpdump', 'python3', 'tshark'];

/** Why the lab cannot run here, or null. */
export function preflightNlb(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'the NLB lab needs root (network namespaces, raw sockets, tcpdump)';
  for (const tool of ['ip', 'tcpdump', 'python3']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (r.status !== 0) return `${tool} is missing (apt-get install -y ${NLB_LAB_PACKAGES.join(' ')})`;
  }
  return null;
}

export async function recordBridge(mode: LabMode, outDir: string, log: (m: string) => void = () => {}): Promise<LabRecording> {
  const refused = preflightNlb();
  if (refused) throw new Error(refused);
  const ns = new NamespaceSet(`flnlb${process.pid % 100000}${mode[0]}`);
  const work = mkdtempSync(join(tmpdir(), 'faultline-nlb-lab-'));
  try {
    const br = ns.add('br', false);
    const obs = ns.add('obs', false);
    const rtr = ns.add('rtr', false);
    const hostNs = LAB_HOSTS.map((_, i) => ns.add(`h${i + 1}`, false));
    ns.exec(br, ['ip', 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', mode === 'igmp' ? '1' : '0',
      ...(mode === 'igmp' ? ['mcast_querier', '1'] : [])]);
    const attach = (peer: string, port: string, address: number, ip: string | null): void => {
      run(['ip', 'link', 'add', 'name', 'eth0', 'netns', peer, 'address', macToString(address), 'type', 'veth', 'peer', 'name', port, 'netns', br]);
      ns.exec(br, ['ip', 'link', 'set', port, 'master', 'br0', 'up']);
      if (ip !== null) ns.exec(peer, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      // No ARP from hosts' kernels: the NLB frames come from the injector only.
      if (ip === null) ns.exec(peer, ['ip', 'link', 'set', 'eth0', 'arp', 'off']);
      ns.exec(peer, ['ip', 'link', 'set', 'eth0', 'up']);
    };
    attach(obs, 'p-obs', OBSERVER.mac, OBSERVER.ip);
    attach(rtr, 'p-rtr', ROUTER.mac, ROUTER.ip);
    LAB_HOSTS.forEach((h, i) => attach(hostNs[i], `p-h${i + 1}`, h.nic, null));
    ns.exec(br, ['ip', 'link', 'set', 'br0', 'up']);
    // The bridge forwards group traffic to members only once its querier counts as present,
    // which (observed on Linux 6.x) takes about 10 s after the bridge comes up; before that it
    // floods everything and the experiment would show nothing.
    await sleep(mode === 'igmp' ? IGMP_QUERIER_SETTLE_MS : 300);

    const capture = join(work, LAB_FILE[mode]);
    const dump = ns.spawn(obs, 'tcpdump', ['tcpdump', '-i', 'eth0', '-n', '--immediate-mode', '-U', '-w', capture]);
    await dump.waitFor(/listening on/, 5000);
    // A second recording on host 1's port, to tell "kept from the observer" from "dropped".
    const hostCapture = join(work, 'h1.pcap');
    const hostDump = ns.spawn(hostNs[0], 'tcpdump h1', ['tcpdump', '-i', 'eth0', '-n', '--immediate-mode', '-U', '-w', hostCapture]);
    await hostDump.waitFor(/listening on/, 5000);
    const { plans: all, counts } = plans(mode);
    const script = join(work, 'inject.py');
    writeFileSync(script, INJECTOR);
    const pinger = join(work, 'pinger.py');
    writeFileSync(pinger, PINGER);
    const startFile = join(work, 'start');
    const roleNs: Record<string, string> = { rtr, h1: hostNs[0], h2: hostNs[1] };
    const senders = all.map((p) => {
      const planFile = join(work, `${p.role}.json`);
      writeFileSync(planFile, JSON.stringify(p.frames));
      return ns.spawn(roleNs[p.role], `inject ${p.role}`, ['python3', script, 'eth0', planFile, startFile]);
    });
    const ping = ns.spawn(obs, 'pinger', ['python3', pinger, ROUTER.ip, String(SECONDS), startFile]);
    for (const p of [...senders, ping]) await p.waitFor(/ready/, 15_000);
    writeFileSync(join(work, 'start.tmp'), (Date.now() / 1000 + 0.3).toFixed(3));
    renameSync(join(work, 'start.tmp'), startFile);
    for (const s of senders) await s.waitFor(/sent \d+/, (SECONDS + 10) * 1000);
    log(`${mode}: ${senders.map((s) => `${s.label}: ${s.text.trim().replace(/\s+/g, ' ')}`).join('; ')}`);
    await ping.waitFor(/pinged \d+ replies \d+/, (SECONDS + 10) * 1000);
    log(`${mode}: ${ping.text.trim()}`);
    await sleep(500);
    const mdb = ns.exec(br, ['bridge', 'mdb', 'show'], { allowFail: true }).stdout.trim();
    await dump.stop();
    await hostDump.stop();
    const atHost = count(hostCapture, `eth.dst == ${macToString(clusterMacFor(VIP, nlbMode(mode)))} && tcp`).frames;
    log(`${mode}: host 1's port received ${atHost} of ${counts.clusterFrames} client frames to the cluster MAC`);
    log(`${mode}: injected ${JSON.stringify(counts)}`);

    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, LAB_FILE[mode]);
    copyFileSync(capture, out);
    const observed = observe(out, mode);
    log(`${mode}: observer recorded ${JSON.stringify(observed)}`);
    log(`${mode}: bridge mdb: ${mdb || '(empty)'}`);
    return { mode, path: out, injected: counts, observed, mdb, atHost, expected: expectation(mode, out, counts, observed, atHost) };
  } finally {
    await ns.teardown();
    rmSync(work, { recursive: true, force: true });
  }
}

function count(path: string, filter: string): { frames: number; bytes: number } {
  const lines = tshark(['-r', path, '-Y', filter, '-T', 'fields', '-e', 'frame.len']).split('\n').filter(Boolean);
  return { frames: lines.length, bytes: lines.reduce((n, l) => n + Number(l), 0) };
}

function observe(path: string, mode: LabMode): LabRecording['observed'] {
  const cmac = macToString(clusterMacFor(VIP, nlbMode(mode)));
  const all = count(path, 'frame');
  const toCluster = count(path, `eth.dst == ${cmac} && tcp`);
  const hostSrcs = LAB_HOSTS.map((h) => macToString(mode === 'unicast' ? maskedSourceMac(VIP, h.priority) : h.nic));
  const replies = count(path, `eth.dst == ${macToString(ROUTER.mac)} && (${hostSrcs.map((m) => `eth.src == ${m}`).join(' || ')})`);
  return {
    frames: all.frames, bytes: all.bytes, toClusterMac: toCluster.frames, toClusterMacBytes: toCluster.bytes,
    repliesFromHosts: replies.frames, heartbeats: count(path, 'msnlb').frames, igmpReports: count(path, 'igmp.type == 0x16').frames,
    groupFrames: count(path, 'ip.dst == 239.255.0.100 && udp').frames,
  };
}

/**
 * Expectations from the injection: every client frame to the cluster MAC was flooded to the
 * observer, so its share is what was injected over what the observer recorded. The recording
 * must also show that the flood really happened (all injected client frames arrived) and that
 * learned unicast (the hosts' replies) did not reach the observer; recordBridge's callers check
 * those two facts before committing.
 */
function expectation(mode: LabMode, path: string, counts: LabCounts, observed: LabRecording['observed'], atHost: number): ExpectedCapture {
  const m = nlbMode(mode);
  const flooded = observed.toClusterMac === counts.clusterFrames;
  const floodCode = m === 'unicast' ? 'NLB_UNICAST_FLOODING' : 'NLB_MULTICAST_FLOODING';
  const must = ['NLB_CLUSTER_DETECTED', ...(flooded ? [floodCode] : []), ...(m === 'igmp' ? ['NLB_ARP_MULTICAST_MAC'] : [])];
  // Bytes: the injected client frames' sizes over the recording's bytes.
  return {
    file: LAB_FILE[mode], source: 'lab',
    description: mode === 'unicast'
      ? `Recorded on the observer port of a Linux bridge (network namespaces): 2 unicast-mode NLB hosts (masked sources 02-01/02-02-0a-14-00-64) heartbeat and announce the VIP; the router port sends ${counts.clusterFrames} client frames to 02:bf:0a:14:00:64, which the bridge never learned and flooded to the observer; the hosts' ${counts.replies} replies to the router's learned MAC did not reach it. The observer pings the router once a second.`
      : `Recorded on the observer port of a Linux bridge with IGMP snooping and its own querier: 2 IGMP-mode NLB hosts join 239.255.0.100 (IGMPv2) and heartbeat to 01:00:5e:7f:00:64 (non-IP multicast: flooded, so the observer sees the heartbeats); their ARP binds the VIP to 01:00:5e:7f:00:64. The router port sends ${counts.clusterFrames} client frames to 01:00:5e:7f:00:64 with the unicast VIP as IP destination: ${observed.toClusterMac} reached the observer and ${atHost} reached host 1's port${flooded ? '' : ' — with snooping active the bridge looks these frames up by their IP destination, which no group matches, and drops them, so nothing is flooded but the cluster is unreachable'}. Control: ${counts.groupFrames} UDP frames to the group address itself reached ${observed.groupFrames} at the observer (members only: snooping works). The observer pings the router once a second.`,
    frames: pcapFrames(path),
    clusters: [{
      clusterIp: VIP, mode: m, hostCount: LAB_HOSTS.length, hosts: LAB_HOSTS.map((h) => ({ ip: h.ip, priority: h.priority })),
      floodedShare: { frames: observed.toClusterMac / observed.frames, bytes: observed.toClusterMacBytes / observed.bytes },
    }],
    shareTolerance: LAB_TOLERANCE, unknownUnicastShare: 0, heartbeatLoss: [], arpConflicts: [], notClusters: [],
    must, mustNot: L2_CODES.filter((c) => !must.includes(c)),
  };
}

/** What a recording must show before it counts: the flood arrived whole, learned unicast did not. */
export function recordingProblems(r: LabRecording): string[] {
  const p: string[] = [];
  if (r.mode === 'unicast' && r.observed.toClusterMac !== r.injected.clusterFrames) p.push(`${r.observed.toClusterMac} of ${r.injected.clusterFrames} client frames to the cluster MAC reached the observer`);
  if (r.observed.repliesFromHosts !== 0) p.push(`${r.observed.repliesFromHosts} host replies to the router's learned MAC reached the observer`);
  if (r.observed.heartbeats !== r.injected.heartbeats) p.push(`${r.observed.heartbeats} of ${r.injected.heartbeats} heartbeats reached the observer`);
  if (r.mode === 'igmp' && r.observed.groupFrames !== 0) p.push(`${r.observed.groupFrames} frames to the group address 239.255.0.100 reached the observer: IGMP snooping is not working, so the experiment proves nothing`);
  return p;
}

// node --test runs every .js under dist/test/ as a test file: never record into captures/ from there.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && !process.env.NODE_TEST_CONTEXT) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--out');
  const out = i >= 0 ? resolve(args[i + 1]) : NLB_DIR;
  const modes = args.filter((a, j) => (LAB_MODES as string[]).includes(a) && args[j - 1] !== '--out') as LabMode[];
  const expected = readExpected(out);
  let failed = false;
  for (const mode of modes.length ? modes : LAB_MODES) {
    const r = await recordBridge(mode, out, (m) => console.error(m));
    const problems = recordingProblems(r);
    if (problems.length) { console.error(`${mode}: ${problems.join('; ')}`); failed = true; continue; }
    expected.captures[LAB_FILE[mode]] = r.expected;
    console.log(r.path);
  }
  writeExpected(expected, out);
  writeManifest(out);
  if (failed) process.exitCode = 1;
}
