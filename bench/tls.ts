import { Estimate, type Ctx, type Session } from './session.js';
import { TcpConn, type Dir } from './tcp.js';
import { GCM_OVERHEAD, MAX_PLAINTEXT, appData, appDataSize, clientFinish, clientHello, encryptedAlert, fatalAlert, serverFlight, serverFinish } from './tls-messages.js';

/** Two full records per burst: about 23 full-size segments, well inside the receive window. */
const RECORDS_PER_BURST = 2;
const scratch = Buffer.alloc(RECORDS_PER_BURST * (5 + MAX_PLAINTEXT + GCM_OVERHEAD));

interface Exchange { request: number; response: number }

/**
 * A TLS 1.2 connection on 443 (HTTPS) or 990 (implicit FTPS): full handshake with SNI, a real
 * certificate and a signed ServerKeyExchange, then application data. 'tls-web' sessions fetch a
 * few objects of widely varying size; 'tls-chatty' sessions trade many small records (an FTPS
 * control channel, an API poller). A few servers refuse the handshake with a fatal alert.
 */
export function tlsSession({ world, em, rng }: Ctx, chatty: boolean): Session {
  const server = rng.pick(chatty ? world.tlsServers : world.tlsServers.filter((s) => s.port === 443));
  const client = world.client();
  const web = server.port === 443;
  const alpnOffer = web ? ['h2', 'http/1.1'] : null;
  const alpn = web ? rng.pick(['h2', 'http/1.1']) : null;
  const refused = rng.chance(0.03) ? rng.pick([40, 70, 112]) : 0;
  const hello = clientHello(rng, rng.chance(0.97) ? server.name : `old.${server.name}`, alpnOffer);
  const exchanges: Exchange[] = [];
  const count = chatty ? rng.range(10, 60) : rng.range(1, 5);
  for (let i = 0; i < count; i++) {
    exchanges.push(chatty ? { request: rng.range(20, 120), response: rng.range(30, 240) } : { request: rng.range(200, 900), response: rng.logUniform(300, 1536 << 10) });
  }
  const est = new Estimate().connection().stream(hello.message.length);
  if (refused) est.stream(7);
  else {
    est.stream(1500).stream(130).stream(250);
    for (const x of exchanges) est.stream(appDataSize(x.request)).stream(appDataSize(x.response));
    est.stream(31);
  }

  function* run(): Generator<void, void, void> {
    const c = new TcpConn(em, client, world.ephemeralPort(client), server.host, server.port, rng);
    c.handshake();
    yield;
    c.send(0, hello.message);
    yield;
    if (refused) {
      c.send(1, fatalAlert(refused));
      c.close(1);
      return;
    }
    c.send(1, serverFlight(rng, hello.random, server.cert.der, server.cert.privateKey, alpn));
    yield;
    c.send(0, clientFinish(rng));
    c.send(1, serverFinish(rng));
    for (const x of exchanges) {
      yield;
      yield* records(c, 0, x.request);
      yield* records(c, 1, x.response);
    }
    yield;
    c.send(0, encryptedAlert(rng));
    c.close(0);
  }

  function* records(c: TcpConn, dir: Dir, plaintext: number): Generator<void, void, void> {
    for (let left = plaintext; left > 0;) {
      const n = Math.min(left, RECORDS_PER_BURST * MAX_PLAINTEXT);
      const len = appData(scratch, 0, n, world.pool, world.poolOffset(MAX_PLAINTEXT + GCM_OVERHEAD));
      c.send(dir, scratch, 0, len);
      left -= n;
      if (left > 0) yield;
    }
  }

  return { kind: chatty ? 'tls-chatty' : 'tls-web', estBytes: est.bytes, estPackets: est.packets, flows: 1, steps: run() };
}
