/**
 * Small captures the server and browser tests upload: a passive FTP transfer that fails behind
 * NAT, an FTP session (and a TLS handshake) full of markup in packet strings, an NLB port with
 * flooding, and a damaged pcap. Real captures are preferred where they exist (captures/lab,
 * captures/nlb); these are the fallbacks and the hostile inputs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureBuilder, TcpConversation, ethernet, ipv4, tcpSegment, SYN, PSH, ACK, type Host } from './packets.js';
import { encodeMembershipHeartbeat } from '../../src/proto/l2/nlb-encode.js';
import { repoRoot } from '../helpers.js';

const T0 = Date.UTC(2024, 4, 14, 9, 30, 0) * 1000;
const ROUTER_MAC = '00:00:5e:00:01:01';

const ftpClient: Host = { ip: '198.51.100.10', mac: '02:00:00:00:00:10' };
const ftpServerPublic: Host = { ip: '203.0.113.21', mac: ROUTER_MAC };

/**
 * The lab's pasv-nat-no-helper-no-pasv_address seen outside: a server behind DNAT announces
 * its private 10.0.0.21 in the 227 reply (10,0,0,21,156,64 → 156*256+64 = 40000), the client
 * dials it and its SYN (sent three times) is never answered.
 */
export function writeFailingPasv(path: string): void {
  const cap = new CaptureBuilder(T0);
  const ctl = new TcpConversation(cap, ftpClient, 51200, ftpServerPublic, 21, { a: ROUTER_MAC, b: ftpClient.mac });
  ctl.handshake();
  ctl.send(false, '220 (vsFTPd 3.0.3)\r\n');
  ctl.send(true, 'USER labuser\r\n');
  ctl.send(false, '331 Please specify the password.\r\n');
  ctl.send(true, 'PASS labpass\r\n');
  ctl.send(false, '230 Login successful.\r\n');
  ctl.send(true, 'TYPE I\r\n');
  ctl.send(false, '200 Switching to Binary mode.\r\n');
  ctl.send(true, 'PASV\r\n');
  ctl.send(false, '227 Entering Passive Mode (10,0,0,21,156,64).\r\n');
  const data = new TcpConversation(cap, ftpClient, 51202, { ip: '10.0.0.21', mac: ROUTER_MAC }, 40000, { a: ROUTER_MAC, b: ftpClient.mac });
  data.syn(3000);
  data.synRetransmit(1_000_000);
  data.synRetransmit(2_000_000);
  ctl.send(true, 'QUIT\r\n', 2_000_000);
  ctl.send(false, '221 Goodbye.\r\n');
  ctl.close();
  cap.write(path);
}

/**
 * One working passive LIST seen on both sides of a NAT whose FTP helper rewrites the 227 reply:
 * inside the server announces 10.0.0.21 (10,0,0,21,156,64), outside the client reads the public
 * 203.0.113.21 in the same reply. Stand-in for the lab's pasv-nat-helper pair.
 */
export function writePasvHelperPair(insidePath: string, outsidePath: string): void {
  const one = (path: string, serverIp: string, announce: string): void => {
    const cap = new CaptureBuilder(T0 + 1_800_000_000);
    const server: Host = { ip: serverIp, mac: ROUTER_MAC };
    const ctl = new TcpConversation(cap, ftpClient, 51300, server, 21, { a: ROUTER_MAC, b: ftpClient.mac });
    ctl.handshake();
    ctl.send(false, '220 (vsFTPd 3.0.3)\r\n');
    ctl.send(true, 'USER labuser\r\n');
    ctl.send(false, '331 Please specify the password.\r\n');
    ctl.send(true, 'PASS labpass\r\n');
    ctl.send(false, '230 Login successful.\r\n');
    ctl.send(true, 'PASV\r\n');
    ctl.send(false, `227 Entering Passive Mode (${announce},156,64).\r\n`);
    const data = new TcpConversation(cap, ftpClient, 51302, server, 40000, { a: ROUTER_MAC, b: ftpClient.mac });
    data.handshake();
    ctl.send(true, 'LIST\r\n');
    ctl.send(false, '150 Here comes the directory listing.\r\n');
    data.send(false, '-rw-r--r--    1 0        0              12 May 14 09:00 hello.txt\r\n');
    data.close();
    ctl.send(false, '226 Directory send OK.\r\n');
    ctl.send(true, 'QUIT\r\n');
    ctl.send(false, '221 Goodbye.\r\n');
    ctl.close();
    cap.write(path);
  };
  one(insidePath, '10.0.0.21', '10,0,0,21');
  one(outsidePath, '203.0.113.21', '203,0,113,21');
}

