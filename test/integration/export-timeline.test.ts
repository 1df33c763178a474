/**
 * `faultline export` timelines (jsonl, timesketch JSONL and CSV, l2tcsv) of real captures
 * analysed by the CLI: a lab FTP session whose PASV announcement leads nowhere, a generated NLB
 * cluster that loses heartbeats, and a third-party TLS handshake that fails. Every output is
 * parsed back (JSON lines with JSON.parse, CSV with the RFC 4180 parser below) and checked
 * against what tshark reads from the same captures (frames, times, Community IDs, addresses)
 * and what the captures were built to show (captures/lab/expected.json, captures/nlb/expected.json).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { repoRoot, thirdParty, runCli as cli } from '../helpers.js';
import { tshark } from '../tshark.js';

const FTP = join(repoRoot, 'captures', 'lab', 'pasv-nat-no-helper-no-pasv_address.outside.pcap');
const NLB = join(repoRoot, 'captures', 'nlb', 'nlb-heartbeat-loss.pcap');
const TLS = thirdParty('files/zeek/testing/btest/Traces/tls/certificate-request-failed.pcap');
/** The lab client's password (captures/lab/expected.json, the curl -u argument): it must never be exported. */
const LAB_PASSWORD = 'lab-pass-1';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-export-timeline-'));
const db = join(tmp, 'f.db');
const ids: Record<'ftp' | 'nlb' | 'tls', number> = { ftp: 0, nlb: 0, tls: 0 };

function exportOk(args: string[]): string {
  const r = cli(['export', '--db', db, ...args]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** RFC 4180: fields separated by commas, records by CRLF (LF accepted), quotes only around whole fields, "" inside them. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false, closed = false, started = false;
  const endField = (): void => { row.push(field); field = ''; quoted = false; closed = false; started = false; };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && !closed) {
      if (c !== '"') { field += c; continue; }
      if (text[i + 1] === '"') { field += '"'; i++; continue; }
      closed = true;
      continue;
    }
    if (c === ',') { endField(); continue; }
    if (c === '\r' && text[i + 1] === '\n') continue;
    if (c === '\n') { endField(); rows.push(row); row = []; continue; }
    if (closed) throw new Error(`character after a closing quote at offset ${i}`);
    if (c === '"') {
      if (started) throw new Error(`quote inside an unquoted field at offset ${i}`);
      quoted = true;
      started = true;
      continue;
    }
    if (c === '\r') throw new Error(`bare CR at offset ${i}`);
    started = true;
    field += c;
  }
  if (quoted && !closed) throw new Error('unterminated quoted field');
  if (started || row.length > 0) { endField(); rows.push(row); }
  return rows;
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  assert.ok(text.endsWith('\n'), 'every line ends with a newline');
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** tshark's epoch seconds ("1795907817.411482000") as ISO 8601 with microseconds. */
function isoOf(epoch: string): string {
  const [s, frac] = epoch.split('.');
  return new Date(Number(s) * 1000).toISOString().slice(0, 19) + '.' + (frac ?? '').padEnd(6, '0').slice(0, 6) + 'Z';
}

function micros(epoch: string): number {
  const [s, frac] = epoch.split('.');
  return Number(s) * 1e6 + Number((frac ?? '').padEnd(6, '0').slice(0, 6));
}

interface FrameTruth { time: string; communityId: string }

/** Per frame: time and Community ID, from tshark 4.0's communityid post-dissector. */
function framesOf(path: string): Map<number, FrameTruth> {
  const out = new Map<number, FrameTruth>();
  for (const line of tshark(['-r', path, '--enable-protocol', 'communityid', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'communityid']).trim().split('\n')) {
    const [n, t, cid] = line.split('\t');
    out.set(Number(n), { time: t, communityId: cid ?? '' });
  }
  return out;
}

before(() => {
  for (const f of [FTP, NLB, TLS]) {
    const r = cli(['analyze', f, '--db', db]);
    assert.equal(r.status, 0, r.stderr);
  }
  const conn = new Database(db, { readonly: true });
  const rows = conn.prepare('SELECT id, file FROM captures').all() as Array<{ id: number; file: string }>;
  conn.close();
  ids.ftp = rows.find((r) => r.file === FTP)!.id;
  ids.nlb = rows.find((r) => r.file === NLB)!.id;
  ids.tls = rows.find((r) => r.file === TLS)!.id;
});

