/**
 * Output at any size, and failures of keyage itself told apart from AWS failures.
 *
 * The table used to take `Math.max(...column)` over every row, which overflows the call stack at
 * about 120,000 rows ("Maximum call stack size exceeded", exit 3); the ASFF of 100,000 users is
 * larger than the longest string Node can hold. These tests build big reports in memory (no
 * file, no AWS) and never time anything.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { auditAsffChunks, formatAuditAsff } from '../../cli/format-asff';
import { auditJsonChunks, formatAuditJson } from '../../cli/format-json';
import { formatOrganizationTable } from '../../cli/format-organization';
import { formatAuditTable } from '../../cli/format-table';
import { jsonChunks, WRITE_BATCH_CHARS, writeChunked } from '../../cli/json-chunks';
import { EXIT } from '../../cli/main';
import { auditedEntry } from '../../cli/organization-report';
import { textTable } from '../../cli/text-table';
import { organizationReport, reportWithNames, syntheticReport } from './reports';
import { EXAMPLE, PINNED_NOW, ROOT, runCli } from './run-cli';

const SEED = 0x5ca1e;

describe('the table formats at scale', () => {
  it('formats 200,000 key rows (100,000 users with two keys each) without overflowing the stack', () => {
    const report = syntheticReport(100_000, 2);
    const out = formatAuditTable(report);
    const lines = out.split('\n');
    // header, 200,000 rows, a blank line, root, summary, decision, source, and the final newline
    expect(lines).toHaveLength(1 + 200_000 + 1 + 4 + 1);
    expect(lines[0]).toBe('USER        SLOT  KEY ID        STATUS  AGE   LAST USED   VERDICT        ACTION      REASON');
    expect(lines[1]).toBe('user-0      1     AKIAEXAMPLE1  Active  328d  never       NON_COMPLIANT  deactivate  Active key AKIAEXAMPLE1 (key 1) is 328 days old; limit 90.');
    expect(lines[200_000]).toBe('user-99999  2     AKIAEXAMPLE2  Active  24d   2026-11-24  COMPLIANT      none        Active key AKIAEXAMPLE2 (key 2) is 24 days old; due for rotation in 67 days.');
    expect(lines[200_003]).toBe('Summary: 100000 users, 100000 non-compliant, 0 exempt or not applicable; 200000 keys (200000 active), 100000 to deactivate, 0 to delete.');
  });

  it('formats an organization of four accounts of 17,500 users with two keys each (140,000 rows)', () => {
    const accounts = ['111111111111', '222222222222', '333333333333', '444444444444'].map((id, i) =>
      auditedEntry({ accountId: id, name: `account-${i}`, state: 'ACTIVE' }, syntheticReport(17_500, 2, id)),
    );
    const out = formatOrganizationTable(organizationReport(accounts));
    expect(out.split('\n').filter((l) => / AKIAEXAMPLE[12] /.test(l))).toHaveLength(140_000);
    expect(out).toContain('Summary: 4 accounts, 4 audited, 0 not audited; 70000 users, 70000 non-compliant; 140000 keys (140000 active)');
  });

  it('textTable pads a column of 200,000 cells to the widest', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [i === 199_999 ? 'widest-cell' : 'x', 'y']);
    const lines = textTable(['A', 'B'], rows).split('\n');
    expect(lines.slice(0, 2)).toEqual(['A            B', 'x            y']);
    expect(lines[200_000]).toBe('widest-cell  y');
  });
});

describe('jsonChunks', () => {
  it('joins to exactly JSON.stringify(value, null, 2), at every depth', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.integer({ min: 0, max: 6 }), (value, depth) => {
        expect([...jsonChunks(value, depth)].join('')).toBe(JSON.stringify(value, null, 2));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('drops undefined members and writes null for undefined array elements, as JSON.stringify does', () => {
    const value = { a: undefined, b: [undefined, 1], c: { d: undefined } };
    expect([...jsonChunks(value, 3)].join('')).toBe(JSON.stringify(value, null, 2));
  });

  it('gives the audit JSON and ASFF a piece per user or finding, no piece larger than one of them', () => {
    const report = syntheticReport(2_000, 2);
    const longest = Math.max(...report.users.slice(0, 1).map((u) => JSON.stringify(u, null, 2).length * 2));
    const pieces = [...jsonChunks(report, 2)];
    expect(pieces.length).toBeGreaterThan(2_000 * 3);
    expect(pieces.every((p) => p.length <= longest)).toBe(true);
  });
});

describe('writeChunked', () => {
  it('writes batches of at most the batch size, unless one piece is larger, in order', () => {
    const writes: string[] = [];
    writeChunked((t) => writes.push(t), ['aaa', 'bb', 'c', 'dddddd', 'e'], 4);
    expect(writes).toEqual(['aaa', 'bbc', 'dddddd', 'e']);
  });

  it('writes nothing for nothing', () => {
    const writes: string[] = [];
    writeChunked((t) => writes.push(t), []);
    expect(writes).toEqual([]);
  });
});

describe('keyage audit writes large output in pieces', () => {
  it('the ASFF and JSON chunks of 1,000 users join to the whole text, in batches of about 1 MiB', () => {
    const report = syntheticReport(1_000, 2);
    for (const [chunks, whole] of [
      [auditAsffChunks(report), formatAuditAsff(report)],
      [auditJsonChunks(report), formatAuditJson(report)],
    ] as const) {
      expect(whole.length).toBeGreaterThan(1.2 * WRITE_BATCH_CHARS);
      const writes: string[] = [];
      writeChunked((t) => writes.push(t), chunks);
      expect(writes.join('')).toBe(whole);
      expect(writes.length).toBeGreaterThanOrEqual(2);
      for (const w of writes) expect(w.length).toBeLessThanOrEqual(WRITE_BATCH_CHARS + 10_000);
    }
  });

  it.each(['asff', 'json'])('keyage audit --format %s of a 1,500-user report writes standard output in pieces, never all at once', async (format) => {
    const names = Array.from({ length: 1_500 }, (_, i) => `user-${i}`);
    const writes: string[] = [];
    const run = await runCli(['audit', '--credential-report', '-', '--now', PINNED_NOW, '--format', format], {
      readStdin: async () => Buffer.from(reportWithNames(names)),
      stdout: (t) => {
        writes.push(t);
      },
    });
    expect(run.code).toBe(0);
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) expect(w.length).toBeLessThanOrEqual(WRITE_BATCH_CHARS + 10_000);
    const parsed = JSON.parse(writes.join('')) as unknown[] | { users: unknown[] };
    expect(Array.isArray(parsed) ? parsed.length : parsed.users.length).toBe(format === 'asff' ? 1 + 2 * 1_500 : 1_500);
  });
});

describe('exit status 4: a failure of keyage itself', () => {
  it('a programming error is an internal error, exit 4, never the AWS failure status 3', async () => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE], {
      clock: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
    });
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'keyage: internal error (a fault in keyage, not in the input or in AWS; please report it with the command that caused it): RangeError: Maximum call stack size exceeded\n',
    );
  });

  it('an AWS SDK error that reached the top on its own is still an AWS failure, exit 3', async () => {
    const run = await runCli(['audit', '--credential-report', EXAMPLE], {
      clock: () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
      },
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('keyage: AWS call failed: Could not load credentials from any providers\n');
  });

  it('docs/cli.md\'s exit status table has a row for every status the command uses', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
    const table = docs.slice(docs.indexOf('## Exit status'), docs.indexOf('## Output formats'));
    const rows = [...table.matchAll(/^\| (\d) \|/gm)].map((m) => Number(m[1]));
    expect(rows).toEqual(Object.values(EXIT).sort());
    expect(EXIT.internal).toBe(4);
  });

  it('--help names exit status 4', async () => {
    const run = await runCli(['--help']);
    expect(run.stdout).toContain('4 an internal error in keyage');
  });
});
