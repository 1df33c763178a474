import { Estimate, type Ctx, type Session } from './session.js';
import { MSS, TcpConn } from './tcp.js';
import { BULK_PORT } from './world.js';

/**
 * iperf3-style bulk transfer: full-size segments in window-sized bursts. These make up most of
 * the file's bytes, as backups and replication make up most bytes on real links.
 */
export function bulkSession({ world, em, rng }: Ctx): Session {
  const client = world.client();
  const server = rng.pick(world.bulkServers);
  const size = rng.logUniform(32 << 10, 6 << 20);
  const download = rng.chance(0.7);
  const burst = rng.range(8, 32) * MSS;
  const request = Buffer.from(`bench ${download ? 'recv' : 'send'} ${size}\n`, 'ascii');
  const est = new Estimate().connection().stream(request.length).stream(size);
  function* steps(): Generator<void, void, void> {
    const c = new TcpConn(em, client, world.ephemeralPort(client), server, BULK_PORT, rng);
    c.handshake();
    yield;
    c.send(0, request);
    yield;
    const dir = download ? 1 : 0;
    for (let sent = 0; sent < size;) {
      const n = Math.min(burst, size - sent);
      c.send(dir, world.digits, world.digitsOffset(sent), n);
      sent += n;
      yield;
    }
    c.close(dir);
  }
  return { kind: 'bulk', estBytes: est.bytes, estPackets: est.packets, flows: 1, steps: steps() };
}