/** Strings that would run script if any view used innerHTML (or an attribute sink) on them. */
export const XSS = {
  user: '<script>window.__xss="user"</script>',
  dir: '"><img src=x onerror="window.__xss=\'cwd\'">',
  file: '"><img src=x onerror=alert(1)>.txt',
  stor: '<svg onload=alert(3)>x</svg>',
  sni: 'x"><img src=x onerror=alert(5)>.example',
  certCn: '<script>alert(6)</script>',
  certO: '"><img src=x onerror=alert(7)>',
};

function u8(v: number): Buffer { return Buffer.from([v]); }
function u16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }
function u24(v: number): Buffer { const b = Buffer.alloc(3); b.writeUIntBE(v, 0, 3); return b; }
function vec(lenBytes: 1 | 2 | 3, ...parts: Buffer[]): Buffer {
  const d = Buffer.concat(parts);
  return Buffer.concat([lenBytes === 1 ? u8(d.length) : lenBytes === 2 ? u16(d.length) : u24(d.length), d]);
}
function handshake(type: number, body: Buffer): Buffer { return Buffer.concat([u8(type), u24(body.length), body]); }
function record(type: number, body: Buffer): Buffer { return Buffer.concat([u8(type), u16(0x0303), u16(body.length), body]); }

/** A self-signed certificate whose subject is markup, made with openssl; null when openssl is missing. */
export function xssCertificate(): Buffer | null {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-cert-'));
  try {
    const subject = `/CN=${XSS.certCn.replace(/\//g, '\\/')}/O=${XSS.certO}`;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.der'), '-outform', 'DER', '-days', '3650',
      '-subj', subject, '-addext', `subjectAltName=DNS:xss.example`], { stdio: 'ignore' });
    return readFileSync(join(dir, 'c.der'));
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A complete FTP session whose user name, directory, file names and reply texts carry markup,
 * plus (when openssl exists) a TLS 1.2 handshake on 443 whose SNI and certificate subject do.
 */
export function writeXssCapture(path: string): void {
  const cap = new CaptureBuilder(T0 + 3_600_000_000);
  const client: Host = { ip: '192.0.2.50', mac: '02:00:00:00:00:50' };
  const server: Host = { ip: '192.0.2.80', mac: '02:00:00:00:00:80' };
  const ctl = new TcpConversation(cap, client, 40100, server, 21);
  ctl.handshake();
  ctl.send(false, '220 <b>hello</b> FTP\r\n');
  ctl.send(true, `USER ${XSS.user}\r\n`);
  ctl.send(false, `331 Password required for ${XSS.user}\r\n`);
  ctl.send(true, 'PASS hunter2\r\n');
  ctl.send(false, `230 User ${XSS.user} logged in\r\n`);
  ctl.send(true, `CWD ${XSS.dir}\r\n`);
  ctl.send(false, `250 CWD command successful: ${XSS.dir}\r\n`);
  ctl.send(true, 'PASV\r\n');
  ctl.send(false, '227 Entering Passive Mode (192,0,2,80,195,80).\r\n');
  const data = new TcpConversation(cap, client, 40102, server, 50000);
  data.handshake();
  ctl.send(true, `RETR ${XSS.file}\r\n`);
  ctl.send(false, `150 Opening BINARY mode data connection for ${XSS.file}\r\n`);
  data.send(false, '<script>alert("data")</script>\n');
  data.close();
  ctl.send(false, '226 Transfer complete.\r\n');
  ctl.send(true, 'PASV\r\n');
  ctl.send(false, '227 Entering Passive Mode (192,0,2,80,195,81).\r\n');
  ctl.send(true, `STOR ${XSS.stor}\r\n`);
  ctl.send(false, `553 Could not create file ${XSS.stor}\r\n`);
  ctl.send(true, 'QUIT\r\n');
  ctl.send(false, '221 Goodbye.\r\n');
  ctl.close();

  const der = xssCertificate();
  if (der) {
    const tls = new TcpConversation(cap, client, 40200, server, 443);
    tls.handshake();
    const sni = Buffer.from(XSS.sni, 'latin1');
    const sniExt = Buffer.concat([u16(0), vec(2, vec(2, u8(0), vec(2, sni)))]);
    const clientHello = handshake(1, Buffer.concat([u16(0x0303), Buffer.alloc(32, 7), vec(1), vec(2, u16(0xc02b), u16(0xc02f)), vec(1, u8(0)), vec(2, sniExt)]));
    tls.send(true, record(22, clientHello));
    const serverHello = handshake(2, Buffer.concat([u16(0x0303), Buffer.alloc(32, 9), vec(1, Buffer.alloc(32, 3)), u16(0xc02b), u8(0), vec(2)]));
    const certificate = handshake(11, vec(3, vec(3, der)));
    tls.send(false, record(22, Buffer.concat([serverHello, certificate, handshake(14, Buffer.alloc(0))])));
    tls.close();
  }
  cap.write(path);
}

