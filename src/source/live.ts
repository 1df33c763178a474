/**
 * Live capture sources. Two ways in, one kind of Frame out:
 *
 * - `cap` (npm `cap` 0.2.1, a libpcap binding): it copies each packet into one Buffer shared by
 *   all packets and emits only its length — no timestamp, no original length, and it never
 *   calls pcap_stats, so the kernel's drop counter is out of reach. Packets are copied out at
 *   once and stamped at receipt from a monotonic clock anchored to the wall clock at start;
 *   a whole pcap_dispatch batch is stamped as JS sees it, microseconds apart, not as the wire
 *   saw it. Its snaplen is fixed at 65535 and the original length is taken to be the captured one.
 * - `tcpdump -w - -U`: its pcap stream goes through the same push parser as files, so packets
 *   carry the kernel's timestamps and lengths, and tcpdump's own statistics (SIGUSR1 while it
 *   runs, three lines at exit) give libpcap's exact "dropped by kernel" count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Frame } from './frame.js';
import { LINKTYPE } from './frame.js';
import { PcapParser } from './pcap.js';

export type LiveVia = 'cap' | 'tcpdump';

export type LiveErrorKind = 'permission' | 'no-device' | 'filter' | 'missing' | 'failed';

/** A capture that cannot start or went away: one line for the user. */
export class LiveCaptureError extends Error {
  constructor(readonly kind: LiveErrorKind, message: string) {
    super(message);
  }
}

export const CAP_FIX = 'apt-get install libpcap-dev && npm rebuild cap';
const CAP_SNAPLEN = 65535;
/**
 * The kernel's capture ring. cap forces libpcap's immediate mode, where (TPACKET_V2) every slot
 * is snaplen-sized — 64 KiB with cap's snaplen — so 256 MiB is about 4000 packets: 80 ms at
 * 50 000 pkt/s for the analysis to fall behind (JIT warm-up, a commit, a GC) before the kernel
 * drops; 128 MiB lost a few % at that rate (docs/sniff-loss.md). tcpdump, not in immediate
 * mode, packs packets tightly into its ring: 32 MiB holds hundreds of thousands.
 */
export const DEFAULT_BUFFER_BYTES: Record<LiveVia, number> = { cap: 256 << 20, tcpdump: 32 << 20 };

// ---------------------------------------------------------------------------------------------
// The cap module, as its binding.cc defines it.

export interface CapAddress { addr?: string; netmask?: string; broadaddr?: string; dstaddr?: string }
export interface CapDevice { name: string; description?: string; addresses: CapAddress[]; flags?: string }

interface CapHandle {
  /** Returns the link type's name ('ETHERNET', 'RAW', ... or 'Unknown linktype N'). */
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  removeAllListeners(event?: string): void;
}

export interface CapModule {
  Cap: (new () => CapHandle) & { deviceList(): CapDevice[] };
}

/** Loads `cap`; a missing module, an unbuilt binding or a missing libpcap all say how to fix it. */
export function loadCap(load: (id: string) => unknown = createRequire(import.meta.url)): CapModule {
  try {
    const m = load('cap') as CapModule;
    if (typeof m?.Cap?.deviceList !== 'function') throw new Error('unexpected module shape');
    return m;
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new LiveCaptureError('missing', `live capture needs the cap module and libpcap, which are not usable here (${why}): ${CAP_FIX} — or use --via tcpdump`);
  }
}

/** Capture devices as libpcap lists them (pcap_findalldevs). */
export function captureDevices(cap: CapModule = loadCap()): CapDevice[] {
  try {
    return cap.Cap.deviceList();
  } catch (e) {
    throw new LiveCaptureError(classify((e as Error).message), `cannot list capture devices: ${(e as Error).message}`);
  }
}

