/**
 * The recorded FTP NAT lab: `node dist/test/lab/record.js [--out DIR] [--keep] [--list] [--reindex] [scenario...]`
 * (`npm run lab`). Root only. Per scenario it builds client/router/server network namespaces,
 * the router's NAT and helper rules, a vsftpd with the scenario's settings, captures on both
 * router interfaces with tcpdump while curl runs in the client namespace, checks with tshark
 * that the captures show what the scenario is designed to show, and writes the captures,
 * key logs, expected.json and MANIFEST.tsv. Everything is torn down even when a step fails.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../helpers.js';
import { tshark } from '../tshark.js';
import { dialogue, decryptedControlArgs, type ControlChannel, type Dialogue } from './dialogue.js';
import { NamespaceSet, removeStaleNamespaces, run, sleep, type Background } from './netns.js';
import { concatPcaps, pcapFrames } from './pcap.js';
import { SCENARIOS, curlArgs, expectationFor, type CaptureExpectation, type ClientRun, type Scenario, type Side } from './scenarios.js';
import { TOPOLOGIES, assertContained, buildTopology, type Topology } from './topology.js';
import { LAB_FILE, LAB_PASSWORD, LAB_USER, PASV_MAX_PORT, PASV_MIN_PORT, WRONG_PASSWORD, prepareServerFiles, vsftpdConfig, type ServerFiles } from './vsftpd.js';

export const DEFAULT_OUT = join(repoRoot, 'captures', 'lab');
const SIDES: Side[] = ['inside', 'outside'];

/** Debian packages the lab needs (CI: apt-get install -y these). */
export const PACKAGES = ['vsftpd', 'curl', 'tcpdump', 'iproute2', 'iptables', 'openssl', 'procps', 'tshark'];
const TOOLS: Record<string, string> = {
  vsftpd: 'vsftpd', curl: 'curl', tcpdump: 'tcpdump', ip: 'iproute2', ss: 'iproute2', iptables: 'iptables',
  ip6tables: 'iptables', openssl: 'openssl', sysctl: 'procps', tshark: 'tshark',
};

export interface EvidenceResult {
  capture: Side;
  file: string;
  filter: string;
  what: string;
  expectPresent: boolean;
  frame: number | null;
  text: string | null;
}

export interface RecordedCapture {
  side: Side;
  file: string;
  path: string;
  interface: string;
  dialogue: Dialogue;
}

export interface RunOutcome {
  label: string;
  command: string;
  exit: number;
  stderr: string;
}

export interface RecordedScenario {
  scenario: Scenario;
  captures: Record<Side, RecordedCapture>;
  keys: string | null;
  evidence: EvidenceResult[];
  runs: RunOutcome[];
  attempts: number;
  durationMs: number;
}

/** Namespace sets and work directories alive right now, so a signal can still clean up. */
const live = new Set<NamespaceSet>();
const workDirs = new Set<string>();

export function missingTools(): string[] {
  return Object.keys(TOOLS).filter((t) => run(['sh', '-c', `command -v ${t}`], { allowFail: true }).status !== 0);
}

/** Refuses (one line, exit 2) when not root; lists missing tools with their Debian packages. */
export function preflight(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'faultline lab: must run as root (it creates network namespaces, iptables rules and captures): sudo node dist/test/lab/record.js';
  }
  const missing = missingTools();
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => TOOLS[t]))];
    return `faultline lab: missing ${missing.join(', ')}: apt-get install -y ${pkgs.join(' ')}`;
  }
  return null;
}

function fill(args: string[], t: Topology, files: ServerFiles): string[] {
  const host = t.family === 6 ? `[${t.target}]` : t.target;
  return args.map((a) => a.replaceAll('{target}', host).replaceAll('{cert}', files.cert).replaceAll('{file}', LAB_FILE));
}

function quote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

async function waitListening(set: NamespaceSet, ns: string, port: number, vsftpd: Background): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const out = set.exec(ns, ['ss', '-Hltn'], { allowFail: true }).stdout;
    if (new RegExp(`:${port}\\s`).test(out)) return;
    if (!vsftpd.running) throw new Error(`vsftpd exited: ${vsftpd.text.trim()}`);
    if (Date.now() > deadline) throw new Error(`vsftpd not listening on ${port} after 5 s: ${vsftpd.text.trim()}`);
    await sleep(25);
  }
}

interface Attempt {
  dir: string;
  outcome: 'ok' | 'fail';
  runs: RunOutcome[];
}

