import type { TopologyName } from './topology.js';
import { LAB_FILE, LAB_PASSWORD, LAB_USER, WRONG_PASSWORD, type VsftpdSettings } from './vsftpd.js';

/**
 * The lab's scenarios. Each one is a small experiment: a topology, the router's rules, the
 * server's settings, the curl runs, and, derived from that design, which findings each
 * capture must and must not produce. `evidence` lists the tshark filters that prove the design
 * really happened on the wire; the recorder refuses a recording in which they do not hold.
 *
 * Codes left out of both `must` and `mustNot` are deliberately unconstrained: the `notes`
 * say why (usually a single vantage point cannot tell a NAT artefact from a fault).
 */
export type Side = 'inside' | 'outside';

export interface ClientRun {
  /** What this run does, for logs and expected.json. */
  label: string;
  /** curl arguments; `{target}`, `{cert}` and `{file}` are filled in by the recorder. */
  args: string[];
  /** curl exit statuses that count as the designed outcome. */
  exit: number[];
}

export interface CaptureExpectation {
  must: string[];
  mustNot: string[];
  notes?: string;
}

export interface EvidenceCheck {
  side: Side;
  /** tshark display filter; with `decrypt`, run over the TLS-decrypted control port (data.text). */
  filter: string;
  present: boolean;
  what: string;
  decrypt?: boolean;
}

export interface Scenario {
  name: string;
  topology: TopologyName;
  shows: string;
  exercises: string;
  /** Router commands (iptables / ip6tables argv as one line each). */
  router: string[];
  server: VsftpdSettings;
  runs: ClientRun[];
  /** TLS on the control channel: keys saved through SSLKEYLOGFILE. */
  tls: boolean;
  controlPort: 21 | 990;
  /** Analysis options the expectations assume (e.g. the firewall's passive range). */
  passiveRange?: [number, number];
  /**
   * For scenarios whose outcome depends on a random choice of the server (vsftpd picks its
   * passive port at random): repeat the runs, each attempt captured separately, until one
   * attempt of each wanted outcome is seen; those attempts are joined in time order.
   */
  repeat?: { want: Array<'ok' | 'fail'>; maxAttempts: number };
  inside: CaptureExpectation;
  outside: CaptureExpectation;
  /** `faultline compare INSIDE OUTSIDE`. */
  compare: CaptureExpectation;
  evidence: EvidenceCheck[];
}

const CURL_COMMON = ['--connect-timeout', '3', '--max-time', '10', '-sS', '-o', '/dev/null'];
const USER = ['-u', `${LAB_USER}:${LAB_PASSWORD}`];
const FTPS = ['--ssl-reqd', '--cacert', '{cert}'];
/**
 * curl ≥ 7.74 ignores the address in a 227 reply by default (CURLOPT_FTP_SKIP_PASV_IP) and
 * dials the control peer instead; most other clients use the announced address, so the lab
 * turns that off except where it shows the substitution itself.
 */
const USE_PASV_IP = ['--disable-epsv', '--no-ftp-skip-pasv-ip'];
const url = (path = LAB_FILE, scheme = 'ftp'): string => `${scheme}://{target}/${path}`;

export function curlArgs(run: ClientRun): string[] {
  return [...CURL_COMMON, ...run.args];
}

// Finding groups (codes from /work/shared/FINDINGS.md).
const FTPS_ALL = ['FTPS_DATA_UNPROTECTED', 'FTPS_CLEAR_COMMAND_CHANNEL', 'FTPS_SESSION_REUSE_MISSING', 'FTPS_NAT_BLIND'];
const ALWAYS_NOT = ['FTP_UNTRUSTED_PEER'];
const TLS_HEALTHY_NOT = ['TLS_WEAK_VERSION', 'TLS_WEAK_CIPHER', 'TLS_CERT_EXPIRED', 'TLS_CERT_NOT_YET_VALID', 'TLS_CERT_NAME_MISMATCH'];
const NO_REWRITE: CaptureExpectation = { must: [], mustNot: ['FTP_ADDRESS_REWRITTEN'] };

const DNAT_CONTROL = 'iptables -t nat -A PREROUTING -i to-client -d 203.0.113.1 -p tcp --dport 21 -j DNAT --to-destination 10.0.0.21';
const DNAT_PASSIVE = 'iptables -t nat -A PREROUTING -i to-client -d 203.0.113.1 -p tcp --dport 40000:40009 -j DNAT --to-destination 10.0.0.21';
const HELPER_FROM_CLIENT = 'iptables -t raw -A PREROUTING -i to-client -p tcp --dport 21 -j CT --helper ftp';
const MASQUERADE = 'iptables -t nat -A POSTROUTING -o to-server -s 192.168.10.0/24 -j SNAT --to-source 198.51.100.1';