/** libpcap's and tcpdump's error texts, sorted into what the user has to do about them. */
export function classify(message: string): LiveErrorKind {
  if (/permission|not permitted|EPERM|EACCES/i.test(message)) return 'permission';
  if (/no such device|doesn't exist|does not exist|ENODEV|ENXIO/i.test(message)) return 'no-device';
  if (/filter|syntax error|parse/i.test(message)) return 'filter';
  return 'failed';
}

/** `program`: the binary that opens the capture (node for cap, tcpdump's path), for the setcap hint. */
export function describeError(kind: LiveErrorKind, iface: string, filter: string, detail: string, program = process.execPath): string {
  switch (kind) {
    case 'permission':
      return `no permission to capture on ${iface} (${detail}): run as root, or give the program CAP_NET_RAW and CAP_NET_ADMIN (setcap cap_net_raw,cap_net_admin=eip ${program})`;
    case 'no-device':
      return `no capture interface named '${iface}' (${detail}); faultline interfaces lists them`;
    case 'filter':
      return `BPF filter '${filter}' does not compile: ${detail}`;
    default:
      return `cannot capture on ${iface}: ${detail}`;
  }
}

/** cap's link type names (binding.cc) as LINKTYPE_* numbers; unknown ones carry the DLT number. */
export function capLinkType(name: string): number | null {
  switch (name) {
    case 'ETHERNET': return LINKTYPE.ETHERNET;
    case 'NULL': return LINKTYPE.NULL;
    case 'RAW': return LINKTYPE.RAW;
    case 'LINKTYPE_LINUX_SLL': return LINKTYPE.LINUX_SLL;
    case 'IEEE802_11_RADIO': return 127;
  }
  // DLT and LINKTYPE numbers agree outside the small historical range (RAW, SLIP...).
  const m = /^Unknown linktype (\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

// ---------------------------------------------------------------------------------------------

export interface LiveSink {
  frame(f: Frame): void;
  /** The source stopped on its own (tcpdump exited, the interface went away). */
  failed(message: string): void;
}

export interface LiveStats {
  /** Packets and bytes handed to faultline. */
  packets: number;
  bytes: number;
  /** libpcap ps_recv / ps_drop / ps_ifdrop when the source exposes them, else null. */
  received: number | null;
  dropped: number | null;
  ifDropped: number | null;
  /** rx+tx packets the interface counted since the start (Linux sysfs), null when unreadable. */
  interfacePackets: number | null;
}

export interface LiveSource {
  readonly via: LiveVia;
  readonly iface: string;
  readonly filter: string;
  /** 'kernel': libpcap's timestamps; 'receipt': stamped by faultline when JS got the packet. */
  readonly timestamps: 'kernel' | 'receipt';
  /** Whether stats().dropped can ever be known. */
  readonly dropsKnown: boolean;
  readonly snaplen: number;
  /** LINKTYPE of the frames (null until tcpdump's stream header came). */
  readonly linkType: number | null;
  /** Now on the frames' clock, µs since the epoch. */
  now(): number;
  stats(): LiveStats;
  /** Ask for fresh loss counters (tcpdump: SIGUSR1); they arrive a moment later. */
  refreshStats(): void;
  /** Stops capturing; resolves with the final counters once the last packet was delivered. */
  stop(): Promise<LiveStats>;
}

export interface LiveOptions {
  iface: string;
  filter: string;
  via: LiveVia;
  sink: LiveSink;
  bufferBytes?: number;
  /** For tests: how `cap` is loaded. */
  loadCap?: () => CapModule;
}

export async function openLiveSource(o: LiveOptions): Promise<LiveSource> {
  return o.via === 'cap' ? openCap(o) : openTcpdump(o);
}

/** rx+tx packet counters of an interface in this network namespace, when sysfs has them. */
function interfaceCounter(iface: string): number | null {
  if (!/^[\w.:@-]+$/.test(iface)) return null;
  try {
    const rx = Number(readFileSync(`/sys/class/net/${iface}/statistics/rx_packets`, 'utf8'));
    const tx = Number(readFileSync(`/sys/class/net/${iface}/statistics/tx_packets`, 'utf8'));
    return Number.isFinite(rx + tx) ? rx + tx : null;
  } catch {
    return null;
  }
}

/** Packets the interface counted since `start` (an earlier interfaceCounter reading), when both readings exist. */
function countedSince(iface: string, start: number | null): number | null {
  const now = interfaceCounter(iface);
  return start === null || now === null ? null : now - start;
}

/**
 * Packets copied out of cap's shared buffer land in big slabs, as file chunks do: one
 * allocation per slab rather than per packet; a slab lives as long as some frame view pins it.
 */
class Slab {
  private buf = Buffer.allocUnsafe(0);
  private pos = 0;

  constructor(private size = 1 << 20) {}

  copy(src: Buffer, len: number): Buffer {
    if (len > this.size) return Buffer.from(src.subarray(0, len));
    if (this.pos + len > this.buf.length) {
      this.buf = Buffer.allocUnsafe(this.size);
      this.pos = 0;
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    src.copy(out, 0, 0, len);
    this.pos += len;
    return out;
  }
}

/**
 * A monotonic clock in whole µs since the epoch, anchored to the wall clock once (whole: the
 * pcapng file records µs, and the live analysis must see the times the file keeps).
 */
export function receiptClock(): () => number {
  const wall0 = Date.now() * 1000;
  const mono0 = process.hrtime.bigint();
  return () => wall0 + Number((process.hrtime.bigint() - mono0) / 1000n);
}

function openCap(o: LiveOptions): LiveSource {
  const cap = (o.loadCap ?? loadCap)();
  const devices = captureDevices(cap);
  if (!devices.some((d) => d.name === o.iface)) {
    throw new LiveCaptureError('no-device', describeError('no-device', o.iface, o.filter, `libpcap lists ${devices.map((d) => d.name).join(', ') || 'no devices'}`));
  }
  const handle = new cap.Cap();
  const shared = Buffer.alloc(CAP_SNAPLEN + 1024);
  let name: string;
  try {
    name = handle.open(o.iface, o.filter, o.bufferBytes ?? DEFAULT_BUFFER_BYTES.cap, shared);
  } catch (e) {
    // No close() here: after a failed open the binding's poll handle was never initialised.
    const detail = (e as Error).message;
    const kind = classify(detail);
    throw new LiveCaptureError(kind, describeError(kind, o.iface, o.filter, detail));
  }
  const linkType = capLinkType(name);
  if (linkType === null) {
    handle.close();
    throw new LiveCaptureError('failed', `cannot capture on ${o.iface}: libpcap reports an unusable link type (${name})`);
  }
  const clock = receiptClock();
  const slab = new Slab();
  const ifStart = interfaceCounter(o.iface);
  let packets = 0, bytes = 0, open = true;
  handle.on('packet', (nbytes: number) => {
    if (!open) return;
    packets++;
    bytes += nbytes;
    o.sink.frame({ no: packets, ts: clock(), linkType, caplen: nbytes, origLen: nbytes, data: slab.copy(shared, nbytes), iface: 0, offset: -1 });
  });
  const stats = (): LiveStats => ({ packets, bytes, received: null, dropped: null, ifDropped: null, interfacePackets: countedSince(o.iface, ifStart) });
  return {
    via: 'cap', iface: o.iface, filter: o.filter, timestamps: 'receipt', dropsKnown: false, snaplen: CAP_SNAPLEN, linkType,
    now: clock, stats, refreshStats: () => undefined,
    stop: async () => {
      if (open) {
        open = false;
        handle.close();
        handle.removeAllListeners('packet');
      }
      return stats();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// tcpdump

export interface TcpdumpCounters { captured: number | null; received: number | null; dropped: number | null; ifDropped: number | null }

/**
 * tcpdump's statistics, from its SIGUSR1 line ("tcpdump: 5 packets captured, 5 packets received
 * by filter, 0 packets dropped by kernel") or its three lines at exit; the last figures win.
 */
export function parseTcpdumpStats(text: string, into: TcpdumpCounters = { captured: null, received: null, dropped: null, ifDropped: null }): TcpdumpCounters {
  const re = /(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const n = Number(m[1]);
    if (m[2] === 'captured') into.captured = n;
    else if (m[2] === 'received by filter') into.received = n;
    else if (m[2] === 'dropped by kernel') into.dropped = n;
    else into.ifDropped = n;
  }
  return into;
}

export function tcpdumpArgs(iface: string, filter: string, bufferBytes: number): string[] {
  // -U: write each packet as libpcap hands it over; -B: the kernel buffer in KiB; -s 0: whole
  // packets; -n: tcpdump resolves nothing. Not --immediate-mode: libpcap then gives every packet
  // a snaplen-sized ring slot (256 KiB), and drops start at a few hundred queued packets;
  // without it packets arrive in blocks, at most tcpdump's 1 s timeout late.
  const args = ['-i', iface, '-w', '-', '-U', '-n', '-s', '0', '-B', String(Math.max(1, Math.round(bufferBytes / 1024)))];
  if (filter.trim() !== '') args.push('--', filter);
  return args;
}

function openTcpdump(o: LiveOptions): Promise<LiveSource> {
  const child: ChildProcess = spawn('tcpdump', tcpdumpArgs(o.iface, o.filter, o.bufferBytes ?? DEFAULT_BUFFER_BYTES.tcpdump), { stdio: ['ignore', 'pipe', 'pipe'] });
  const counters: TcpdumpCounters = { captured: null, received: null, dropped: null, ifDropped: null };
  let stderr = '';
  let lines = '';
  let packets = 0, bytes = 0;
  let started = false, stopping = false, failedOnce = false;
  const ifStart = interfaceCounter(o.iface);
  const parser = new PcapParser({
    frame: (f) => {
      packets++;
      bytes += f.caplen;
      // Offsets into tcpdump's pipe mean nothing to a user: no byte position.
      f.offset = -1;
      o.sink.frame(f);
    },
    warning: (w) => {
      if (parser.stopped && !failedOnce) { failedOnce = true; o.sink.failed(`tcpdump's output is unreadable: ${w.message}`); }
    },
  });
  child.stdout!.on('data', (chunk: Buffer) => parser.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const stats = (): LiveStats => ({
    packets, bytes, received: counters.received, dropped: counters.dropped, ifDropped: counters.ifDropped,
    interfacePackets: countedSince(o.iface, ifStart),
  });
  const source: LiveSource = {
    via: 'tcpdump', iface: o.iface, filter: o.filter, timestamps: 'kernel', dropsKnown: true, snaplen: 262144,
    get linkType(): number | null { return parser.linkTypes.size > 0 ? [...parser.linkTypes][0] : null; },
    now: () => Date.now() * 1000,
    stats,
    refreshStats: () => { if (started && !stopping && child.exitCode === null) child.kill('SIGUSR1'); },
    stop: async () => {
      if (!stopping) {
        stopping = true;
        // SIGINT: tcpdump flushes, prints its final counts and exits; its last bytes still come.
        if (child.exitCode === null) child.kill('SIGINT');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      parser.end();
      parseTcpdumpStats(stderr, counters);
      return stats();
    },
  };
  return new Promise((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      const msg = e.code === 'ENOENT' ? 'tcpdump is not installed: apt-get install tcpdump (or use --via cap)' : `cannot run tcpdump: ${e.message}`;
      if (!started) reject(new LiveCaptureError(e.code === 'ENOENT' ? 'missing' : 'failed', msg));
      else o.sink.failed(msg);
    });
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      stderr += text;
      if (stderr.length > 65536) stderr = stderr.slice(-16384);
      lines += text;
      let nl: number;
      while ((nl = lines.indexOf('\n')) >= 0) {
        const line = lines.slice(0, nl);
        lines = lines.slice(nl + 1);
        if (!started && /listening on/.test(line)) { started = true; resolve(source); }
        parseTcpdumpStats(line, counters);
      }
    });
    void exited.then((code) => {
      if (stopping) return;
      const why = tcpdumpError(stderr) ?? `tcpdump exited with status ${code}`;
      if (!started) {
        const kind = classify(why);
        reject(new LiveCaptureError(kind, describeError(kind, o.iface, o.filter, why, '$(command -v tcpdump)')));
      } else {
        o.sink.failed(`tcpdump stopped: ${why}`);
      }
    });
  });
}

/** tcpdump's own complaint, without its "tcpdump: " prefix and the parenthesised repeat. */
function tcpdumpError(stderr: string): string | null {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^\d+ packets? /.test(l) && !/listening on/.test(l));
  if (lines.length === 0) return null;
  const detail = lines.slice(1).find((l) => /^\(.*\)$/.test(l));
  return lines[0].replace(/^tcpdump: /, '') + (detail && !lines[0].includes(detail.slice(1, -1)) ? ` ${detail}` : '');
}