/** One capture window: tcpdump on both router interfaces around the scenario's curl runs. */
async function attempt(set: NamespaceSet, router: string, client: string, sc: Scenario, t: Topology, files: ServerFiles,
  dir: string, keys: string | null): Promise<Attempt> {
  mkdirSync(dir, { recursive: true });
  const dumps: Background[] = [];
  try {
    for (const side of SIDES) {
      const iface = t[side];
      const dump = set.spawn(router, `tcpdump -i ${iface}`, ['tcpdump', '-i', iface, '-w', join(dir, `${side}.pcap`), '-U', '--immediate-mode', '-s', '0', '-n', '-Z', 'root']);
      dumps.push(dump);
      await dump.waitFor(/listening on/, 5000);
    }
    await sleep(100);
    const runs: RunOutcome[] = [];
    for (const r of sc.runs) runs.push(curl(set, client, r, t, files, keys));
    // Let the last FIN/ACK exchange and retransmissions settle before stopping the captures.
    await sleep(500);
    for (const d of dumps) await d.stop();
    for (const [i, r] of runs.entries()) {
      if (!sc.runs[i].exit.includes(r.exit)) {
        throw new Error(`${sc.name}: curl (${r.label}) exited ${r.exit}, designed outcome is ${sc.runs[i].exit.join(' or ')}: ${r.stderr.trim()}`);
      }
    }
    return { dir, outcome: runs.every((r) => r.exit === 0) ? 'ok' : 'fail', runs };
  } finally {
    for (const d of dumps) await d.stop();
  }
}

