import { Estimate, type Ctx, type Session } from './session.js';

const LABELS = ['intranet', 'wiki', 'git', 'build', 'mirror', 'backup', 'print', 'vpn', 'ldap', 'ntp', 'proxy', 'shop'];

/** One DNS lookup (RFC 1035 4.1): query and answer, A or AAAA, sometimes NXDOMAIN. */
export function dnsSession({ world, em, rng }: Ctx): Session {
  const client = world.client();
  const server = world.dnsServer;
  const name = `${rng.pick(LABELS)}${rng.int(400)}.corp.example`;
  const aaaa = rng.chance(0.25);
  const nxdomain = rng.chance(0.05);
  const id = rng.int(0x10000);
  const query = message(id, 0x0100, name, aaaa ? 28 : 1, []);
  const answers: Buffer[] = [];
  if (!nxdomain) {
    const count = rng.range(1, 2);
    for (let i = 0; i < count; i++) answers.push(aaaa ? rng.bytes(16) : Buffer.from(rng.bytes(4).map((b, j) => (j === 0 ? 10 : b))));
  }
  const reply = message(id, nxdomain ? 0x8183 : 0x8180, name, aaaa ? 28 : 1, answers, rng.range(30, 3600));
  const est = new Estimate().frames(1, 42 + query.length).frames(1, 42 + reply.length);
  function* steps(): Generator<void, void, void> {
    const port = world.ephemeralPort(client);
    em.udp(client, server, port, 53, query);
    em.advance(rng.range(200, 3000));
    em.udp(server, client, 53, port, reply);
  }
  return { kind: 'dns', estBytes: est.bytes, estPackets: est.packets, flows: 1, steps: steps() };
}

function message(id: number, flags: number, name: string, qtype: number, answers: Buffer[], ttl = 0): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(flags, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answers.length, 6);
  const qname = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  const question = Buffer.alloc(4);
  question.writeUInt16BE(qtype, 0);
  question.writeUInt16BE(1, 2);
  const rrs = answers.map((rdata) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // compression pointer to the question name at offset 12
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([head, qname, question, ...rrs]);
}