const syn = 'tcp.flags.syn == 1 && tcp.flags.ack == 0';
const synAck = 'tcp.flags.syn == 1 && tcp.flags.ack == 1';
const passivePorts = (lo: number, hi: number, dir: 'dst' | 'src'): string => `tcp.${dir}port >= ${lo} && tcp.${dir}port <= ${hi}`;
const dataClientHello = 'tls.handshake.type == 1 && tcp.dstport != 21 && tcp.dstport != 990';

/** The healthy explicit-FTPS session: only the version cap differs between TLS 1.3 and 1.2. */
function ftpsProtP(name: string, tls12: boolean): Scenario {
  return {
    name, topology: 'routed', tls: true, controlPort: 21,
    shows: `Explicit FTPS done right${tls12 ? ' over TLS 1.2' : ''}: AUTH (curl sends AUTH SSL), PBSZ 0, PROT P, the data connection is TLS and resumes the control connection's session, as vsftpd's require_ssl_reuse demands.`,
    exercises: `explicit FTPS, PROT P, TLS ${tls12 ? '1.2 session-ID/ticket resumption in clear' : '1.3 PSK resumption'} on the data channel`,
    router: [],
    server: { ssl: 'explicit' },
    runs: [{ label: `RETR over explicit FTPS, PROT P${tls12 ? ', TLS ≤ 1.2' : ''}`, args: [...FTPS, ...(tls12 ? ['--tls-max', '1.2'] : []), ...USER, url()], exit: [0] }],
    inside: {
      must: tls12 ? ['TLS_CERT_SELF_SIGNED'] : [],
      mustNot: ['FTP_CLEARTEXT_LOGIN', 'FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS',
        'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_TRANSFER_FAILED',
        'FTP_PASV_PORT_OUT_OF_RANGE', ...FTPS_ALL, ...TLS_HEALTHY_NOT, 'TLS_HANDSHAKE_FAILED', ...ALWAYS_NOT],
      notes: tls12 ? undefined : 'TLS 1.3: the certificate travels encrypted, so TLS_CERT_SELF_SIGNED is only visible with the key log; TLS_NONSTANDARD_PORT is unconstrained (TLS on 21 and on the passive ports).',
    },
    outside: { must: [], mustNot: [] },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'data.text contains "AUTH SSL"', present: true, what: 'curl opens with AUTH SSL (vsftpd accepts it like AUTH TLS)', decrypt: true },
      { side: 'outside', filter: 'data.text contains "PROT P"', present: true, what: 'PROT P, decrypted with the key log', decrypt: true },
      { side: 'outside', filter: dataClientHello, present: true, what: 'the data connection starts with a TLS ClientHello' },
      tls12
        ? { side: 'outside', filter: 'tls.handshake.type == 11 && tcp.srcport != 21', present: false, what: 'no Certificate on the data connection: its handshake is abbreviated (resumed)' }
        : { side: 'outside', filter: 'tls.handshake.type == 2 && tcp.srcport != 21 && tls.handshake.extension.type == 41', present: true, what: 'the data ServerHello accepts a pre_shared_key: TLS 1.3 resumption' },
      { side: 'outside', filter: 'data.text contains "226 "', present: true, what: 'transfer complete', decrypt: true },
    ],
  };
}