function curl(set: NamespaceSet, client: string, r: ClientRun, t: Topology, files: ServerFiles, keys: string | null): RunOutcome {
  const argv = ['curl', ...fill(curlArgs(r), t, files)];
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SSLKEYLOGFILE;
  if (keys) env.SSLKEYLOGFILE = keys;
  for (const v of ['http_proxy', 'https_proxy', 'ftp_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'ALL_PROXY']) delete env[v];
  const res = set.exec(client, argv, { allowFail: true, env, timeoutMs: 20_000 });
  return { label: r.label, command: quote(argv).replace(files.cert, 'cert.pem'), exit: res.status, stderr: res.stderr };
}

function checkEvidence(sc: Scenario, caps: Record<Side, string>, keys: string | null): EvidenceResult[] {
  const results: EvidenceResult[] = [];
  for (const c of sc.evidence) {
    const file = caps[c.side];
    const ch: ControlChannel = { port: sc.controlPort, tls: sc.tls, keylog: keys };
    const args = c.decrypt
      ? ['-r', file, ...decryptedControlArgs(ch), '-o', 'data.show_as_text:TRUE', '-Y', c.filter, '-T', 'fields', '-e', 'frame.number', '-e', 'data.text']
      : ['-r', file, '-Y', c.filter, '-T', 'fields', '-e', 'frame.number', '-e', '_ws.col.Info'];
    const first = tshark(args).split('\n').find((l) => l.trim());
    const [frame, text] = first ? first.split('\t') : [];
    results.push({
      capture: c.side, file: basename(file).replace(/^(inside|outside)\.pcap$/, `${sc.name}.$1.pcap`), filter: c.filter, what: c.what,
      expectPresent: c.present, frame: first ? Number(frame) : null, text: first ? (text ?? '').replace(/\\r\\n$/, '').trim() : null,
    });
  }
  const wrong = results.filter((r) => (r.frame !== null) !== r.expectPresent);
  if (wrong.length) {
    throw new Error(`${sc.name}: the capture does not show what the scenario is designed to show:\n` +
      wrong.map((w) => `  ${w.capture}: ${w.expectPresent ? 'missing' : 'unexpected'} ${w.filter} (${w.what})${w.frame ? ` at frame ${w.frame}: ${w.text}` : ''}`).join('\n'));
  }
  return results;
}

export async function recordScenario(sc: Scenario, index: number, outDir: string, work: string, files: ServerFiles,
  log: (msg: string) => void): Promise<RecordedScenario> {
  const started = Date.now();
  const t = TOPOLOGIES[sc.topology];
  const set = new NamespaceSet(`fl${process.pid}-${index}`);
  live.add(set);
  const dir = join(work, sc.name);
  mkdirSync(dir, { recursive: true });
  try {
    const built = buildTopology(set, t);
    assertContained(set, built, t);
    // IPv6 interfaces send MLD reports for a second or so after coming up: let them pass
    // before the captures start, so the captures hold the scenario and little else.
    if (t.family === 6) await sleep(2000);
    for (const rule of sc.router) set.exec(built.router, rule.split(/\s+/));
    set.etcOverlay(built.server, files.etc, (path, text) => writeFileSync(path, text, { mode: path.endsWith('shadow') ? 0o600 : 0o644 }));
    const conf = join(dir, 'vsftpd.conf');
    writeFileSync(conf, vsftpdConfig({ ...sc.server, ipv6: t.family === 6 }, t.server, files, join(dir, 'vsftpd.log')), { mode: 0o600 });
    const vsftpd = set.spawn(built.server, 'vsftpd', ['vsftpd', conf]);
    await waitListening(set, built.server, sc.controlPort, vsftpd);

    const keys = sc.tls ? join(dir, 'keys') : null;
    const kept: Attempt[] = [];
    let attempts = 0;
    const want = sc.repeat?.want ?? [];
    for (;;) {
      attempts++;
      const a = await attempt(set, built.router, built.client, sc, t, files, join(dir, `attempt-${attempts}`), keys);
      if (!sc.repeat) { kept.push(a); break; }
      if (want.includes(a.outcome) && !kept.some((k) => k.outcome === a.outcome)) kept.push(a);
      if (want.every((w) => kept.some((k) => k.outcome === w))) break;
      if (attempts >= sc.repeat.maxAttempts) {
        throw new Error(`${sc.name}: no ${want.filter((w) => !kept.some((k) => k.outcome === w)).join('/')} outcome in ${attempts} attempts`);
      }
    }
    kept.sort((a, b) => a.dir.localeCompare(b.dir, 'en', { numeric: true }));

    const local: Record<Side, string> = { inside: join(dir, 'inside.pcap'), outside: join(dir, 'outside.pcap') };
    for (const side of SIDES) concatPcaps(kept.map((k) => join(k.dir, `${side}.pcap`)), local[side]);
    const evidence = checkEvidence(sc, local, keys);

    mkdirSync(outDir, { recursive: true });
    const captures = {} as Record<Side, RecordedCapture>;
    for (const side of SIDES) {
      const file = `${sc.name}.${side}.pcap`;
      const path = join(outDir, file);
      copyFileSync(local[side], path);
      captures[side] = { side, file, path, interface: t[side], dialogue: [] };
    }
    let keysFile: string | null = null;
    if (keys) {
      if (!existsSync(keys)) throw new Error(`${sc.name}: curl wrote no key log (SSLKEYLOGFILE)`);
      keysFile = `${sc.name}.keys`;
      copyFileSync(keys, join(outDir, keysFile));
    }
    for (const side of SIDES) {
      captures[side].dialogue = dialogue(captures[side].path, { port: sc.controlPort, tls: sc.tls, keylog: keysFile ? join(outDir, keysFile) : null });
    }
    const runs = kept.flatMap((k) => k.runs);
    const rec: RecordedScenario = { scenario: sc, captures, keys: keysFile, evidence, runs, attempts, durationMs: Date.now() - started };
    log(`${sc.name}: ${((Date.now() - started) / 1000).toFixed(1)} s, curl exit ${runs.map((r) => r.exit).join(',')}` +
      `${sc.repeat ? ` (kept ${kept.length} of ${attempts} attempts)` : ''}, frames inside ${pcapFrames(captures.inside.path)} outside ${pcapFrames(captures.outside.path)}`);
    return rec;
  } catch (e) {
    const vlog = join(dir, 'vsftpd.log');
    if (existsSync(vlog)) (e as Error).message += `\n  vsftpd log:\n${readFileSync(vlog, 'utf8').trim().split('\n').slice(-15).map((l) => `    ${l}`).join('\n')}`;
    throw e;
  } finally {
    await set.teardown();
    live.delete(set);
  }
}

/** JSON.stringify(…, 2) but with arrays of strings/numbers kept on one line (code lists, dialogues). */
function compactJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => typeof v !== 'object' || v === null)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `[\n${value.map((v) => inner + compactJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function toolVersions(): Record<string, string> {
  const first = (argv: string[]): string => {
    const r = run(argv, { allowFail: true });
    return (r.stdout || r.stderr).split('\n').find((l) => l.trim())?.trim() ?? '';
  };
  return {
    kernel: first(['uname', '-r']),
    vsftpd: first(['sh', '-c', 'vsftpd -v 0>&1']),
    curl: first(['curl', '--version']),
    tcpdump: first(['tcpdump', '--version']),
    iptables: first(['iptables', '--version']),
    tshark: first(['tshark', '--version']),
  };
}

function expectationJson(sc: Scenario, side: Side, rec: RecordedScenario): Record<string, unknown> {
  const e: CaptureExpectation = expectationFor(sc, side);
  return {
    file: rec.captures[side].file,
    routerInterface: rec.captures[side].interface,
    keylog: rec.keys,
    options: { passiveRange: sc.passiveRange ? `${sc.passiveRange[0]}-${sc.passiveRange[1]}` : null },
    must: e.must,
    mustNot: e.mustNot,
    ...(e.notes ? { notes: e.notes } : {}),
    dialogue: rec.captures[side].dialogue.map((s) => s.join(' ')),
  };
}

function scenarioJson(rec: RecordedScenario): Record<string, unknown> {
  const sc = rec.scenario;
  const t = TOPOLOGIES[sc.topology];
  const faces = (iface: string): string => (iface === 'to-client' ? 'client' : 'server');
  return {
    shows: sc.shows,
    exercises: sc.exercises,
    topology: {
      kind: t.name, summary: t.summary, family: t.family,
      client: t.client, server: t.server, clientDials: t.target,
      router: { clientSide: t.routerClientSide, serverSide: t.routerServerSide },
      inside: { interface: t.inside, faces: faces(t.inside) },
      outside: { interface: t.outside, faces: faces(t.outside) },
    },
    router: [
      ...(t.family === 6 ? ['ip6tables -t raw -A PREROUTING -i ' + t.outside + ' -d fc00::/7 -j DROP']
        : ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'].map((n) => `iptables -t raw -A PREROUTING -i ${t.outside} -d ${n} -j DROP`)),
      ...sc.router,
    ],
    server: {
      software: 'vsftpd', listen: `${t.family === 6 ? `[${t.server}]` : t.server}:${sc.controlPort}`,
      passiveRange: `${PASV_MIN_PORT}-${PASV_MAX_PORT}`, ...sc.server,
    },
    client: rec.runs.map((r) => ({ label: r.label, command: r.command, exit: r.exit })),
    ...(sc.repeat ? { attempts: rec.attempts, keptAttempts: sc.repeat.want } : {}),
    captures: { inside: expectationJson(sc, 'inside', rec), outside: expectationJson(sc, 'outside', rec) },
    compare: { inside: rec.captures.inside.file, outside: rec.captures.outside.file, keylog: rec.keys, must: sc.compare.must, mustNot: sc.compare.mustNot },
    evidence: rec.evidence.map((e) => ({ capture: e.file, frame: e.frame, present: e.expectPresent, filter: e.filter, what: e.what, ...(e.text ? { text: e.text } : {}) })),
  };
}

type Json = Record<string, unknown>;

/**
 * Re-applies the design half of an existing expected.json entry (texts, must/mustNot, notes,
 * options) from scenarios.ts, keeping what was recorded (dialogues, evidence, commands).
 */
function refreshDesign(sc: Scenario, entry: Json): Json {
  const captures = entry.captures as Record<Side, Json>;
  for (const side of SIDES) {
    const e = expectationFor(sc, side);
    const { notes: _old, dialogue, ...rest } = captures[side];
    captures[side] = {
      ...rest,
      options: { passiveRange: sc.passiveRange ? `${sc.passiveRange[0]}-${sc.passiveRange[1]}` : null },
      must: e.must, mustNot: e.mustNot, ...(e.notes ? { notes: e.notes } : {}), dialogue,
    };
  }
  return { ...entry, shows: sc.shows, exercises: sc.exercises, captures, compare: { ...(entry.compare as Json), must: sc.compare.must, mustNot: sc.compare.mustNot } };
}

/**
 * Writes expected.json and MANIFEST.tsv for what is in outDir, keeping entries of scenarios
 * not re-recorded (their design half refreshed from scenarios.ts).
 */
export function writeIndex(outDir: string, recorded: RecordedScenario[]): void {
  const path = join(outDir, 'expected.json');
  const old = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as { scenarios?: Record<string, Json>; recordedWith?: Json } : {};
  const byName = new Map<string, Json>();
  for (const sc of SCENARIOS) {
    const entry = old.scenarios?.[sc.name];
    if (entry) byName.set(sc.name, refreshDesign(sc, entry));
  }
  for (const r of recorded) byName.set(r.scenario.name, scenarioJson(r));
  const scenarios: Record<string, unknown> = {};
  for (const sc of SCENARIOS) if (byName.has(sc.name)) scenarios[sc.name] = byName.get(sc.name);
  const doc = {
    format: 1,
    about: 'Recorded by test/lab/record.ts. Per capture: the finding codes that MUST and MUST NOT appear, derived from the scenario design and checked on the wire with tshark (evidence); codes in neither list are unconstrained (see notes). Analyse with options.passiveRange and the keylog file when given. compare: `faultline compare INSIDE OUTSIDE`.',
    recordedWith: recorded.length || !old.recordedWith ? toolVersions() : old.recordedWith,
    lab: { user: LAB_USER, password: LAB_PASSWORD, wrongPassword: WRONG_PASSWORD, file: LAB_FILE },
    scenarios,
  };
  writeFileSync(path, compactJson(doc) + '\n');

  const rows = ['scenario\tfile\tsha256\tsize\tframes\texercises'];
  for (const sc of SCENARIOS) {
    if (!byName.has(sc.name)) continue;
    for (const f of [`${sc.name}.inside.pcap`, `${sc.name}.outside.pcap`, ...(sc.tls ? [`${sc.name}.keys`] : [])]) {
      const p = join(outDir, f);
      if (!existsSync(p)) continue;
      const isPcap = f.endsWith('.pcap');
      const what = isPcap ? `${sc.exercises} (router ${f.includes('.inside.') ? 'inside' : 'outside'})` : 'TLS key log (SSLKEYLOGFILE) for both captures';
      rows.push([sc.name, f, sha256(p), String(readFileSync(p).length), isPcap ? String(pcapFrames(p)) : '', what].join('\t'));
    }
  }
  writeFileSync(join(outDir, 'MANIFEST.tsv'), rows.join('\n') + '\n');
}

export interface LabResult {
  recorded: RecordedScenario[];
  failures: Array<{ scenario: string; error: string }>;
}

/** Records the named scenarios (all when none); a failing scenario does not stop the others. */
export async function recordScenarios(names: string[], outDir: string, log: (msg: string) => void): Promise<LabResult> {
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (see --list)`);
  const chosen = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  removeStaleNamespaces(log);
  const work = mkdtempSync(join(tmpdir(), 'faultline-lab-'));
  // mkdtemp makes it 0700: vsftpd's unprivileged session processes must walk into srv/.
  chmodSync(work, 0o755);
  workDirs.add(work);
  try {
    const files = prepareServerFiles(join(work, 'srv'));
    const result: LabResult = { recorded: [], failures: [] };
    for (const [i, sc] of chosen.entries()) {
      try {
        result.recorded.push(await recordScenario(sc, i, outDir, work, files, log));
      } catch (e) {
        const error = (e as Error).message;
        log(`${sc.name}: FAILED: ${error}`);
        result.failures.push({ scenario: sc.name, error });
      }
    }
    return result;
  } finally {
    workDirs.delete(work);
    if (!process.env.FAULTLINE_LAB_KEEP) rmSync(work, { recursive: true, force: true });
    else log(`work directory kept: ${work}`);
  }
}

