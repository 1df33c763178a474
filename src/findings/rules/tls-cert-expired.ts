import { type Rule, tallied } from '../types.js';
import { validityTally } from './tls-cert-validity.js';

/** A certificate in the server's chain had expired when the handshake happened (capture time). */
export const TLS_CERT_EXPIRED: Rule = tallied({
  code: 'TLS_CERT_EXPIRED',
  severity: 'high',
  title: 'Server certificate had expired at the time of the capture',
  explanation: 'A certificate the server sent was past its notAfter date when the handshake took place, so clients that verify certificates refuse the connection.',
  mitigation: 'Renew the certificate and install the new one (with its current intermediates) on the server, then automate renewal (ACME or your CA\'s tooling) and monitor expiry dates.',
  tally: () => validityTally('expired'),
});
