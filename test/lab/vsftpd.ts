import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './netns.js';

/** The lab's local account. Known on purpose: the captures carry it in clear where FTP is clear. */
export const LAB_USER = 'faultlab';
export const LAB_PASSWORD = 'lab-pass-1';
export const WRONG_PASSWORD = 'not-the-password';
const LAB_UID = 64999;

/** The file every transfer fetches: small, so the captures stay small. */
export const LAB_FILE = 'hello.txt';
const LAB_FILE_TEXT = 'hello from the faultline FTP lab\n';

/** What a scenario asks of the server; everything else is fixed below. */
export interface VsftpdSettings {
  anonymous?: boolean;
  /** vsftpd `pasv_address`: the address written into 227 replies instead of the local one. */
  pasvAddress?: string;
  /** vsftpd `port_promiscuous`: accept a PORT address other than the control peer's. */
  portPromiscuous?: boolean;
  ssl?: 'explicit' | 'implicit';
  /** vsftpd `force_local_data_ssl` (default YES); NO lets PROT C through. */
  forceDataSsl?: boolean;
  ipv6?: boolean;
}

export const PASV_MIN_PORT = 40000;
export const PASV_MAX_PORT = 40009;

/** Server-side files shared by every scenario of a run: document roots, certificate, account. */
export interface ServerFiles {
  dir: string;
  home: string;
  anonRoot: string;
  emptyDir: string;
  cert: string;
  key: string;
  /** /etc overlay for the server namespace: host files plus the lab account. */
  etc: Record<string, string>;
}

/**
 * Root-owned, world-readable directories: vsftpd refuses a writable chroot, and its
 * unprivileged session processes must be able to walk the path.
 */
export function prepareServerFiles(dir: string): ServerFiles {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const home = join(dir, 'home');
  const anonRoot = join(dir, 'anon');
  const emptyDir = join(dir, 'empty');
  for (const d of [home, anonRoot, emptyDir]) mkdirSync(d, { mode: 0o755, recursive: true });
  writeFileSync(join(home, LAB_FILE), LAB_FILE_TEXT, { mode: 0o644 });
  writeFileSync(join(anonRoot, LAB_FILE), LAB_FILE_TEXT, { mode: 0o644 });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // Throwaway self-signed certificate; P-256 keeps the handshakes (and captures) small.
  run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '7', '-subj', '/CN=ftp.lab.example',
    '-addext', 'subjectAltName=DNS:ftp.lab.example,IP:198.51.100.21,IP:203.0.113.1,IP:2001:db8:20::21']);
  const hash = run(['openssl', 'passwd', '-6', '-salt', 'faultlinelab', LAB_PASSWORD]).stdout.trim();
  let passwd = readFileSync('/etc/passwd', 'utf8');
  let group = readFileSync('/etc/group', 'utf8');
  let shadow = readFileSync('/etc/shadow', 'utf8');
  const ensureNl = (s: string): string => (s.endsWith('\n') || s === '' ? s : `${s}\n`);
  passwd = ensureNl(passwd); group = ensureNl(group); shadow = ensureNl(shadow);
  passwd += `${LAB_USER}:x:${LAB_UID}:${LAB_UID}:faultline lab:${home}:/bin/sh\n`;
  group += `${LAB_USER}:x:${LAB_UID}:\n`;
  shadow += `${LAB_USER}:${hash}:19000:0:99999:7:::\n`;
  // Anonymous sessions run as `ftp` (the Debian package creates it; add it if it is missing).
  if (!/^ftp:/m.test(passwd)) {
    passwd += `ftp:x:${LAB_UID - 1}:${LAB_UID - 1}:ftp daemon:${anonRoot}:/usr/sbin/nologin\n`;
    group += `ftp:x:${LAB_UID - 1}:\n`;
    shadow += 'ftp:*:19000:0:99999:7:::\n';
  }
  return { dir, home, anonRoot, emptyDir, cert, key, etc: { passwd, group, shadow } };
}

export function vsftpdConfig(s: VsftpdSettings, listenAddress: string, files: ServerFiles, logFile: string): string {
  const yn = (b: boolean): string => (b ? 'YES' : 'NO');
  const lines: string[] = [
    s.ipv6 ? 'listen=NO' : 'listen=YES',
    `listen_ipv6=${yn(!!s.ipv6)}`,
    s.ipv6 ? `listen_address6=${listenAddress}` : `listen_address=${listenAddress}`,
    `listen_port=${s.ssl === 'implicit' ? 990 : 21}`,
    'background=NO',
    `anonymous_enable=${yn(!!s.anonymous)}`,
    `anon_root=${files.anonRoot}`,
    'local_enable=YES',
    'chroot_local_user=YES',
    'write_enable=NO',
    'hide_ids=YES',
    'use_localtime=NO',
    `secure_chroot_dir=${files.emptyDir}`,
    'pasv_enable=YES',
    `pasv_min_port=${PASV_MIN_PORT}`,
    `pasv_max_port=${PASV_MAX_PORT}`,
    `port_promiscuous=${yn(!!s.portPromiscuous)}`,
    'connect_from_port_20=YES',
    // Short timeouts so failing scenarios end in seconds (defaults are 60 s and more).
    'connect_timeout=3',
    'accept_timeout=5',
    'data_connection_timeout=10',
    'idle_session_timeout=30',
    `vsftpd_log_file=${logFile}`,
    'xferlog_enable=YES',
    'xferlog_std_format=NO',
    'log_ftp_protocol=YES',
  ];
  if (s.pasvAddress) lines.push(`pasv_address=${s.pasvAddress}`);
  if (s.ssl) {
    lines.push(
      'ssl_enable=YES',
      `implicit_ssl=${yn(s.ssl === 'implicit')}`,
      `rsa_cert_file=${files.cert}`,
      `rsa_private_key_file=${files.key}`,
      // vsftpd 3.0.3's built-in default (DES-CBC3-SHA) is refused by OpenSSL 3.
      'ssl_ciphers=HIGH',
      'ssl_request_cert=NO',
      'require_ssl_reuse=YES',
      'allow_anon_ssl=NO',
      'force_local_logins_ssl=YES',
      `force_local_data_ssl=${yn(s.forceDataSsl ?? true)}`,
    );
  }
  return lines.join('\n') + '\n';
}
