import type { Command } from 'commander';
import { captureDevices, LiveCaptureError, type CapDevice } from '../source/live.js';
import { UserError } from './errors.js';
import { parseIp } from '../decode/addr.js';

/** One device per line: name, flags, addresses (with prefix lengths), libpcap's description. */
export function formatDevices(devices: CapDevice[]): string {
  const width = Math.max(4, ...devices.map((d) => d.name.length));
  return devices.map((d) => {
    const addrs = d.addresses.filter((a) => a.addr).map((a) => `${a.addr}${a.netmask ? `/${prefixLength(a.netmask) ?? a.netmask}` : ''}`);
    const parts = [d.name.padEnd(width)];
    if (d.flags === 'PCAP_IF_LOOPBACK') parts.push('loopback');
    parts.push(addrs.length ? addrs.join(' ') : '-');
    if (d.description) parts.push(`(${d.description})`);
    return parts.join('  ');
  }).join('\n');
}

/** Netmask → prefix length, counting set bits (libpcap hands IPv4 and IPv6 masks as addresses); null when it is not an address. */
export function prefixLength(mask: string): number | null {
  const bytes = parseIp(mask);
  if (bytes === null) return null;
  let bits = 0;
  for (let x of bytes) for (; x > 0; x >>>= 1) bits += x & 1;
  return bits;
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
