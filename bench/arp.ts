import { Estimate, type Ctx, type Session } from './session.js';

/** ARP resolution on the LAN: request and reply, sometimes unanswered, sometimes gratuitous. */
export function arpSession({ world, em, rng }: Ctx): Session {
  const sender = world.client();
  const hosts = world.allHosts;
  const target = rng.pick(hosts);
  const gratuitous = rng.chance(0.05) || target === sender;
  const unanswered = !gratuitous && rng.chance(0.08);
  const est = new Estimate().frames(gratuitous || unanswered ? 1 : 2, 42);
  function* steps(): Generator<void, void, void> {
    if (gratuitous) { em.arp(1, sender, sender.ip, null); return; }
    // x.x.x.254 belongs to no host: a neighbour that has gone away, so nobody answers.
    em.arp(1, sender, unanswered ? (target.ip & 0xffffff00) | 0xfe : target.ip, null);
    if (unanswered) return;
    em.advance(rng.range(20, 400));
    em.arp(2, target, sender.ip, sender.mac);
  }
  return { kind: 'arp', estBytes: est.bytes, estPackets: est.packets, flows: 0, steps: steps() };
}
