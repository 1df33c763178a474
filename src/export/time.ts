/**
 * Times for exports. Everything internal is µs since the epoch; outputs want ISO 8601 (with
 * `Z` for JSON lines, `+00:00` as Timesketch documents it) or plaso's MM/DD/YYYY and HH:MM:SS.
 */
import { isoTime } from '../store/queries.js';

export function iso(us: number): string {
  return isoTime(us)!;
}

/** ISO 8601 with microseconds and a numeric UTC offset, e.g. 2015-07-24T19:01:01.000123+00:00. */
export function isoOffset(us: number): string {
  return iso(us).replace(/Z$/, '+00:00');
}

/** plaso l2tcsv date and time columns (UTC). */
export function l2tDateTime(us: number): { date: string; time: string } {
  const t = iso(us);
  return { date: `${t.slice(5, 7)}/${t.slice(8, 10)}/${t.slice(0, 4)}`, time: t.slice(11, 19) };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A --since/--until value: epoch seconds (fractions allowed) or ISO 8601. An ISO time without
 * an offset is taken as UTC, like every time faultline prints, so a copied timestamp means the
 * same instant whatever the local time zone. Returns null when it is neither.
 */
export function parseTimeArg(text: string): number | null {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const [whole, frac = ''] = s.split('.');
    return Number(whole) * 1e6 + Number((frac + '000000').slice(0, 6));
  }
  const m = ISO.exec(s);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (!Number.isFinite(ms) || Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 60) return null;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? '0'));
  }
  return (ms - offsetMin * 60000) * 1000 + Number((frac + '000000').slice(0, 6));
}
