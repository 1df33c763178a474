import { type Rule, tallied } from '../types.js';
import { validityTally } from './tls-cert-validity.js';

/** A certificate in the server's chain was not yet valid when the handshake happened (capture time). */
export const TLS_CERT_NOT_YET_VALID: Rule = tallied({
  code: 'TLS_CERT_NOT_YET_VALID',
  severity: 'high',
  title: 'Server certificate was not yet valid at the time of the capture',
  explanation: 'A certificate the server sent had a notBefore date later than the handshake, so clients that verify certificates refuse the connection.',
  mitigation: 'Check the clocks of the server, the client and the capturing host (NTP); if they are right, the certificate was deployed too early: install one that is valid now.',
  tally: () => validityTally('not-yet-valid'),
});
