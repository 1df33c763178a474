/**
 * The resumption index ties a ClientHello's offer to the connection that issued the session or
 * ticket. It is bounded (RESUMPTION_ENTRIES per map): what goes first is what was least recently
 * issued or offered, so a session in use, like an FTPS control connection's that every data
 * connection offers, survives any number of other handshakes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESUMPTION_ENTRIES, ResumptionIndex } from '../../../src/proto/tls/resumption.js';

const id = (n: number): string => n.toString(16).padStart(64, '0');
const offer = (sessionId: string, ticketId: string | null = null, pskIds: string[] = []) => ({ sessionId, ticketId, pskIds });

test('offers find the connection that issued them, never the offering connection itself', () => {
  const r = new ResumptionIndex();
  r.sessionIssued(id(1), 10);
  r.sessionIssued(id(1), 11);
  r.ticketIssued('t1', 12);
  assert.deepEqual(r.sourceOf(offer(id(1)), 20), { flow: 10, by: 'session-id' });
  assert.equal(r.sourceOf(offer(id(1)), 10), null);
  assert.deepEqual(r.sourceOf(offer(id(1), 't1'), 20), { flow: 12, by: 'ticket' });
  assert.deepEqual(r.sourceOf(offer('', null, ['x', 't1']), 20), { flow: 12, by: 'psk' });
  assert.equal(r.sourceOf(offer(id(2), 't2'), 20), null);
});

test('bounded: the least recently issued or offered entries go first, a session in use stays', () => {
  const r = new ResumptionIndex();
  r.sessionIssued(id(0), 1);
  r.ticketIssued('kept', 1);
  r.sessionIssued(id(1), 2);
  r.ticketIssued('idle', 2);
  // Four times the capacity of other handshakes, the first session and ticket offered in between.
  for (let n = 2; n < 4 * RESUMPTION_ENTRIES; n++) {
    r.sessionIssued(id(n), n + 1);
    r.ticketIssued(`t${n}`, n + 1);
    if (n % 1000 === 0) {
      assert.deepEqual(r.sourceOf(offer(id(0)), 1e9), { flow: 1, by: 'session-id' });
      assert.deepEqual(r.sourceOf(offer('', 'kept'), 1e9), { flow: 1, by: 'ticket' });
    }
  }
  assert.deepEqual(r.sourceOf(offer(id(0)), 1e9), { flow: 1, by: 'session-id' });
  assert.deepEqual(r.sourceOf(offer('', 'kept'), 1e9), { flow: 1, by: 'ticket' });
  // Never offered: gone.
  assert.equal(r.sourceOf(offer(id(1), 'idle'), 1e9), null);
  // The newest ones are all there; one older than the capacity is not.
  const last = 4 * RESUMPTION_ENTRIES - 1;
  assert.deepEqual(r.sourceOf(offer(id(last)), 1e9), { flow: last + 1, by: 'session-id' });
  assert.deepEqual(r.sourceOf(offer(id(last - RESUMPTION_ENTRIES + 3)), 1e9), { flow: last - RESUMPTION_ENTRIES + 4, by: 'session-id' });
  assert.equal(r.sourceOf(offer(id(last - RESUMPTION_ENTRIES - 1)), 1e9), null);
});