function ftpsNoReuse(name: string, tls12: boolean): Scenario {
  return {
    name, topology: 'routed', tls: true, controlPort: 21,
    shows: `The client does not resume the control connection's TLS session on the data connection (curl --no-sessionid${tls12 ? ', TLS ≤ 1.2' : ''}); vsftpd (require_ssl_reuse=YES) refuses the transfer with 522 "SSL connection failed: session reuse required".`,
    exercises: `FTPS data channel without TLS session reuse${tls12 ? ' (TLS 1.2: full handshake with Certificate in clear)' : ' (TLS 1.3: no pre_shared_key)'}, 522`,
    router: [],
    server: { ssl: 'explicit' },
    runs: [{ label: 'RETR over explicit FTPS with --no-sessionid', args: [...FTPS, ...(tls12 ? ['--tls-max', '1.2'] : []), '--no-sessionid', ...USER, url()], exit: [18, 19] }],
    inside: {
      must: ['FTPS_SESSION_REUSE_MISSING', 'FTP_TRANSFER_FAILED', ...(tls12 ? ['TLS_CERT_SELF_SIGNED'] : [])],
      mustNot: ['FTP_CLEARTEXT_LOGIN', 'FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS',
        'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE',
        'FTPS_DATA_UNPROTECTED', 'FTPS_CLEAR_COMMAND_CHANNEL', 'FTPS_NAT_BLIND', ...TLS_HEALTHY_NOT, ...ALWAYS_NOT],
      notes: 'The 522 travels encrypted: FTP_TRANSFER_FAILED needs the key log (expected.json gives it). FTP_DATA_CONNECT_FAILED and TLS_HANDSHAKE_FAILED are unconstrained: TCP completes and the TLS handshake is cut short by the server.',
    },
    outside: { must: [], mustNot: [] },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: dataClientHello, present: true, what: 'the data connection starts a TLS handshake' },
      tls12
        ? { side: 'outside', filter: 'tls.handshake.type == 11 && tcp.srcport != 21', present: true, what: 'the server sends its Certificate on the data connection: a full handshake, no resumption' }
        : { side: 'outside', filter: `${dataClientHello} && tls.handshake.extension.type == 41`, present: false, what: 'the data ClientHello offers no pre_shared_key' },
      { side: 'outside', filter: 'data.text contains "522 SSL connection failed: session reuse required"', present: true, what: 'vsftpd refuses the transfer (decrypted)', decrypt: true },
    ],
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'pasv-nat-no-helper-no-pasv_address', topology: 'server-nat', tls: false, controlPort: 21,
    shows: 'Server behind DNAT, no FTP helper, no pasv_address: the 227 reply announces the server\'s private address 10.0.0.21, the client dials it and the SYN dies at the router. Broken.',
    exercises: 'PASV private address through NAT, data SYN unanswered',
    router: [DNAT_CONTROL, DNAT_PASSIVE],
    server: {},
    runs: [{ label: 'RETR via PASV, client uses the announced address', args: [...USE_PASV_IP, ...USER, url()], exit: [28, 7] }],
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS',
        'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'curl gives up on the data connection before sending RETR, so no transfer command gets a reply (no FTP_TRANSFER_FAILED).',
    },
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS',
        'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Inside, the announced connection never appears and no 425 follows (the client quits first): FTP_DATA_CONNECT_FAILED is unconstrained here.',
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'ftp.response.code == 227 && ftp.passive.ip == 10.0.0.21', present: true, what: 'the 227 reply carries the private address on the public side' },
      { side: 'outside', filter: `${syn} && ip.dst == 10.0.0.21`, present: true, what: 'the client dials the private address' },
      { side: 'outside', filter: `${synAck} && ip.src == 10.0.0.21`, present: false, what: 'nothing answers' },
      { side: 'inside', filter: 'ftp.response.code == 227 && ftp.passive.ip == 10.0.0.21', present: true, what: 'the same 227 inside' },
      { side: 'inside', filter: passivePorts(40000, 40009, 'dst'), present: false, what: 'no data connection reaches the server' },
    ],
  },
  {
    name: 'pasv-nat-skip-pasv-ip', topology: 'server-nat', tls: false, controlPort: 21,
    shows: 'Same broken server as pasv-nat-no-helper-no-pasv_address, but curl --ftp-skip-pasv-ip ignores the 227 address and dials the control connection\'s address; the passive ports are port-forwarded, so the transfer works and hides the NAT problem.',
    exercises: 'client-side PASV address substitution (curl --ftp-skip-pasv-ip)',
    router: [DNAT_CONTROL, DNAT_PASSIVE],
    server: {},
    runs: [{ label: 'RETR via PASV, client substitutes the control address', args: ['--disable-epsv', '--ftp-skip-pasv-ip', ...USER, url()], exit: [0] }],
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
    },
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Inside, DNAT has already turned the data connection\'s destination back into the announced 10.0.0.21; FTP_PASV_PRIVATE_ADDRESS is unconstrained (a public client meets a private server address that works).',
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'ftp.response.code == 227 && ftp.passive.ip == 10.0.0.21', present: true, what: 'the 227 reply carries the private address' },
      { side: 'outside', filter: `${syn} && ip.dst == 203.0.113.1 && ${passivePorts(40000, 40009, 'dst')}`, present: true, what: 'the client dials the control address instead' },
      { side: 'outside', filter: `${syn} && ip.dst == 10.0.0.21`, present: false, what: 'and never the announced one' },
      { side: 'outside', filter: 'ftp.response.code == 226', present: true, what: 'transfer complete' },
    ],
  },
  {
    name: 'pasv-nat-helper', topology: 'server-nat', tls: false, controlPort: 21,
    shows: 'Server behind DNAT with the Linux FTP helper attached (-t raw ... -j CT --helper ftp): nf_nat_ftp rewrites the 227 from 10,0,0,21 to 203,0,113,1 and its expectation forwards the data connection. Works; the inside and outside captures differ in the 227 text, its length and the later TCP sequence numbers.',
    exercises: 'nf_conntrack_ftp/nf_nat_ftp PASV rewrite, FTP_ADDRESS_REWRITTEN between vantage points',
    router: [DNAT_CONTROL, HELPER_FROM_CLIENT],
    server: {},
    runs: [{ label: 'RETR via PASV, client uses the announced address', args: [...USE_PASV_IP, ...USER, url()], exit: [0] }],
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED',
        'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
    },
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Inside, the 227 still says 10.0.0.21 to a public client, yet the data connection arrives there: FTP_PASV_PRIVATE_ADDRESS is unconstrained.',
    },
    compare: { must: ['FTP_ADDRESS_REWRITTEN'], mustNot: [] },
    evidence: [
      { side: 'inside', filter: 'ftp.response.code == 227 && ftp.passive.ip == 10.0.0.21', present: true, what: 'vsftpd announces its private address' },
      { side: 'outside', filter: 'ftp.response.code == 227 && ftp.passive.ip == 203.0.113.1', present: true, what: 'the helper rewrote it to the public address' },
      { side: 'outside', filter: 'ftp.passive.ip == 10.0.0.21', present: false, what: 'the private address never leaves' },
      { side: 'outside', filter: 'ftp.response.code == 226', present: true, what: 'transfer complete' },
    ],
  },
  {
    name: 'pasv-nat-pasv_address', topology: 'server-nat', tls: false, controlPort: 21,
    shows: 'Server behind DNAT, no helper, vsftpd pasv_address=203.0.113.1 and the passive range port-forwarded: the server announces its public address itself. Works; inside and outside show the same 227.',
    exercises: 'vsftpd pasv_address behind DNAT, passive range port-forward',
    router: [DNAT_CONTROL, DNAT_PASSIVE],
    server: { pasvAddress: '203.0.113.1' },
    runs: [{ label: 'RETR via PASV, client uses the announced address', args: [...USE_PASV_IP, ...USER, url()], exit: [0] }],
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED',
        'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
    },
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED',
        'FTP_DATA_SOURCE_MISMATCH', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Inside, the data connection goes to 10.0.0.21 (DNAT) while 203.0.113.1 was announced: FTP_DATA_TO_UNANNOUNCED_ADDRESS is unconstrained (the right configuration for a server behind NAT, seen from behind the NAT).',
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'inside', filter: 'ftp.response.code == 227 && ftp.passive.ip == 203.0.113.1', present: true, what: 'vsftpd announces pasv_address' },
      { side: 'outside', filter: 'ftp.response.code == 227 && ftp.passive.ip == 203.0.113.1', present: true, what: 'unchanged on the outside' },
      { side: 'inside', filter: `${syn} && ip.dst == 10.0.0.21 && ${passivePorts(40000, 40009, 'dst')}`, present: true, what: 'DNAT delivers the data connection to the server' },
      { side: 'outside', filter: 'ftp.response.code == 226', present: true, what: 'transfer complete' },
    ],
  },
  {
    name: 'epsv-nat', topology: 'server-nat', tls: false, controlPort: 21,
    shows: 'Server behind DNAT, no helper, no pasv_address, passive range port-forwarded, client uses EPSV (curl\'s default): the 229 reply carries only a port, so nothing private leaks. Works.',
    exercises: 'EPSV through DNAT without helper',
    router: [DNAT_CONTROL, DNAT_PASSIVE],
    server: {},
    runs: [{ label: 'RETR via EPSV', args: [...USER, url()], exit: [0] }],
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED',
        'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
    },
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED',
        'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'ftp.response.code == 229', present: true, what: 'EPSV reply' },
      { side: 'outside', filter: 'ftp.response.code == 227', present: false, what: 'no PASV' },
      { side: 'outside', filter: 'ftp.response.code == 226', present: true, what: 'transfer complete' },
    ],
  },
  {
    name: 'passive-range-wider-on-server-than-firewall', topology: 'server-nat', tls: false, controlPort: 21,
    shows: 'vsftpd hands out passive ports 40000-40009 (pasv_address set), the router forwards all of them but its FORWARD rules only admit 40000-40004. A session that draws a port in 40005-40009 sees its data SYN dropped and times out; one that draws a low port works. vsftpd picks ports at random, so the recorder repeats single-transfer sessions until it has one of each and keeps those two.',
    exercises: 'passive port range mismatch between server and firewall (--passive-range 40000-40004), data SYN dropped',
    router: [DNAT_CONTROL, DNAT_PASSIVE,
      'iptables -A FORWARD -i to-client -m conntrack --ctstate NEW -p tcp -m multiport --dports 21,40000:40004 -j ACCEPT',
      'iptables -A FORWARD -i to-client -m conntrack --ctstate NEW -j DROP'],
    server: { pasvAddress: '203.0.113.1' },
    runs: [{ label: 'RETR via PASV', args: [...USE_PASV_IP, ...USER, url()], exit: [0, 28, 7] }],
    repeat: { want: ['ok', 'fail'], maxAttempts: 16 },
    passiveRange: [40000, 40004],
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_DATA_CONNECT_FAILED'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Analyse with --passive-range 40000-40004 (the firewall\'s range). curl gives up before RETR, so no FTP_TRANSFER_FAILED.',
    },
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PORT_OUT_OF_RANGE'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Analyse with --passive-range 40000-40004. Inside, the blocked data connection never appears and no 425 follows: FTP_DATA_CONNECT_FAILED is unconstrained; FTP_DATA_TO_UNANNOUNCED_ADDRESS too (DNAT, as in pasv-nat-pasv_address).',
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: `${syn} && ${passivePorts(40005, 40009, 'dst')}`, present: true, what: 'a data SYN to a port the firewall does not admit' },
      { side: 'outside', filter: `${synAck} && ${passivePorts(40005, 40009, 'src')}`, present: false, what: 'never answered' },
      { side: 'inside', filter: passivePorts(40005, 40009, 'dst'), present: false, what: 'and never forwarded' },
      { side: 'outside', filter: `${synAck} && ${passivePorts(40000, 40004, 'src')}`, present: true, what: 'a data connection on an admitted port completes' },
      { side: 'outside', filter: 'ftp.response.code == 226', present: true, what: 'that transfer completes' },
    ],
  },
  {
    name: 'data-from-second-client-address', topology: 'client-nat', tls: false, controlPort: 21,
    shows: 'Client behind a router that spreads new connections over two public addresses without persistence (iptables statistic nth: every other connection leaves from 198.51.100.3). The control connection leaves from .2, the EPSV data connection from .3; vsftpd (pasv_promiscuous=NO) accepts it, sees the wrong peer and answers 425 "Security: Bad IP connecting."',
    exercises: 'data connection from another client address than the control connection, vsftpd 425 Bad IP',
    router: [
      'iptables -t nat -A POSTROUTING -o to-server -s 192.168.10.0/24 -m statistic --mode nth --every 2 --packet 0 -j SNAT --to-source 198.51.100.2',
      'iptables -t nat -A POSTROUTING -o to-server -s 192.168.10.0/24 -j SNAT --to-source 198.51.100.3',
    ],
    server: {},
    runs: [{ label: 'RETR via EPSV', args: [...USER, url()], exit: [19] }],
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_TRANSFER_FAILED'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS',
        'FTP_PASV_PORT_OUT_OF_RANGE', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'The data connection completes at TCP level before vsftpd drops it: FTP_DATA_CONNECT_FAILED is unconstrained.',
    },
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_TRANSFER_FAILED'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS',
        'FTP_PASV_PORT_OUT_OF_RANGE', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Inside, both connections come from 192.168.10.10: only the 425 text ("Bad IP connecting") names the cause, so FTP_DATA_SOURCE_MISMATCH is unconstrained here; FTP_DATA_CONNECT_FAILED too.',
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: `${syn} && ip.src == 198.51.100.2 && tcp.dstport == 21`, present: true, what: 'control connection from .2' },
      { side: 'outside', filter: `${syn} && ip.src == 198.51.100.3 && ${passivePorts(40000, 40009, 'dst')}`, present: true, what: 'data connection from .3' },
      { side: 'outside', filter: 'ftp.response.code == 425 && ftp.response.arg contains "Bad IP"', present: true, what: 'vsftpd: 425 Security: Bad IP connecting.' },
      { side: 'inside', filter: `${syn} && ip.src == 192.168.10.10 && ${passivePorts(40000, 40009, 'dst')}`, present: true, what: 'inside, the data connection leaves from the client\'s only address' },
    ],
  },
  {
    name: 'active-nat-no-helper', topology: 'client-nat', tls: false, controlPort: 21,
    shows: 'Client behind SNAT, active mode (PORT), no helper: PORT announces 192.168.10.10. vsftpd (port_promiscuous=YES so it tries) connects from port 20 to the private address; the SYN dies at the router and vsftpd answers 425 after its 3 s connect_timeout.',
    exercises: 'PORT with a private address through SNAT, server data SYN unanswered, 425',
    router: [MASQUERADE],
    server: { portPromiscuous: true },
    runs: [{ label: 'RETR via PORT', args: ['-P', '-', '--disable-eprt', ...USER, url()], exit: [19] }],
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_TRANSFER_FAILED'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS',
        'FTP_PASV_PORT_OUT_OF_RANGE', ...FTPS_ALL, ...ALWAYS_NOT],
    },
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_TRANSFER_FAILED'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Outside, the server dials 192.168.10.10 while the control peer is 198.51.100.1: FTP_DATA_SOURCE_MISMATCH is unconstrained (the cause is the PORT address).',
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'inside', filter: 'ftp.request.command == "PORT" && ftp.active.cip == 192.168.10.10', present: true, what: 'PORT with the private address' },
      { side: 'outside', filter: 'ftp.request.command == "PORT" && ftp.active.cip == 192.168.10.10', present: true, what: 'unchanged on the outside' },
      { side: 'outside', filter: `${syn} && ip.dst == 192.168.10.10 && tcp.srcport == 20`, present: true, what: 'vsftpd dials the private address from port 20' },
      { side: 'inside', filter: 'tcp.srcport == 20', present: false, what: 'it never arrives' },
      { side: 'outside', filter: 'ftp.response.code == 425', present: true, what: '425 Failed to establish connection.' },
    ],
  },
  {
    name: 'active-nat-port-refused', topology: 'client-nat', tls: false, controlPort: 21,
    shows: 'Same as active-nat-no-helper but with vsftpd\'s default port_promiscuous=NO: the PORT address differs from the control peer, so vsftpd refuses the command itself with 500 "Illegal PORT command." and never dials.',
    exercises: 'PORT with a private address through SNAT, refused by vsftpd (500 Illegal PORT command)',
    router: [MASQUERADE],
    server: {},
    runs: [{ label: 'RETR via PORT', args: ['-P', '-', '--disable-eprt', ...USER, url()], exit: [30] }],
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS',
        'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'No data connection is attempted and curl stops before RETR: FTP_DATA_CONNECT_FAILED is unconstrained.',
    },
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS',
        'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'No data connection is attempted: FTP_DATA_CONNECT_FAILED is unconstrained.',
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'ftp.request.command == "PORT" && ftp.active.cip == 192.168.10.10', present: true, what: 'PORT with the private address' },
      { side: 'outside', filter: 'ftp.response.code == 500 && ftp.response.arg contains "Illegal PORT"', present: true, what: '500 Illegal PORT command.' },
      { side: 'outside', filter: 'tcp.srcport == 20', present: false, what: 'vsftpd never dials' },
    ],
  },
  {
    name: 'active-nat-helper', topology: 'client-nat', tls: false, controlPort: 21,
    shows: 'Client behind SNAT, active mode, FTP helper attached on the router: nf_nat_ftp rewrites PORT 192,168,10,10,... to 198,51,100,1,... and the expectation forwards vsftpd\'s connection from port 20 back to the client. Works; inside and outside PORT lines differ.',
    exercises: 'nf_nat_ftp PORT rewrite for a client behind SNAT, FTP_ADDRESS_REWRITTEN',
    router: [MASQUERADE, HELPER_FROM_CLIENT],
    server: {},
    runs: [{ label: 'RETR via PORT', args: ['-P', '-', '--disable-eprt', ...USER, url()], exit: [0] }],
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_ACTIVE_MODE'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'Inside, PORT still carries 192.168.10.10 to a public server, yet the data connection arrives: FTP_PORT_PRIVATE_ADDRESS is unconstrained.',
    },
    outside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_ACTIVE_MODE'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
    },
    compare: { must: ['FTP_ADDRESS_REWRITTEN'], mustNot: [] },
    evidence: [
      { side: 'inside', filter: 'ftp.request.command == "PORT" && ftp.active.cip == 192.168.10.10', present: true, what: 'curl sends its private address' },
      { side: 'outside', filter: 'ftp.request.command == "PORT" && ftp.active.cip == 198.51.100.1', present: true, what: 'the helper rewrote it to the router\'s public address' },
      { side: 'inside', filter: `${syn} && tcp.srcport == 20 && ip.dst == 192.168.10.10`, present: true, what: 'vsftpd\'s data connection reaches the client' },
      { side: 'outside', filter: 'ftp.response.code == 226', present: true, what: 'transfer complete' },
    ],
  },
  ftpsProtP('ftps-explicit-prot-p', false),
  ftpsProtP('ftps-explicit-prot-p-tls12', true),
  {
    name: 'ftps-explicit-prot-c', topology: 'routed', tls: true, controlPort: 21,
    shows: 'Explicit FTPS protecting only the control channel (curl --ftp-ssl-control sends PROT C; vsftpd force_local_data_ssl=NO allows it): login is encrypted, the file crosses in clear.',
    exercises: 'FTPS with PROT C: data channel unprotected',
    router: [],
    server: { ssl: 'explicit', forceDataSsl: false },
    runs: [{ label: 'RETR over explicit FTPS, PROT C', args: ['--ftp-ssl-control', '--cacert', '{cert}', ...USER, url()], exit: [0] }],
    inside: {
      must: ['FTPS_DATA_UNPROTECTED'],
      mustNot: ['FTP_CLEARTEXT_LOGIN', 'FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS',
        'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_TRANSFER_FAILED', 'FTP_PASV_PORT_OUT_OF_RANGE',
        'FTPS_CLEAR_COMMAND_CHANNEL', 'FTPS_SESSION_REUSE_MISSING', 'FTPS_NAT_BLIND', ...TLS_HEALTHY_NOT, 'TLS_HANDSHAKE_FAILED', ...ALWAYS_NOT],
    },
    outside: { must: [], mustNot: [] },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'data.text contains "PROT C"', present: true, what: 'PROT C (decrypted)', decrypt: true },
      { side: 'outside', filter: dataClientHello, present: false, what: 'no TLS on the data connection' },
      { side: 'outside', filter: `${passivePorts(40000, 40009, 'src')} && tcp.len > 0 && !tls`, present: true, what: 'the file in clear from a passive port' },
    ],
  },
  ftpsNoReuse('ftps-no-session-reuse', false),
  ftpsNoReuse('ftps-no-session-reuse-tls12', true),
  {
    name: 'ftps-implicit-990', topology: 'routed', tls: true, controlPort: 990,
    shows: 'Implicit FTPS: vsftpd implicit_ssl=YES on port 990, TLS from the first byte, the 220 greeting arrives inside TLS; curl ftps:// then sends PBSZ 0 / PROT P and the data connection resumes the session.',
    exercises: 'implicit FTPS on 990',
    router: [],
    server: { ssl: 'implicit' },
    runs: [{ label: 'RETR over implicit FTPS', args: ['--cacert', '{cert}', ...USER, url(LAB_FILE, 'ftps')], exit: [0] }],
    inside: {
      must: [],
      mustNot: ['FTP_CLEARTEXT_LOGIN', 'FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS',
        'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_TRANSFER_FAILED', 'FTP_PASV_PORT_OUT_OF_RANGE',
        ...FTPS_ALL, ...TLS_HEALTHY_NOT, 'TLS_HANDSHAKE_FAILED', ...ALWAYS_NOT],
    },
    outside: { must: [], mustNot: [] },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'tcp.dstport == 990 && tls.handshake.type == 1', present: true, what: 'ClientHello as the first payload on 990' },
      { side: 'outside', filter: 'data.text contains "220 "', present: true, what: 'the greeting, decrypted', decrypt: true },
      { side: 'outside', filter: dataClientHello, present: true, what: 'TLS on the data connection' },
      { side: 'outside', filter: 'data.text contains "226 "', present: true, what: 'transfer complete', decrypt: true },
    ],
  },
  {
    name: 'ftps-ccc-refused', topology: 'routed', tls: true, controlPort: 21,
    shows: 'The client asks for CCC (curl --ftp-ssl-ccc) to clear the control channel for a NAT helper; vsftpd does not implement CCC and answers 500, so the control channel stays encrypted and curl carries on.',
    exercises: 'CCC sent and refused: the control channel stays TLS',
    router: [],
    server: { ssl: 'explicit' },
    runs: [{ label: 'RETR over explicit FTPS with CCC', args: [...FTPS, '--ftp-ssl-ccc', ...USER, url()], exit: [0] }],
    inside: {
      must: [],
      mustNot: ['FTP_CLEARTEXT_LOGIN', 'FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS',
        'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_TRANSFER_FAILED', 'FTP_PASV_PORT_OUT_OF_RANGE',
        ...FTPS_ALL, ...TLS_HEALTHY_NOT, 'TLS_HANDSHAKE_FAILED', ...ALWAYS_NOT],
      notes: 'FTPS_CLEAR_COMMAND_CHANNEL must not fire: CCC was refused (500), TLS never stopped.',
    },
    outside: { must: [], mustNot: [] },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'data.text contains "CCC"', present: true, what: 'CCC (decrypted)', decrypt: true },
      { side: 'outside', filter: 'data.text contains "500 Unknown command."', present: true, what: 'refused by vsftpd (decrypted)', decrypt: true },
      { side: 'outside', filter: 'data.text contains "226 "', present: true, what: 'transfer completes over TLS', decrypt: true },
    ],
  },
  {
    name: 'ftps-nat-helper-blind', topology: 'server-nat', tls: true, controlPort: 21,
    shows: 'The pasv-nat-helper setup with explicit FTPS: the helper is attached but cannot read the encrypted 227, which keeps the private 10,0,0,21; the client dials it and the SYN dies at the router. What works for FTP breaks for FTPS.',
    exercises: 'FTPS through NAT: helper blind, private PASV address inside TLS',
    router: [DNAT_CONTROL, HELPER_FROM_CLIENT],
    server: { ssl: 'explicit' },
    runs: [{ label: 'RETR via PASV over explicit FTPS', args: [...FTPS, ...USE_PASV_IP, ...USER, url()], exit: [28, 7] }],
    outside: {
      must: ['FTPS_NAT_BLIND', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED'],
      mustNot: ['FTP_CLEARTEXT_LOGIN', 'FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', 'FTPS_DATA_UNPROTECTED', 'FTPS_CLEAR_COMMAND_CHANNEL', ...ALWAYS_NOT],
      notes: 'FTP_PASV_PRIVATE_ADDRESS needs the key log (the 227 is encrypted); FTPS_NAT_BLIND and FTP_DATA_CONNECT_FAILED follow from the clear-text evidence too (a SYN to 10.0.0.21 unanswered after an encrypted control exchange).',
    },
    inside: {
      must: ['FTPS_NAT_BLIND', 'FTP_PASV_PRIVATE_ADDRESS'],
      mustNot: ['FTP_CLEARTEXT_LOGIN', 'FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', 'FTPS_DATA_UNPROTECTED', 'FTPS_CLEAR_COMMAND_CHANNEL', ...ALWAYS_NOT],
      notes: 'Inside, the data connection never appears and no 425 follows: FTP_DATA_CONNECT_FAILED is unconstrained.',
    },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'data.text contains "227 Entering Passive Mode (10,0,0,21,"', present: true, what: 'the decrypted 227 still carries the private address', decrypt: true },
      { side: 'outside', filter: `${syn} && ip.dst == 10.0.0.21`, present: true, what: 'the client dials it' },
      { side: 'outside', filter: `${synAck} && ip.src == 10.0.0.21`, present: false, what: 'nothing answers' },
      { side: 'inside', filter: passivePorts(40000, 40009, 'dst'), present: false, what: 'no data connection reaches the server' },
    ],
  },
  {
    name: 'ipv6-epsv-eprt', topology: 'routed6', tls: false, controlPort: 21,
    shows: 'IPv6 only: one session in passive mode (EPSV, 229 |||port|), one in active mode (EPRT |2|2001:db8:10::10|port|, vsftpd connects from port 20). Both work.',
    exercises: 'IPv6 EPSV and EPRT (address family 2)',
    router: [],
    server: { ipv6: true },
    runs: [
      { label: 'RETR via EPSV over IPv6', args: ['-6', ...USER, url()], exit: [0] },
      { label: 'RETR via EPRT over IPv6', args: ['-6', '-P', '-', ...USER, url()], exit: [0] },
    ],
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN', 'FTP_ACTIVE_MODE'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
    },
    outside: { must: [], mustNot: [] },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'ftp.response.code == 229', present: true, what: 'EPSV reply' },
      { side: 'outside', filter: 'ftp.request.command == "EPRT" && ftp.eprt.af == 2', present: true, what: 'EPRT with address family 2' },
      { side: 'outside', filter: `${syn} && ipv6.dst == 2001:db8:10::10 && tcp.srcport == 20`, present: true, what: 'vsftpd connects back from port 20' },
      { side: 'outside', filter: 'ftp.response.code == 226', present: true, what: 'transfers complete' },
    ],
  },
  {
    name: 'anonymous-login', topology: 'routed', tls: false, controlPort: 21,
    shows: 'Anonymous login (curl\'s default USER anonymous / PASS ftp@example.com): a directory listing and a file.',
    exercises: 'anonymous login, LIST and RETR via EPSV',
    router: [],
    server: { anonymous: true },
    runs: [
      { label: 'LIST as anonymous', args: [url('')], exit: [0] },
      { label: 'RETR as anonymous', args: [url()], exit: [0] },
    ],
    inside: {
      must: ['FTP_ANONYMOUS_LOGIN'],
      mustNot: ['FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED', 'FTP_DATA_SOURCE_MISMATCH',
        'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'FTP_CLEARTEXT_LOGIN is unconstrained: the anonymous "password" is an e-mail placeholder.',
    },
    outside: { must: [], mustNot: [] },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'ftp.request.command == "USER" && ftp.request.arg == "anonymous"', present: true, what: 'USER anonymous' },
      { side: 'outside', filter: 'ftp.response.code == 230', present: true, what: 'login accepted' },
      { side: 'outside', filter: 'ftp.request.command == "LIST"', present: true, what: 'a listing' },
    ],
  },
  {
    name: 'login-530', topology: 'routed', tls: false, controlPort: 21,
    shows: 'A wrong password: vsftpd answers 530 Login incorrect and curl gives up.',
    exercises: 'failed login (530)',
    router: [],
    server: {},
    // curl counts the login as part of connecting; PAM's failure delay plus vsftpd's
    // delay_failed_login take about 3 s, so this run gets a longer connect timeout.
    runs: [{ label: 'login with a wrong password', args: ['--connect-timeout', '8', '-u', `${LAB_USER}:${WRONG_PASSWORD}`, url()], exit: [67] }],
    inside: {
      must: ['FTP_CLEARTEXT_LOGIN'],
      mustNot: ['FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED',
        'FTP_DATA_SOURCE_MISMATCH', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PORT_OUT_OF_RANGE', 'FTP_TRANSFER_FAILED', ...FTPS_ALL, ...ALWAYS_NOT],
      notes: 'The password crossed in clear even though it was wrong.',
    },
    outside: { must: [], mustNot: [] },
    compare: NO_REWRITE,
    evidence: [
      { side: 'outside', filter: 'ftp.response.code == 530', present: true, what: '530 Login incorrect.' },
      { side: 'outside', filter: 'ftp.response.code == 230', present: false, what: 'no login' },
    ],
  },
];

/**
 * Routed scenarios see the same packets on both router interfaces, so the outside capture
 * gets the inside expectation (an empty `outside` above means "same as inside").
 */
export function expectationFor(sc: Scenario, side: Side): CaptureExpectation {
  const e = sc[side];
  if (side === 'outside' && e.must.length === 0 && e.mustNot.length === 0) return sc.inside;
  return e;
}
