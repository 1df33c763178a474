/**
 * Who may use the API. Beyond loopback a token is required (header `Authorization: Bearer T`,
 * or the cookie set by opening `/?token=T`); on loopback the Host header must name this
 * machine, so a web page elsewhere cannot reach the API by DNS rebinding, and requests that
 * change state must come from our own origin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './config.js';

export const TOKEN_COOKIE = 'faultline_token';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function cookieValue(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try { return decodeURIComponent(part.slice(eq + 1).trim()); } catch { return null; }
    }
  }
  return null;
}

export function hostName(hostHeader: string): string {
  const h = hostHeader.trim();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export class Access {
  private tokenDigest: Buffer | null;

  constructor(token: string | null, private loopbackOnly: boolean) {
    this.tokenDigest = token === null ? null : digest(token);
  }

  get tokenRequired(): boolean {
    return this.tokenDigest !== null;
  }

  /** Constant-time comparison of hashes, so the answer time says nothing about the token. */
  tokenMatches(candidate: string | null): boolean {
    if (this.tokenDigest === null) return true;
    if (candidate === null || candidate === '') return false;
    return timingSafeEqual(digest(candidate), this.tokenDigest);
  }

  presentedToken(req: IncomingMessage): string | null {
    const auth = req.headers.authorization;
    if (auth) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      return m ? m[1] : null;
    }
    return cookieValue(req, TOKEN_COOKIE);
  }

  authorized(req: IncomingMessage): boolean {
    return this.tokenMatches(this.presentedToken(req));
  }

  /** A loopback-bound server answers only to names of this machine (DNS rebinding). */
  hostAllowed(req: IncomingMessage): boolean {
    if (!this.loopbackOnly) return true;
    const host = req.headers.host;
    return host !== undefined && isLoopbackHost(hostName(host));
  }

  /** Browsers send Origin on cross-site POSTs: it must be this server. */
  sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  cookieHeader(token: string): string {
    return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
  }
}
