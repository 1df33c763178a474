/**
 * Analysis jobs: each stored upload runs in its own worker thread (analysis-worker.ts), at most
 * `workers` at a time, the rest queued. Clients poll a job for its state and progress; the
 * upload file is removed when its job ends either way.
 */
import { Worker } from 'node:worker_threads';
import { unlink } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { AnalyzeOptions } from '../analysis/context.js';
import type { WorkerInput, WorkerMessage } from './analysis-worker.js';

export type JobState = 'queued' | 'analysing' | 'storing' | 'done' | 'failed';

export interface JobView {
  id: string;
  name: string;
  state: JobState;
  /** Size of the uploaded file. */
  bytes: number;
  /** Bytes of it read by the analysis so far, and the percentage. */
  read: number;
  percent: number;
  captureId: number | null;
  frames: number | null;
  damaged: boolean;
  warnings: number;
  findings: number;
  /** Why it failed, in words for the user. */
  message: string | null;
  /** 'not-a-capture' when the content is no capture at all, 'internal' for our own failures. */
  errorCode: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface Job extends JobView {
  file: string;
  worker: Worker | null;
}

const KEEP_FINISHED = 200;

export class JobQueue {
  private jobs = new Map<string, Job>();
  private waiting: Job[] = [];
  private running = 0;
  private closed = false;

  constructor(private dbPath: string, private options: AnalyzeOptions, private workers: number) {}

  submit(file: string, name: string, bytes: number): JobView {
    const job: Job = {
      id: randomBytes(9).toString('base64url'), name, state: 'queued', bytes, read: 0, percent: 0, captureId: null, frames: null,
      damaged: false, warnings: 0, findings: 0, message: null, errorCode: null, createdAt: new Date().toISOString(), finishedAt: null,
      file, worker: null,
    };
    this.jobs.set(job.id, job);
    this.waiting.push(job);
    this.prune();
    this.pump();
    return view(job);
  }

  get(id: string): JobView | null {
    const j = this.jobs.get(id);
    return j ? view(j) : null;
  }

  list(): JobView[] {
    return [...this.jobs.values()].map(view).reverse();
  }

  /** Resolves when every submitted job has ended (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running > 0 || this.waiting.length > 0) await new Promise((r) => setTimeout(r, 20));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.waiting) this.end(j, 'failed', 'the server shut down before this upload was analysed', 'shutdown');
    this.waiting = [];
    await Promise.all([...this.jobs.values()].filter((j) => j.worker).map((j) => j.worker!.terminate()));
  }

  private pump(): void {
    while (!this.closed && this.running < this.workers && this.waiting.length > 0) this.start(this.waiting.shift()!);
  }

  private start(job: Job): void {
    this.running++;
    job.state = 'analysing';
    const input: WorkerInput = { dbPath: this.dbPath, file: job.file, name: job.name, options: this.options };
    const worker = new Worker(new URL('./analysis-worker.js', import.meta.url), { workerData: input });
    job.worker = worker;
    let ended = false;
    const done = (): void => {
      if (ended) return;
      ended = true;
      job.worker = null;
      this.running--;
      this.pump();
    };
    worker.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'progress':
          job.read = m.read;
          job.percent = m.total ? Math.min(99, Math.floor((m.read / m.total) * 100)) : job.percent;
          break;
        case 'storing':
          job.state = 'storing';
          job.percent = 99;
          break;
        case 'done':
          Object.assign(job, { captureId: m.captureId, frames: m.frames, damaged: m.damaged, warnings: m.warnings, findings: m.findings, read: job.bytes, percent: 100 });
          this.end(job, 'done', null, null);
          break;
        case 'failed':
          this.end(job, 'failed', m.message, m.notACapture ? 'not-a-capture' : 'internal');
          break;
      }
    });
    worker.on('error', (e) => { this.end(job, 'failed', `analysis crashed: ${e.message}`, 'internal'); done(); });
    worker.on('exit', (code) => {
      if (job.state !== 'done' && job.state !== 'failed') this.end(job, 'failed', `analysis stopped unexpectedly (exit ${code})`, 'internal');
      done();
    });
  }

  private end(job: Job, state: 'done' | 'failed', message: string | null, errorCode: string | null): void {
    if (job.state === 'done' || job.state === 'failed') return;
    job.state = state;
    job.message = message;
    job.errorCode = errorCode;
    job.finishedAt = new Date().toISOString();
    unlink(job.file, () => undefined);
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state === 'done' || j.state === 'failed');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.id);
  }
}

function view(j: Job): JobView {
  const { file: _file, worker: _worker, ...rest } = j;
  return { ...rest };
}
