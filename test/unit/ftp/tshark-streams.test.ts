/**
 * The line splitter, command parser and reply assembler over the real control streams of the
 * third-party FTP captures, checked against tshark 4.0's ftp.request.* / ftp.response.*.
 * tshark reports one request or response per frame: the frame's first line (if it begins with
 * three digits, for replies); it has no notion of a multi-line reply. So for every frame that
 * begins at a line start, our line starting at exactly that stream offset must carry the same
 * verb/argument or code/text, which also proves our offsets map to the right frames; and every
 * reply we assemble must start at a line that tshark also reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  assembleReply, endLines, endReplies, newLineSplitter, newReplyAssembler, parseCommand, splitLines,
  type FtpLine, type LineSplitter,
} from '../../../src/proto/ftp/control.js';
import { manifest, thirdParty, tsharkTruth } from '../../helpers.js';

const TSHARK = '/usr/bin/tshark';

/** A contiguous run of one direction's bytes; a capture gap starts a new run. */
interface Run {
  splitter: LineSplitter;
  /** [stream offset where the frame's new bytes start, frame number, tshark sees a retransmission] */
  frames: Array<[number, number, boolean]>;
  lines: FtpLine[];
  serverToClient: boolean;
}

function frameAt(d: Run, offset: number): number {
  let frame = -1;
  for (const [start, no] of d.frames) {
    if (start > offset) break;
    frame = no;
  }
  return frame;
}

/** tshark's raw TCP payloads on port 21, one line per frame. */
async function payloadRows(file: string): Promise<string> {
  const { stdout } = await promisify(execFile)(TSHARK, ['-n', '-r', file, '-Y', 'tcp.len > 0 && tcp.port == 21',
    '-o', 'tcp.relative_sequence_numbers:FALSE', '-T', 'fields', '-E', 'separator=;',
    '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'tcp.dstport', '-e', 'tcp.seq', '-e', 'tcp.payload',
    '-e', 'tcp.analysis.retransmission', '-e', 'tcp.analysis.spurious_retransmission'],
  { encoding: 'utf8', maxBuffer: 1 << 28 });
  return stdout;
}

/**
 * Control streams per direction, reassembled from tshark's raw payloads. Retransmitted bytes
 * are dropped; where bytes are missing from the capture the run ends (its unterminated last
 * line is dropped) and a new run with a fresh splitter starts, as a real analyzer resyncs.
 */
function controlStreams(out: string): Run[] {
  const runs: Run[] = [];
  const current = new Map<string, { run: Run; nextSeq: number }>();
  for (const row of out.split('\n')) {
    if (!row) continue;
    const [frame, stream, dport, seqText, hex, retrans, spurious] = row.split(';');
    const key = `${stream}/${dport}`;
    let payload = Buffer.from(hex.replace(/:/g, ''), 'hex');
    const seq = Number(seqText);
    let c = current.get(key);
    let skip = 0;
    if (c) {
      const ahead = (seq - c.nextSeq) >>> 0;
      if (ahead !== 0 && ahead < 0x80000000) c = undefined; // bytes missing from the capture
      else if (ahead !== 0) skip = (c.nextSeq - seq) >>> 0; // retransmission overlapping what we have
    }
    if (!c) {
      const run: Run = { splitter: newLineSplitter(), frames: [], lines: [], serverToClient: dport !== '21' };
      runs.push(run);
      current.set(key, c = { run, nextSeq: seq });
    }
    if (skip >= payload.length) continue;
    payload = payload.subarray(skip);
    // tshark does not decode a frame it deems a retransmission as FTP: no comparison there.
    c.run.frames.push([c.run.splitter.consumed, Number(frame), skip > 0 || retrans !== '' || spurious !== '']);
    c.run.lines.push(...splitLines(c.run.splitter, payload));
    c.nextSeq = (seq + skip + payload.length) >>> 0;
  }
  for (const c of current.values()) {
    const last = endLines(c.run.splitter);
    if (last) c.run.lines.push(last);
  }
  return runs;
}

interface Request { frame: number; command: string; arg: string | null }
interface Response { frame: number; code: number; arg: string | null }

const startsWithCode = (t: string): boolean => /^[0-9]{3}/.test(t);
/** tshark's string fields end at a NUL byte (nDPI's fuzz capture has some); our text keeps it. */
const upToNul = (t: string): string => t.split('\0')[0];

