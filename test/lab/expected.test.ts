import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS, type AnalyzeOptions } from '../../src/analysis/context.js';
import { DEFAULT_OUT } from './record.js';

/**
 * faultline's findings on each committed lab capture against captures/lab/expected.json: the
 * codes a capture MUST produce and those it MUST NOT. The expectations come from each
 * scenario's design, checked on the wire with tshark when recorded, never from faultline.
 * (The `compare` expectations of expected.json are for `faultline compare`, not tested here.)
 */
interface ExpectedCapture {
  file: string;
  keylog: string | null;
  options: { passiveRange: string | null };
  must: string[];
  mustNot: string[];
  notes?: string;
}

const expected = (JSON.parse(readFileSync(join(DEFAULT_OUT, 'expected.json'), 'utf8')) as {
  scenarios: Record<string, { captures: Record<string, ExpectedCapture> }>;
}).scenarios;

for (const [name, sc] of Object.entries(expected)) {
  for (const [side, cap] of Object.entries(sc.captures)) {
    test(`lab ${name} (${side}): expected findings`, async () => {
      const range = cap.options.passiveRange?.split('-').map(Number);
      const options: AnalyzeOptions = {
        ...DEFAULT_OPTIONS,
        passiveRange: range ? [range[0], range[1]] : null,
        keylog: cap.keylog ? readFileSync(join(DEFAULT_OUT, cap.keylog), 'utf8') : null,
      };
      const { findings } = await analyzeCapture(join(DEFAULT_OUT, cap.file), options);
      const codes = [...new Set(findings.map((f) => f.code))].sort();
      const missing = cap.must.filter((c) => !codes.includes(c));
      const unexpected = cap.mustNot.filter((c) => codes.includes(c));
      assert.deepEqual({ missing, unexpected }, { missing: [], unexpected: [] },
        `${cap.file}: faultline found [${codes.join(', ')}]${cap.notes ? ` — ${cap.notes}` : ''}`);
    });
  }
}
