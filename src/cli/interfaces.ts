import type { Command } from 'commander';
import { captureDevices, LiveCaptureError, type CapDevice } from '../source/live.js';
import { UserError } from './errors.js';

/** One device per line: name, flags, addresses (with prefix lengths), libpcap's description. */
export function formatDevices(devices: CapDevice[]): string {
  const width = Math.max(4, ...devices.map((d) => d.name.length));
  return devices.map((d) => {
    const addrs = d.addresses.filter((a) => a.addr).map((a) => `${a.addr}${a.netmask ? `/${prefixLength(a.netmask)}` : ''}`);
    const parts = [d.name.padEnd(width)];
    if (d.flags === 'PCAP_IF_LOOPBACK') parts.push('loopback');
    parts.push(addrs.length ? addrs.join(' ') : '-');
    if (d.description) parts.push(`(${d.description})`);
    return parts.join('  ');
  }).join('\n');
}

/** Netmask → prefix length (counting set bits; libpcap hands IPv4 and IPv6 masks as addresses). */
export function prefixLength(mask: string): number {
  if (mask.includes(':')) {
    let bits = 0;
    const groups = expand6(mask);
    for (const g of groups) bits += popcount(g);
    return bits;
  }
  return mask.split('.').reduce((n, o) => n + popcount(Number(o)), 0);
}

function popcount(v: number): number {
  let n = 0;
  for (let x = v; x > 0; x >>>= 1) n += x & 1;
  return n;
}

function expand6(a: string): number[] {
  const [head, tail] = a.split('::');
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const t = tail ? tail.split(':').map((x) => parseInt(x, 16)) : [];
  return [...h, ...new Array<number>(Math.max(0, 8 - h.length - t.length)).fill(0), ...t];
}

export function registerInterfaces(program: Command): void {
  program.command('interfaces')
    .description('list the capture devices libpcap offers (for sniff -i), with their addresses')
    .option('--json', 'print the list as JSON')
    .action((flags: { json?: boolean }) => {
      let devices: CapDevice[];
      try {
        devices = captureDevices();
      } catch (e) {
        if (e instanceof LiveCaptureError) throw new UserError(e.message);
        throw e;
      }
      if (flags.json) { process.stdout.write(JSON.stringify(devices, null, 2) + '\n'); return; }
      process.stdout.write(devices.length ? formatDevices(devices) + '\n' : 'no capture devices (libpcap found none; as a normal user some are hidden: try as root)\n');
    });
}
