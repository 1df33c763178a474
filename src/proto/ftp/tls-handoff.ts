/**
 * Where an FTPS control connection meets the TLS analyzer. When TLS starts on a control stream
 * (234 after AUTH, or implicit FTPS), the FTP session offers the encrypted bytes to whoever
 * registered for this analysis; a handler that can decrypt (key log) returns a sink and hands
 * the plaintext back through `DecryptedControlSink`, which runs exactly the same command/reply
 * path as clear text. Registration is per analysis context, so parallel analyses never mix.
 * The other way, the TLS analyzer offers the handshakes of ended connections, which an FTPS
 * session's findings read when it is judged during the run.
 */
import type { FactSet } from '../../analysis/context.js';
import type { Dir, Flow } from '../../flow/flow.js';
import type { FtpSessionFact, TlsFrom } from './facts.js';
import type { Role } from './control-stream.js';

export type { Role } from './control-stream.js';

/** The FTP side of the hand-off: decrypted control text comes back in here. */
export interface DecryptedControlSink {
  /** Plaintext bytes of one role's stream, in order; split into lines like clear text. */
  feedDecrypted(role: Role, bytes: Buffer, frame: number, ts: number): void;
  /** One complete line (no CR/LF) of one role's stream. */
  feedDecryptedLine(role: Role, text: string, frame: number, ts: number): void;
}

/** The TLS side: encrypted bytes of the control connection, per role, from `tlsFrom` on. */
export interface FtpTlsSink {
  data(role: Role, bytes: Buffer, offset: number, frame: number, ts: number): void;
  /** TLS ended on that role's stream: clear text from `offset` (after CCC), or -1 when the flow ended. */
  end(role: Role, offset: number): void;
}

export interface FtpTlsStart {
  flow: Flow;
  /** Flow direction carrying client→server bytes. */
  clientDir: Dir;
  tlsFrom: TlsFrom;
  implicit: boolean;
  session: DecryptedControlSink;
  /** Read-only view of the session so far (user, greeting, AUTH argument...). */
  facts: Readonly<FtpSessionFact>;
}

export type FtpTlsHandler = (start: FtpTlsStart) => FtpTlsSink | null;

const handlers = new WeakMap<object, FtpTlsHandler[]>();

/**
 * The TLS analyzer calls this from its factory with its AnalysisContext (PROTOCOLS puts TLS
 * before FTP, so it registers before any FTP session exists).
 */
export function onFtpTlsStart(ctx: object, handler: FtpTlsHandler): void {
  const list = handlers.get(ctx);
  if (list) list.push(handler);
  else handlers.set(ctx, [handler]);
}

/** The first handler that takes the stream gets it. */
export function offerFtpTls(ctx: object, start: FtpTlsStart): FtpTlsSink | null {
  for (const h of handlers.get(ctx) ?? []) {
    const sink = h(start);
    if (sink) return sink;
  }
  return null;
}

/** What the TLS analyzer recorded of the handshake on a flow, as the rules read it. */
export type FlowHandshake = FactSet['tls']['stored'][number];

/** The TLS analyzer's side of judging an FTPS session during the run. */
export interface HandshakeSource {
  /** The handshake of an ended FTP connection, handed over once: the TLS analyzer forgets it. */
  take(flow: number): FlowHandshake | undefined;
  /** Every certificate seen so far, by SHA-256 fingerprint. */
  certificates(): FactSet['tls']['certificateIndex'];
}

const sources = new WeakMap<object, HandshakeSource>();

/**
 * The TLS analyzer offers the handshakes of ended connections that FTP owns (control and data
 * connections), so an FTPS session can be judged (and stored) as soon as its connections have
 * ended, with the handshakes of its own flows.
 */
export function provideHandshakes(ctx: object, source: HandshakeSource): void {
  sources.set(ctx, source);
}

/** The handshake of an ended connection, if the TLS analyzer runs in this analysis and saw one; it is not offered again. */
export function takeHandshake(ctx: object, flow: number): FlowHandshake | undefined {
  return sources.get(ctx)?.take(flow);
}

/** The certificates the TLS analyzer has seen so far (null without a TLS analyzer). */
export function certificatesSeen(ctx: object): FactSet['tls']['certificateIndex'] {
  return sources.get(ctx)?.certificates() ?? null;
}
