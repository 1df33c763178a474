import type { NamespaceSet } from './netns.js';

/**
 * Three namespaces in a line, client ─ router ─ server, joined by veth pairs. The router's
 * interfaces are named after what they face (`to-client`, `to-server`); client and server
 * each have `eth0`. Addresses come from documentation ranges (RFC 5737 / RFC 3849) for the
 * "public" side and RFC 1918 for the private side, so nothing here can leave the machine:
 * no namespace has a route to anything but its neighbours.
 */
export type TopologyName = 'server-nat' | 'client-nat' | 'routed' | 'routed6';

export interface Topology {
  name: TopologyName;
  family: 4 | 6;
  /** One-line description for expected.json and the README. */
  summary: string;
  client: string;
  clientPrefix: number;
  clientGateway: string;
  /** Router addresses on the client-facing and server-facing interfaces. */
  routerClientSide: string[];
  routerServerSide: string[];
  routerPrefixClientSide: number;
  routerPrefixServerSide: number;
  server: string;
  serverPrefix: number;
  serverGateway: string;
  /** The address the client dials (the router's public address when the server is behind DNAT). */
  target: string;
  /** Router interface facing the private (NATed) side; for routed topologies the client side. */
  inside: 'to-client' | 'to-server';
  outside: 'to-client' | 'to-server';
}

export const TOPOLOGIES: Record<TopologyName, Topology> = {
  'server-nat': {
    name: 'server-nat', family: 4,
    summary: 'server on a private LAN behind the router, reached through DNAT on the router\'s public address',
    client: '203.0.113.10', clientPrefix: 24, clientGateway: '203.0.113.1',
    routerClientSide: ['203.0.113.1'], routerPrefixClientSide: 24,
    routerServerSide: ['10.0.0.1'], routerPrefixServerSide: 24,
    server: '10.0.0.21', serverPrefix: 24, serverGateway: '10.0.0.1',
    target: '203.0.113.1', inside: 'to-server', outside: 'to-client',
  },
  'client-nat': {
    name: 'client-nat', family: 4,
    summary: 'client on a private LAN behind the router, leaving through SNAT/MASQUERADE to a public server',
    client: '192.168.10.10', clientPrefix: 24, clientGateway: '192.168.10.1',
    routerClientSide: ['192.168.10.1'], routerPrefixClientSide: 24,
    // .2 and .3 are the egress pool of data-from-second-client-address.
    routerServerSide: ['198.51.100.1', '198.51.100.2', '198.51.100.3'], routerPrefixServerSide: 24,
    server: '198.51.100.21', serverPrefix: 24, serverGateway: '198.51.100.1',
    target: '198.51.100.21', inside: 'to-client', outside: 'to-server',
  },
  'routed': {
    name: 'routed', family: 4,
    summary: 'public client and public server, the router forwards without NAT',
    client: '203.0.113.10', clientPrefix: 24, clientGateway: '203.0.113.1',
    routerClientSide: ['203.0.113.1'], routerPrefixClientSide: 24,
    routerServerSide: ['198.51.100.1'], routerPrefixServerSide: 24,
    server: '198.51.100.21', serverPrefix: 24, serverGateway: '198.51.100.1',
    target: '198.51.100.21', inside: 'to-client', outside: 'to-server',
  },
  'routed6': {
    name: 'routed6', family: 6,
    summary: 'IPv6 only (2001:db8::/32), the router forwards without NAT',
    client: '2001:db8:10::10', clientPrefix: 64, clientGateway: '2001:db8:10::1',
    routerClientSide: ['2001:db8:10::1'], routerPrefixClientSide: 64,
    routerServerSide: ['2001:db8:20::1'], routerPrefixServerSide: 64,
    server: '2001:db8:20::21', serverPrefix: 64, serverGateway: '2001:db8:20::1',
    target: '2001:db8:20::21', inside: 'to-client', outside: 'to-server',
  },
};

export interface Built {
  client: string;
  router: string;
  server: string;
}

/** Private destinations arriving from the outside are dropped, as the internet would. */
const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];
const PRIVATE_V6 = ['fc00::/7'];

export function buildTopology(set: NamespaceSet, t: Topology): Built {
  const v6 = t.family === 6;
  const client = set.add('c', v6);
  const router = set.add('r', v6);
  const server = set.add('s', v6);
  set.exec(router, ['ip', 'link', 'add', 'to-client', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
  set.exec(router, ['ip', 'link', 'add', 'to-server', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', server]);
  const ipArgs = v6 ? ['ip', '-6'] : ['ip'];
  const addr = (ns: string, dev: string, a: string, prefix: number): void => {
    set.exec(ns, [...ipArgs, 'addr', 'add', `${a}/${prefix}`, 'dev', dev, ...(v6 ? ['nodad'] : [])]);
  };
  addr(client, 'eth0', t.client, t.clientPrefix);
  for (const a of t.routerClientSide) addr(router, 'to-client', a, t.routerPrefixClientSide);
  for (const a of t.routerServerSide) addr(router, 'to-server', a, t.routerPrefixServerSide);
  addr(server, 'eth0', t.server, t.serverPrefix);
  for (const [ns, dev] of [[client, 'eth0'], [router, 'to-client'], [router, 'to-server'], [server, 'eth0']]) {
    set.exec(ns, ['ip', 'link', 'set', dev, 'up']);
  }
  // Default routes point at the router only; the router itself has no default route, so a
  // packet for any address outside the lab dies there.
  set.exec(client, [...ipArgs, 'route', 'add', 'default', 'via', t.clientGateway]);
  set.exec(server, [...ipArgs, 'route', 'add', 'default', 'via', t.serverGateway]);
  set.sysctl(router, [v6 ? 'net.ipv6.conf.all.forwarding=1' : 'net.ipv4.ip_forward=1']);
  // vsftpd's privileged helper binds port 20 for active mode (connect_from_port_20) after
  // trimming its capabilities; on some hosts (seen on a 6.18 VM) that bind fails with EACCES
  // and vsftpd answers "500 OOPS: vsf_sysutil_bind". Low ports are harmless inside the lab.
  set.sysctl(server, ['net.ipv4.ip_unprivileged_port_start=0']);
  const table = v6 ? 'ip6tables' : 'iptables';
  for (const net of v6 ? PRIVATE_V6 : PRIVATE_V4) {
    set.exec(router, [table, '-t', 'raw', '-A', 'PREROUTING', '-i', t.outside, '-d', net, '-j', 'DROP']);
  }
  return { client, router, server };
}

/** Check that no namespace of the lab has a route that leaves it (belt and braces). */
export function assertContained(set: NamespaceSet, built: Built, t: Topology): void {
  const ipArgs = t.family === 6 ? ['ip', '-6'] : ['ip', '-4'];
  const r = set.exec(built.router, [...ipArgs, 'route', 'show', 'default']).stdout.trim();
  if (r) throw new Error(`router namespace has a default route: ${r}`);
}
