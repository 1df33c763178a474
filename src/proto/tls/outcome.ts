/**
 * How a TLS handshake ended, decided once its TCP connection is over: completed, failed (a
 * fatal alert, an alert and then the end, a peer that does not speak TLS), dropped (FIN or RST
 * before both Finished messages), or incomplete (the capture stops first).
 */
import type { Flow } from '../../flow/flow.js';
import type { TlsAlertFact, TlsHandshakeFact, TlsRole } from './facts.js';

export interface OutcomeInput {
  /** A ClientHello was seen: without one the capture joined after the handshake. */
  helloSeen: boolean;
  completedAt: { frame: number; ts: number } | null;
  /** TLS 1.3 record of exactly an alert's size, unreadable, before completion. */
  suspectedAlert: TlsAlertFact | null;
  flow: Flow;
  clientDir: 0 | 1;
  lastStep: string;
}

function roleOfDir(dir: 0 | 1, clientDir: 0 | 1): TlsRole {
  return dir === clientDir ? 'client' : 'server';
}

export function judgeOutcome(f: TlsHandshakeFact, o: OutcomeInput): void {
  // A capture that saw only one side (asymmetric routing, a filter) cannot tell how the
  // handshake went: neither completion nor failure is claimed.
  const packets = o.flow.packets;
  if (!o.completedAt && (packets[0] === 0 || packets[1] === 0)) {
    f.state = o.helloSeen ? 'incomplete' : 'unknown';
    f.failure = null;
    return;
  }
  if (f.failure !== null) { f.state = 'failed'; return; }
  if (o.completedAt) { f.state = 'completed'; return; }
  if (!o.helloSeen) { f.state = 'unknown'; return; }
  const alert = f.alerts.find((a) => a.duringHandshake) ?? o.suspectedAlert;
  if (alert) {
    const what = alert.visibility === 'encrypted'
      ? (alert === o.suspectedAlert ? 'an encrypted record the size of an alert' : 'an encrypted alert')
      : `a ${alert.levelName} ${alert.descriptionName} alert`;
    f.state = 'failed';
    f.failure = {
      kind: 'alert', by: alert.from, frame: alert.frame, ts: alert.ts,
      alert: { level: alert.level, description: alert.description, name: alert.descriptionName, visibility: alert.visibility },
      after: o.lastStep, reason: `the ${alert.from} sent ${what} in frame ${alert.frame} ${o.lastStep} and the handshake never completed`,
    };
    return;
  }
  const tcp = o.flow.tcp;
  if (tcp && tcp.rstFrom !== -1) {
    const by = roleOfDir(tcp.rstFrom, o.clientDir);
    f.state = 'dropped';
    f.failure = {
      kind: 'reset', by, frame: tcp.rstFrame, ts: o.flow.lastTs, alert: null, after: o.lastStep,
      reason: `the ${by} reset the connection (RST in frame ${tcp.rstFrame}) ${o.lastStep}, before the handshake completed`,
    };
    return;
  }
  if (tcp && (tcp.finFrom[0] || tcp.finFrom[1])) {
    const both = tcp.finFrom[0] && tcp.finFrom[1];
    const by = both ? null : roleOfDir(tcp.finFrom[0] ? 0 : 1, o.clientDir);
    f.state = 'dropped';
    f.failure = {
      kind: 'closed', by, frame: o.flow.lastFrame, ts: o.flow.lastTs, alert: null, after: o.lastStep,
      reason: `${by ? `the ${by}` : 'both sides'} closed the connection (FIN; last frame ${o.flow.lastFrame}) ${o.lastStep}, before the handshake completed`,
    };
    return;
  }
  f.state = 'incomplete';
}
