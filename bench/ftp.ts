import type { Host } from './frames.js';
import { Estimate, type Ctx, type Session } from './session.js';
import { MSS, TcpConn, type Dir } from './tcp.js';

type Mode = 'PASV' | 'EPSV' | 'PORT';
/** Why a data connection never opens: nobody answers the SYN, or the port is closed (RST). */
type DataFailure = 'silent' | 'refused' | null;

interface Chat { kind: 'chat'; command: string; reply: string }
interface Transfer { kind: 'transfer'; verb: 'RETR' | 'STOR' | 'LIST'; name: string; size: number; mode: Mode; failure: DataFailure }
type Step = Chat | Transfer;

const FILES = ['backup', 'report', 'invoice', 'dump', 'image', 'export', 'firmware', 'logs'];
const EXTS = ['.zip', '.csv', '.bin', '.tar.gz', '.iso', '.pdf'];
const DIRS = ['/pub', '/incoming', '/outgoing', '/archive/2024', '/archive/2025', '/home/ops'];

/**
 * An FTP session (RFC 959, RFC 2428) as vsftpd answers it: banner, USER/PASS, then transfers, each
 * negotiated by PASV (227 h1,h2,h3,h4,p1,p2), EPSV (229 |||port|) or PORT, followed by a data
 * connection on exactly the announced port, 150 and 226 around it; a few get 425 because the
 * data connection never opens. 'ftp-browse' sessions are chattier with small listings.
 */