test('control streams split, parse and map to the frames tshark decodes them from', async (t) => {
  assert.ok(existsSync(TSHARK), 'tshark is required (apt-get install -y tshark; .ci/run installs it)');
  let commands = 0;
  let replyLines = 0;
  let replies = 0;
  let captures = 0;
  let truncated = 0;
  const entries = manifest().filter((e) => e.tsharkJson && tsharkTruth(e).ftp);
  // One tshark per CPU at a time (about 10 s in all on two CPUs); the comparison stays sequential.
  const rows = new Array<Promise<string>>(entries.length);
  let next = 0;
  const pool = Array.from({ length: Math.max(1, availableParallelism()) }, async () => {
    while (next < entries.length) {
      const k = next++;
      rows[k] = payloadRows(thirdParty(entries[k].localPath));
      await rows[k].catch(() => undefined);
    }
  });
  await Promise.all(pool);
  for (const [k, entry] of entries.entries()) {
    const truth = tsharkTruth(entry).ftp as { requests: Request[]; responses: Response[] };
    const runs = controlStreams(await rows[k]);
    captures++;
    const ours = new Map<number, string>();
    const ourReplies: Array<[number, string]> = [];
    const aligned = new Set<number>();
    const cut = new Set<number>();
    for (const d of runs) {
      const byOffset = new Map(d.lines.map((l) => [l.offset, l]));
      d.frames.forEach(([start, frame, overlap], k) => {
        const line = byOffset.get(start);
        // Frame begins mid-line (tshark would decode a fragment) or repeats bytes we already had
        // (tshark calls it a retransmission and does not decode it as FTP).
        if (!line || overlap) return;
        aligned.add(frame);
        const frameEnd = k + 1 < d.frames.length ? d.frames[k + 1][0] : d.splitter.consumed;
        if (line.truncated || line.end > frameEnd) cut.add(frame);
        if (!d.serverToClient) {
          const cmd = parseCommand(upToNul(line.text));
          if (cmd.kind === 'command') ours.set(frame, `Q ${cmd.verb} ${cmd.arg}`);
        } else if (startsWithCode(line.text)) {
          ours.set(frame, `R ${line.text.slice(0, 3)} ${upToNul(line.text.slice(4)) || null}`);
        }
      });
      if (d.serverToClient) {
        const a = newReplyAssembler();
        for (const line of d.lines) {
          const r = assembleReply(a, line);
          if (r && r.kind === 'reply') ourReplies.push([frameAt(d, r.startOffset), `R ${r.code} ${upToNul(r.lines[0].slice(4)) || null}`]);
        }
        endReplies(a);
      }
    }
    const theirs = new Map<number, string>();
    for (const r of truth.requests) {
      if (aligned.has(r.frame) && /^[A-Za-z]+$/.test(r.command) && !theirs.has(r.frame)) {
        theirs.set(r.frame, `Q ${r.command.toUpperCase()} ${r.arg}`);
      }
    }
    for (const r of truth.responses) if (aligned.has(r.frame) && !theirs.has(r.frame)) theirs.set(r.frame, `R ${r.code} ${r.arg}`);
    // A line that runs on into later segments (or past 8192 bytes): tshark decodes only this
    // frame's part of it, we the whole line (up to 8192 bytes); one must be a prefix of the other.
    for (const frame of cut) {
      const a = ours.get(frame) ?? '';
      const b = theirs.get(frame) ?? '';
      assert.ok(a.startsWith(b) || b.startsWith(a), `${entry.localPath} frame ${frame}: ${a.slice(0, 60)} / ${b.slice(0, 60)}`);
      ours.delete(frame);
      theirs.delete(frame);
      truncated++;
    }
    const sorted = (m: Map<number, string>): string[] => [...m].sort((x, y) => x[0] - y[0]).map(([f, v]) => `${f} ${v}`);
    assert.deepEqual(sorted(ours), sorted(theirs), entry.localPath);
    // Every assembled reply begins at a line tshark also reports (when tshark saw that frame aligned).
    for (const [frame, r] of ourReplies) {
      if (theirs.has(frame)) assert.equal(theirs.get(frame), r, `${entry.localPath} frame ${frame}`);
    }
    commands += [...ours.values()].filter((l) => l.startsWith('Q')).length;
    replyLines += [...ours.values()].filter((l) => l.startsWith('R')).length;
    replies += ourReplies.length;
  }
  t.diagnostic(`${captures} captures: ${commands} commands and ${replyLines} reply lines equal to tshark's, frame by frame; ${replies} assembled replies; ${truncated} lines spanning segments prefix-compared`);
  assert.ok(commands > 1000 && replyLines > 1000);
});