after(() => rmSync(tmp, { recursive: true, force: true }));

const SHARED_KEYS = ['timestamp', 'event_type', 'community_id', 'frame', 'capture'];

test('jsonl: EVE-like shared keys first, in order, one object named after the event type, oldest first', () => {
  for (const [name, id] of Object.entries(ids)) {
    const events = jsonLines(exportOk(['--capture', String(id), '--format', 'jsonl']));
    assert.ok(events.length > 0, name);
    let last = '';
    for (const e of events) {
      assert.deepEqual(Object.keys(e).slice(0, 5), SHARED_KEYS, JSON.stringify(e));
      assert.match(String(e.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.ok(String(e.timestamp) >= last, 'timestamps never go back');
      last = String(e.timestamp);
      assert.equal(e.capture, id);
      assert.ok(['finding', 'ftp', 'tls', 'nlb', 'flow'].includes(String(e.event_type)));
      assert.equal(typeof e[String(e.event_type)], 'object', `${String(e.event_type)} object present`);
    }
  }
});

test('jsonl of the FTP capture: the PASV announcement, the dead data connection and the findings, as tshark and the lab saw them', () => {
  const text = exportOk(['--capture', String(ids.ftp), '--format', 'jsonl']);
  assert.ok(!text.includes(LAB_PASSWORD), 'the password is never exported');
  const events = jsonLines(text);
  const truth = framesOf(FTP);
  // Facts from tshark: the 227 reply (frame, announced address and port) and the SYNs sent to it.
  const [pasvFrame, pasvIp, pasvPort] = tshark(['-r', FTP, '-Y', 'ftp.response.code == 227', '-T', 'fields', '-e', 'frame.number', '-e', 'ftp.passive.ip', '-e', 'ftp.passive.port']).trim().split('\t');
  const syns = tshark(['-r', FTP, '-Y', `tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == ${pasvPort}`, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').map(Number);
  assert.ok(syns.length >= 2, 'the client retried its SYN');

  const ann = events.find((e) => e.event_type === 'ftp' && (e.ftp as Record<string, unknown>).event === 'announcement');
  assert.ok(ann, 'announcement event');
  assert.equal(ann.frame, Number(pasvFrame));
  assert.equal(ann.timestamp, isoOf(truth.get(Number(pasvFrame))!.time));
  assert.equal(ann.community_id, truth.get(Number(pasvFrame))!.communityId);
  const a = ann.ftp as Record<string, unknown>;
  assert.equal(a.announcedIp, pasvIp);
  assert.equal(a.announcedPort, Number(pasvPort));
  assert.equal(a.kind, 'PASV');

  const data = events.find((e) => e.event_type === 'ftp' && (e.ftp as Record<string, unknown>).event === 'data-connection');
  assert.ok(data, 'data connection event');
  assert.equal(data.frame, syns[0]);
  assert.equal(data.dest_ip, pasvIp);
  assert.equal(data.dest_port, Number(pasvPort));
  assert.equal(data.community_id, truth.get(syns[0])!.communityId);
  assert.equal(data.timestamp, isoOf(truth.get(syns[0])!.time));
  assert.equal((data.ftp as Record<string, unknown>).state, 'syn-unanswered');

  // Every protocol event's Community ID is the one tshark computes for its frame.
  for (const e of events) {
    if (e.event_type === 'finding' || e.frame === null || e.community_id === null) continue;
    assert.equal(e.community_id, truth.get(Number(e.frame))!.communityId, `${String(e.event_type)} at frame ${String(e.frame)}`);
  }
  const lab = JSON.parse(readFileSync(join(repoRoot, 'captures', 'lab', 'expected.json'), 'utf8')) as { scenarios: Record<string, { captures: { outside: { must: string[] } } }> };
  const codes = new Set(events.filter((e) => e.event_type === 'finding').map((e) => (e.finding as Record<string, unknown>).code));
  for (const code of lab.scenarios['pasv-nat-no-helper-no-pasv_address'].captures.outside.must) assert.ok(codes.has(code), code);
  for (const e of events.filter((x) => x.event_type === 'finding')) {
    const f = e.finding as Record<string, unknown>;
    for (const k of ['code', 'severity', 'title', 'explanation', 'mitigation', 'frames', 'subject', 'details']) assert.ok(k in f, `finding.${k}`);
  }
});

test('jsonl of the NLB capture: the heartbeat gap and the host that stopped, at the frames tshark shows', () => {
  const events = jsonLines(exportOk(['--capture', String(ids.nlb), '--format', 'jsonl']));
  const beats = new Map<string, Array<{ frame: number; time: string }>>();
  for (const line of tshark(['-r', NLB, '-Y', 'msnlb', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'msnlb.host_ip']).trim().split('\n')) {
    const [n, t, host] = line.split('\t');
    const list = beats.get(host) ?? [];
    list.push({ frame: Number(n), time: t });
    beats.set(host, list);
  }
  const expected = JSON.parse(readFileSync(join(repoRoot, 'captures', 'nlb', 'expected.json'), 'utf8')) as { captures: Record<string, { heartbeatLoss: Array<{ hostIp: string; kind: string }> }> };
  const losses = expected.captures['nlb-heartbeat-loss.pcap'].heartbeatLoss;
  assert.ok(losses.length > 0);
  for (const loss of losses) {
    const list = beats.get(loss.hostIp)!;
    const nlb = events.filter((e) => e.event_type === 'nlb' && (e.nlb as Record<string, unknown>).hostIp === loss.hostIp);
    if (loss.kind === 'stopped') {
      const lastBeat = list[list.length - 1];
      const ev = nlb.find((e) => (e.nlb as Record<string, unknown>).event === 'heartbeats-stopped');
      assert.ok(ev, `stop of ${loss.hostIp}`);
      assert.equal(ev.frame, lastBeat.frame);
      assert.equal(ev.timestamp, isoOf(lastBeat.time));
    } else {
      // The longest silence between two of this host's heartbeats, as tshark times them.
      let widest = 0, before = list[0];
      for (let i = 1; i < list.length; i++) {
        const d = micros(list[i].time) - micros(list[i - 1].time);
        if (d > widest) { widest = d; before = list[i - 1]; }
      }
      const ev = nlb.find((e) => (e.nlb as Record<string, unknown>).event === 'heartbeat-gap' && (e.nlb as Record<string, unknown>).beyondTolerance === true);
      assert.ok(ev, `gap of ${loss.hostIp}`);
      assert.equal(ev.frame, before.frame);
      assert.equal(ev.timestamp, isoOf(before.time));
      assert.ok(Math.abs(Number((ev.nlb as Record<string, unknown>).seconds) - widest / 1e6) < 1e-5);
    }
  }
  assert.ok(events.some((e) => e.event_type === 'finding' && (e.finding as Record<string, unknown>).code === 'NLB_HEARTBEAT_LOSS'));
});

test('jsonl of the TLS capture: the handshake at the ClientHello and the fatal alert at its frame', () => {
  const events = jsonLines(exportOk(['--capture', String(ids.tls), '--format', 'jsonl']));
  const truth = framesOf(TLS);
  const hello = Number(tshark(['-r', TLS, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'frame.number']).trim().split('\n')[0]);
  const [alertFrame, level, desc] = tshark(['-r', TLS, '-Y', 'tls.alert_message', '-T', 'fields', '-e', 'frame.number', '-e', 'tls.alert_message.level', '-e', 'tls.alert_message.desc']).trim().split('\n')[0].split('\t');
  assert.equal(level, '2', 'tshark: a fatal alert');
  assert.equal(desc, '40', 'tshark: handshake_failure (RFC 5246 §7.2)');
  const hs = events.find((e) => e.event_type === 'tls' && (e.tls as Record<string, unknown>).event === 'handshake');
  assert.ok(hs, 'handshake event');
  assert.equal(hs.frame, hello);
  assert.equal(hs.timestamp, isoOf(truth.get(hello)!.time));
  assert.equal(hs.community_id, truth.get(hello)!.communityId);
  const alert = events.find((e) => e.event_type === 'tls' && (e.tls as Record<string, unknown>).event === 'alert');
  assert.ok(alert, 'alert event');
  assert.equal(alert.frame, Number(alertFrame));
  assert.equal((alert.tls as Record<string, unknown>).level, 'fatal');
  assert.equal((alert.tls as Record<string, unknown>).description, 'handshake_failure');
  assert.ok(events.some((e) => e.event_type === 'finding' && (e.finding as Record<string, unknown>).code === 'TLS_HANDSHAKE_FAILED'));
});

const TS_REQUIRED = ['message', 'datetime', 'timestamp_desc', 'timestamp'];

test('timesketch JSONL and CSV: the required fields first, ISO 8601 datetime and the same instant in microseconds, same rows in both', () => {
  for (const id of Object.values(ids)) {
    const jl = jsonLines(exportOk(['--capture', String(id), '--format', 'timesketch']));
    const csv = parseCsv(exportOk(['--capture', String(id), '--format', 'timesketch', '--csv']));
    const header = csv[0];
    assert.deepEqual(header.slice(0, 4), TS_REQUIRED);
    assert.equal(csv.length - 1, jl.length, 'one CSV row per JSON line');
    jl.forEach((e, i) => {
      assert.deepEqual(Object.keys(e).slice(0, 4), TS_REQUIRED);
      assert.match(String(e.datetime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
      const dt = String(e.datetime);
      assert.equal(e.timestamp, Date.parse(dt.slice(0, 19) + 'Z') * 1000 + Number(dt.slice(20, 26)));
      assert.ok(String(e.message).length > 0 && String(e.timestamp_desc).length > 0);
      const row = csv[i + 1];
      assert.equal(row.length, header.length, 'every row has every column');
      const rec = Object.fromEntries(header.map((h, j) => [h, row[j]]));
      assert.equal(rec.message, e.message);
      assert.equal(rec.datetime, e.datetime);
      assert.equal(Number(rec.timestamp), e.timestamp);
    });
  }
});

const L2T = ['date', 'time', 'timezone', 'MACB', 'source', 'sourcetype', 'type', 'user', 'host', 'short', 'desc', 'version', 'filename', 'inode', 'notes', 'format', 'extra'];

test('l2tcsv: plaso\'s 17 columns in order, MM/DD/YYYY and HH:MM:SS in UTC matching tshark\'s frame time', () => {
  const rows = parseCsv(exportOk(['--capture', String(ids.ftp), '--format', 'l2tcsv']));
  assert.deepEqual(rows[0], L2T);
  const events = jsonLines(exportOk(['--capture', String(ids.ftp), '--format', 'jsonl']));
  assert.equal(rows.length - 1, events.length);
  const truth = framesOf(FTP);
  for (const [i, r] of rows.slice(1).entries()) {
    assert.equal(r.length, 17);
    const rec = Object.fromEntries(L2T.map((h, j) => [h, r[j]]));
    assert.match(rec.date, /^\d\d\/\d\d\/\d{4}$/);
    assert.match(rec.time, /^\d\d:\d\d:\d\d$/);
    assert.equal(rec.timezone, 'UTC');
    assert.equal(rec.version, '2');
    assert.ok(!r.some((f) => f.includes(LAB_PASSWORD)));
    const frame = events[i].frame as number | null;
    if (frame !== null && events[i].event_type !== 'finding') {
      const iso = isoOf(truth.get(frame)!.time);
      assert.equal(rec.date, `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)}`);
      assert.equal(rec.time, iso.slice(11, 19));
      assert.match(rec.extra, new RegExp(`(^|; )frame: ${frame}(;|$)`));
    }
  }
});

test('--finding keeps that finding and the events of its session; --severity is a minimum; --since/--until a window', () => {
  const only = jsonLines(exportOk(['--capture', String(ids.ftp), '--format', 'jsonl', '--finding', 'FTP_PASV_PRIVATE_ADDRESS']));
  const codes = only.filter((e) => e.event_type === 'finding').map((e) => (e.finding as Record<string, unknown>).code);
  assert.deepEqual(codes, ['FTP_PASV_PRIVATE_ADDRESS']);
  assert.ok(only.some((e) => e.event_type === 'ftp' && (e.ftp as Record<string, unknown>).event === 'announcement'));
  const flows = new Set(tshark(['-r', FTP, '-Y', 'tcp', '-T', 'fields', '-e', 'tcp.stream']).trim().split('\n').map(Number));
  for (const e of only) if (e.flow_id !== null) assert.ok(flows.has(Number(e.flow_id)), 'only this capture\'s FTP connections');

  const high = jsonLines(exportOk(['--capture', String(ids.nlb), '--format', 'jsonl', '--severity', 'high']));
  const sev = high.filter((e) => e.event_type === 'finding').map((e) => (e.finding as Record<string, unknown>).severity);
  assert.ok(sev.length > 0 && sev.every((s) => s === 'high'), 'NLB_CLUSTER_DETECTED (info) left out');

  const [pasvFrame] = tshark(['-r', FTP, '-Y', 'ftp.response.code == 227', '-T', 'fields', '-e', 'frame.number']).trim().split('\t');
  const t = framesOf(FTP).get(Number(pasvFrame))!.time;
  const win = jsonLines(exportOk(['--capture', String(ids.ftp), '--format', 'jsonl', '--since', t, '--until', isoOf(t)]));
  assert.ok(win.length > 0);
  for (const e of win) assert.equal(e.timestamp, isoOf(t), 'epoch seconds and ISO 8601 bound the same instant');
  assert.ok(win.some((e) => e.frame === Number(pasvFrame)));
});

test('--capture: the latest by default, by id, by the analysed path, or by any file with the same sha256', () => {
  const latest = jsonLines(exportOk(['--format', 'jsonl']));
  assert.ok(latest.every((e) => e.capture === ids.tls), 'the last analysed capture');
  const copy = join(tmp, 'renamed.pcap');
  copyFileSync(FTP, copy);
  for (const ref of [String(ids.ftp), FTP, copy]) {
    const ev = jsonLines(exportOk(['--capture', ref, '--format', 'jsonl']));
    assert.ok(ev.length > 0 && ev.every((e) => e.capture === ids.ftp), ref);
  }
});

test('--out: a directory gets <capture>.<kind>.<ext>, a name without extension gets the format\'s (.jsonl/.csv)', () => {
  const dir = join(tmp, 'out');
  mkdirSync(dir);
  for (const [args, name] of [[['--format', 'timesketch'], 'pasv-nat-no-helper-no-pasv_address.outside.timesketch.jsonl'],
    [['--format', 'timesketch', '--csv'], 'pasv-nat-no-helper-no-pasv_address.outside.timesketch.csv'],
    [['--format', 'l2tcsv'], 'pasv-nat-no-helper-no-pasv_address.outside.l2t.csv']] as const) {
    const r = cli(['export', '--db', db, '--capture', String(ids.ftp), ...args, '--out', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '', 'nothing on stdout when writing a file');
    assert.ok(existsSync(join(dir, name)), name);
  }
  const r = cli(['export', '--db', db, '--capture', String(ids.ftp), '--format', 'timesketch', '--csv', '--out', join(dir, 'sketch')]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(parseCsv(readFileSync(join(dir, 'sketch.csv'), 'utf8'))[0].slice(0, 4), TS_REQUIRED);
});

test('errors: unknown capture, no database, unknown format: one line, exit 1 or 2 (usage), nothing created', () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['export', '--db', db, '--capture', '99', '--format', 'jsonl'], 1, /no capture with id 99/],
    [['export', '--db', db, '--capture', join(tmp, 'nowhere.pcap'), '--format', 'jsonl'], 1, /no capture/],
    [['export', '--db', join(tmp, 'missing.db'), '--format', 'jsonl'], 1, /no database/],
    [['export', '--db', db, '--format', 'yaml'], 2, /unknown format 'yaml'/],
    [['export', '--db', db], 2, /--format is required/],
    [['export', '--db', db, '--format', 'jsonl', '--since', 'yesterday'], 2, /--since/],
    [['export', '--db', db, '--format', 'jsonl', '--severity', 'urgent'], 2, /--severity/],
    [['export', '--db', db, '--format', 'jsonl', '--csv'], 2, /--csv/],
    [['export', '--db', db, '--format', 'pcap'], 2, /--out/],
  ];
  for (const [args, status, msg] of cases) {
    const r = cli(args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  }
  assert.ok(!existsSync(join(tmp, 'missing.db')), 'export never creates a database');
});