async function teardownAll(): Promise<void> {
  for (const set of live) await set.teardown();
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
}

async function main(argv: string[]): Promise<number> {
  let outDir = DEFAULT_OUT;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') outDir = resolve(argv[++i] ?? '');
    else if (a === '--keep') process.env.FAULTLINE_LAB_KEEP = '1';
    else if (a === '--list') { for (const s of SCENARIOS) console.log(`${s.name}\t${s.exercises}`); return 0; }
    else if (a === '--reindex') { writeIndex(outDir, []); console.error(`faultline lab: ${join(outDir, 'expected.json')} and MANIFEST.tsv rewritten`); return 0; }
    else if (a === '-h' || a === '--help') {
      console.log('usage: node dist/test/lab/record.js [--out DIR] [--keep] [--list] [--reindex] [scenario...]');
      return 0;
    } else if (a.startsWith('-')) { console.error(`faultline lab: unknown option ${a}`); return 2; }
    else names.push(a);
  }
  const refused = preflight();
  if (refused) { console.error(refused); return 2; }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => { void teardownAll().finally(() => process.exit(130)); });
  }
  const started = Date.now();
  try {
    const { recorded, failures } = await recordScenarios(names, outDir, (m) => console.error(m));
    if (recorded.length) writeIndex(outDir, recorded);
    console.error(`faultline lab: ${recorded.length} scenario(s) recorded into ${outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (failures.length ? `; ${failures.length} failed: ${failures.map((f) => f.scenario).join(', ')}` : ''));
    return failures.length ? 1 : 0;
  } catch (e) {
    console.error(`faultline lab: ${(e as Error).message}`);
    return 1;
  }
}

// node --test runs every .js under dist/test/ as a test file: never record from there.
const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain && !process.env.NODE_TEST_CONTEXT) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 1; });
}