/** What writeNlbCapture put on the wire in each second (offsets from the first second). */
export interface NlbSecond { offset: number; epochSecond: number; frames: number; flooded: number }

/**
 * An observer port next to a unicast-mode NLB cluster (VIP 192.168.10.100, hosts .11 and .12):
 * heartbeats every second from both hosts (host .12 silent for seconds 14..21, longer than the
 * 5-period tolerance), the observer's own two frames a second, and client traffic to the
 * cluster MAC 02-bf-c0-a8-0a-64 that reaches this port only because the switch floods it:
 * none for 10 s, then 2 frames a second, then 6 from second 20 on.
 */
export function writeNlbCapture(path: string): NlbSecond[] {
  const start = T0 + 7_200_000_000;
  const cap = new CaptureBuilder(start);
  const vip = '192.168.10.100';
  const clusterMac = '02:bf:c0:a8:0a:64';
  const observer: Host = { ip: '192.168.10.50', mac: '02:00:00:00:0a:32' };
  const gateway: Host = { ip: '192.168.10.1', mac: '02:00:00:00:0a:01' };
  const client = '192.168.10.77';
  const frames: Array<{ ts: number; data: Buffer }> = [];
  const seconds: NlbSecond[] = [];
  for (let s = 0; s < 30; s++) {
    const base = start + s * 1_000_000;
    let count = 0;
    frames.push({ ts: base + 1000, data: encodeMembershipHeartbeat({ clusterIp: vip, hostIp: '192.168.10.11', priority: 1 }) });
    count++;
    if (s < 14 || s > 21) {
      frames.push({ ts: base + 2000, data: encodeMembershipHeartbeat({ clusterIp: vip, hostIp: '192.168.10.12', priority: 2 }) });
      count++;
    }
    for (let i = 0; i < 2; i++) {
      const seg = tcpSegment(observer.ip, gateway.ip, 50000 + i, 80, 1000 + s, 0, SYN);
      frames.push({ ts: base + 10_000 + i * 1000, data: ethernet(gateway.mac, observer.mac, 0x0800, ipv4(observer.ip, gateway.ip, 6, seg)) });
      count++;
    }
    const flooded = s < 10 ? 0 : s < 20 ? 2 : 6;
    for (let i = 0; i < flooded; i++) {
      const seg = tcpSegment(client, vip, 41000 + s * 10 + i, 80, 5000, 1, PSH | ACK, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      frames.push({ ts: base + 100_000 + i * 10_000, data: ethernet(clusterMac, gateway.mac, 0x0800, ipv4(client, vip, 6, seg)) });
    }
    seconds.push({ offset: s, epochSecond: Math.floor(base / 1e6), frames: count + flooded, flooded });
  }
  frames.sort((a, b) => a.ts - b.ts);
  for (const f of frames) cap.frames.push(f);
  cap.write(path);
  return seconds;
}

/** The failing PASV capture cut in the middle of a record: analysed up to there, with a warning. */
export function writeDamaged(path: string, source: string): void {
  const buf = readFileSync(source);
  writeFileSync(path, buf.subarray(0, Math.floor(buf.length * 0.6)));
}

/** captures/<dir>/<name> when another helper has recorded it, else null. */
export function recorded(dir: string, name: string): string | null {
  const p = join(repoRoot, 'captures', dir, name);
  return existsSync(p) ? p : null;
}
