/**
 * Receives one upload: the raw request body (the file itself, no multipart) streamed to a file
 * on disk with backpressure, never held in memory beyond its first 64 KiB. A declared length
 * over the limit is refused before reading anything; an undeclared one is cut as soon as it
 * passes the limit; a body that is not a capture is refused after its first bytes.
 */
import { createWriteStream, unlink, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { classifyHead, type HeadVerdict } from './magic.js';
import { refuseBody, sendError } from './http.js';
import { formatSize } from './config.js';

export const HEAD_BYTES = 64 * 1024;

export interface ReceivedUpload {
  path: string;
  bytes: number;
  verdict: Exclude<HeadVerdict, { kind: 'not-capture' }>;
}

export interface UploadLimits {
  dir: string;
  maxBytes: number;
}

export function tooLargeMessage(limit: number, size?: number): string {
  return `${size === undefined ? 'the file is' : `the file (${formatSize(size)}) is`} larger than this server accepts (${formatSize(limit)}; start faultline serve with --max-upload to change it)`;
}

/** Resolves with the stored upload, or null when the request was answered with an error. */
export function receiveUpload(req: IncomingMessage, res: ServerResponse, limits: UploadLimits): Promise<ReceivedUpload | null> {
  const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
  if (declared !== null && declared > limits.maxBytes) {
    refuseBody(req, res, 413, 'too-large', tooLargeMessage(limits.maxBytes, declared));
    return Promise.resolve(null);
  }
  const path = join(limits.dir, `${Date.now()}-${randomBytes(8).toString('hex')}.upload`);
  return new Promise((resolve) => {
    let bytes = 0;
    let head: Buffer[] = [];
    let headLength = 0;
    let out: WriteStream | null = null;
    let verdict: ReceivedUpload['verdict'] | null = null;
    let settled = false;

    const finish = (value: ReceivedUpload | null): void => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      if (value === null) {
        out?.destroy();
        unlink(path, () => undefined);
      }
      resolve(value);
    };
    const fail = (status: number, code: string, message: string): void => {
      finish(null);
      refuseBody(req, res, status, code, message);
    };
    const open = (): boolean => {
      const v = classifyHead(Buffer.concat(head, headLength));
      if (v.kind === 'not-capture') { fail(415, 'not-a-capture', v.message); return false; }
      verdict = v;
      out = createWriteStream(path, { flags: 'wx' });
      out.on('error', (e) => {
        if (settled) return;
        finish(null);
        sendError(res, 507, 'storage', `cannot store the upload: ${e.message}`, { Connection: 'close' });
        req.socket.destroy();
      });
      out.write(Buffer.concat(head, headLength));
      head = [];
      return true;
    };
    function onData(chunk: Buffer): void {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) { fail(413, 'too-large', tooLargeMessage(limits.maxBytes)); return; }
      if (out === null) {
        head.push(chunk);
        headLength += chunk.length;
        if (headLength < HEAD_BYTES || !open()) return;
        return;
      }
      if (!out.write(chunk)) {
        req.pause();
        out.once('drain', () => req.resume());
      }
    }
    req.on('data', onData);
    req.on('end', () => {
      if (settled) return;
      if (out === null && !open()) return;
      const w = out as WriteStream | null;
      if (w === null) return;
      w.end(() => finish({ path, bytes, verdict: verdict! }));
    });
    req.on('close', () => {
      if (!req.complete) finish(null);
    });
    req.on('error', () => finish(null));
  });
}