export function ftpSession({ world, em, rng }: Ctx, browse: boolean): Session {
  const client = world.client();
  const server = rng.pick(world.ftpServers);
  const user = rng.chance(0.4) ? 'anonymous' : `user${rng.int(300)}`;
  const loginFails = rng.chance(0.03);
  const plan: Step[] = [{ kind: 'chat', command: 'SYST', reply: '215 UNIX Type: L8' }];
  if (browse) {
    plan.push({ kind: 'chat', command: 'FEAT', reply: '211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End' });
    plan.push({ kind: 'chat', command: 'PWD', reply: '257 "/" is the current directory' });
  }
  plan.push({ kind: 'chat', command: 'TYPE I', reply: '200 Switching to Binary mode.' });
  const steps = browse ? rng.range(4, 12) : rng.range(1, 3);
  for (let i = 0; i < steps; i++) plan.push(browse ? browseStep() : transferStep(rng.chance(0.8) ? 'file' : 'LIST'));

  function name(): string { return `${rng.pick(FILES)}-${rng.int(10000)}${rng.pick(EXTS)}`; }
  function mode(): Mode { const r = rng.float(); return r < 0.5 ? 'PASV' : r < 0.75 ? 'EPSV' : 'PORT'; }
  function failure(): DataFailure { return rng.chance(0.06) ? (rng.chance(0.5) ? 'silent' : 'refused') : null; }
  function transferStep(what: 'file' | 'LIST'): Transfer {
    if (what === 'LIST') return { kind: 'transfer', verb: 'LIST', name: '', size: rng.range(3, 60), mode: mode(), failure: failure() };
    return { kind: 'transfer', verb: rng.chance(0.75) ? 'RETR' : 'STOR', name: name(), size: rng.logUniform(4 << 10, 4 << 20), mode: mode(), failure: failure() };
  }
  function browseStep(): Step {
    const r = rng.float();
    const f = name();
    if (r < 0.3) return transferStep('LIST');
    if (r < 0.45) return { kind: 'chat', command: `CWD ${rng.pick(DIRS)}`, reply: '250 Directory successfully changed.' };
    if (r < 0.6) return rng.chance(0.85) ? { kind: 'chat', command: `SIZE ${f}`, reply: `213 ${rng.logUniform(100, 1 << 30)}` } : { kind: 'chat', command: `SIZE ${f}`, reply: '550 Could not get file size.' };
    if (r < 0.7) return { kind: 'chat', command: `MDTM ${f}`, reply: `213 2025${two(rng.range(1, 12))}${two(rng.range(1, 28))}${two(rng.range(0, 23))}${two(rng.range(0, 59))}${two(rng.range(0, 59))}` };
    if (r < 0.8) return { kind: 'chat', command: 'NOOP', reply: '200 NOOP ok.' };
    return { kind: 'transfer', verb: 'RETR', name: f, size: rng.logUniform(200, 64 << 10), mode: mode(), failure: failure() };
  }

  const listings = new Map<Transfer, Buffer>();
  const est = new Estimate().connection();
  let flows = 1;
  const chatEst = (c: string, r: string): void => { est.stream(c.length + 2).stream(r.length + 2); };
  chatEst('', '220 (vsFTPd 3.0.5)');
  chatEst(`USER ${user}`, '331 Please specify the password.');
  chatEst('PASS secret', loginFails ? '530 Login incorrect.' : '230 Login successful.');
  if (!loginFails) {
    for (const s of plan) {
      if (s.kind === 'chat') { chatEst(s.command, s.reply); continue; }
      flows++;
      chatEst('PASV', '227 Entering Passive Mode (10,2,0,21,195,80).');
      chatEst(`${s.verb} ${s.name}`, '150 Opening BINARY mode data connection for x (12345 bytes).');
      if (s.failure) { est.frames(2, 66); continue; }
      if (s.verb === 'LIST') listings.set(s, listing(s.size));
      est.connection().stream(listings.get(s)?.length ?? s.size);
      chatEst('', '226 Transfer complete.');
    }
  }
  chatEst('QUIT', '221 Goodbye.');

  function listing(lines: number): Buffer {
    const out: string[] = [];
    for (let i = 0; i < lines; i++) {
      const dir = rng.chance(0.15);
      out.push(`${dir ? 'drwxr-xr-x' : '-rw-r--r--'}    1 ftp      ftp      ${String(dir ? 4096 : rng.logUniform(10, 1 << 30)).padStart(10)} ${rng.pick(['Jan', 'Mar', 'Jun', 'Sep', 'Dec'])} ${String(rng.range(1, 28)).padStart(2)} ${String(rng.range(0, 23)).padStart(2, '0')}:${String(rng.range(0, 59)).padStart(2, '0')} ${dir ? rng.pick(FILES) : name()}`);
    }
    return Buffer.from(out.join('\r\n') + '\r\n', 'ascii');
  }

  function* run(): Generator<void, void, void> {
    const ctl = new TcpConn(em, client, world.ephemeralPort(client), server, 21, rng);
    const say = (dir: Dir, text: string): void => ctl.send(dir, Buffer.from(text + '\r\n', 'latin1'));
    ctl.handshake();
    yield;
    say(1, '220 (vsFTPd 3.0.5)');
    yield;
    say(0, `USER ${user}`);
    say(1, '331 Please specify the password.');
    yield;
    say(0, `PASS ${user === 'anonymous' ? 'guest@example.com' : 'Secret!' + rng.int(1000)}`);
    if (loginFails) {
      say(1, '530 Login incorrect.');
    } else {
      say(1, '230 Login successful.');
      for (const s of plan) {
        yield;
        if (s.kind === 'chat') { say(0, s.command); say(1, s.reply); continue; }
        yield* transfer(s, ctl, say);
      }
    }
    yield;
    say(0, 'QUIT');
    say(1, '221 Goodbye.');
    ctl.close(1);
  }

  function* transfer(t: Transfer, ctl: TcpConn, say: (dir: Dir, text: string) => void): Generator<void, void, void> {
    const command = t.verb === 'LIST' ? 'LIST' : `${t.verb} ${t.name}`;
    const content = listings.get(t) ?? null;
    const size = content ? content.length : t.size;
    const opening = t.verb === 'LIST' ? '150 Here comes the directory listing.'
      : t.verb === 'RETR' ? `150 Opening BINARY mode data connection for ${t.name} (${size} bytes).` : '150 Ok to send data.';
    let data: TcpConn;
    let senderDir: Dir;
    if (t.mode === 'PORT') {
      const port = world.ephemeralPort(client);
      say(0, `PORT ${commas(client)},${port >> 8},${port & 0xff}`);
      say(1, '200 PORT command successful. Consider using PASV.');
      yield;
      say(0, command);
      // Active mode: the server connects from port 20 to the port the client announced.
      data = new TcpConn(em, server, 20, client, port, rng);
      if (t.failure) { yield* failOpen(data, t.failure); say(1, '425 Failed to establish connection.'); return; }
      data.handshake();
      say(1, opening);
      senderDir = t.verb === 'STOR' ? 1 : 0;
    } else {
      const port = world.passivePort(server);
      if (t.mode === 'PASV') {
        say(0, 'PASV');
        say(1, `227 Entering Passive Mode (${commas(server)},${port >> 8},${port & 0xff}).`);
      } else {
        say(0, 'EPSV');
        say(1, `229 Entering Extended Passive Mode (|||${port}|)`);
      }
      yield;
      data = new TcpConn(em, client, world.ephemeralPort(client), server, port, rng);
      if (t.failure) { yield* failOpen(data, t.failure); say(0, command); say(1, '425 Failed to establish connection.'); return; }
      data.handshake();
      say(0, command);
      say(1, opening);
      senderDir = t.verb === 'STOR' ? 0 : 1;
    }
    yield;
    const burst = 24 * MSS;
    for (let sent = 0; sent < size;) {
      const n = Math.min(burst, size - sent);
      if (content) data.send(senderDir, content, sent, n);
      else data.send(senderDir, world.pool, world.poolOffset(n), n);
      sent += n;
      yield;
    }
    data.close(senderDir);
    say(1, t.verb === 'LIST' ? '226 Directory send OK.' : '226 Transfer complete.');
  }

  function* failOpen(data: TcpConn, why: DataFailure): Generator<void, void, void> {
    data.syn();
    yield;
    if (why === 'refused') data.refuse();
    else data.syn(); // retransmitted SYN, still unanswered
    yield;
  }

  return { kind: browse ? 'ftp-browse' : 'ftp', estBytes: est.bytes, estPackets: est.packets, flows, steps: run() };
}

function commas(h: Host): string { return h.ipText.replace(/\./g, ','); }

function two(n: number): string { return String(n).padStart(2, '0'); }
