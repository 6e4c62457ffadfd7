/**
 * The small pieces the formats are built from: RFC 4180 quoting, the text table, the progress
 * line, and the bounded pool that reads users.
 */
import { csvField } from '../../cli/format-csv';
import { mapWithConcurrency } from '../../cli/pool';
import { createProgress } from '../../cli/progress';
import { textTable } from '../../cli/text-table';

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    [' padded', '" padded"'],
    ['', ''],
  ])('%j is written as %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it('writes null as the empty field and numbers and booleans as they print', () => {
    expect([csvField(null), csvField(91), csvField(false)]).toEqual(['', '91', 'false']);
  });
});

describe('textTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(textTable(['A', 'BB', 'C'], [['xxx', 'y', 'free text'], ['z', 'wwww', '']])).toBe('A    BB    C\nxxx  y     free text\nz    wwww');
  });

  it('fitted to a width, cuts only the last column, with an ellipsis, and keeps at least 20 characters of it', () => {
    const reason = 'a reason that runs on for quite a while';
    expect(textTable(['ID', 'WHY'], [['AKIA0000000000000001', reason]], { maxWidth: 45 })).toBe(`ID                    WHY\nAKIA0000000000000001  ${reason.slice(0, 22).trimEnd()}…`);
    expect(textTable(['ID', 'WHY'], [['AKIA0000000000000001', reason]], { maxWidth: 10 })).toBe(`ID                    WHY\nAKIA0000000000000001  ${reason.slice(0, 19).trimEnd()}…`);
    expect(textTable(['ID', 'WHY'], [['AKIA0000000000000001', reason]], { maxWidth: 200 })).toBe(`ID                    WHY\nAKIA0000000000000001  ${reason}`);
  });

  it('paints body cells without moving the columns; the header is never painted', () => {
    const painted = textTable(['V', 'R'], [['NO', 'x'], ['YES', 'y']], { paint: (c, i) => (i === 0 ? `<${c}>` : c) });
    expect(painted).toBe('V    R\n<NO>   x\n<YES>  y');
  });
});

describe('createProgress', () => {
  it('draws on a terminal once the work reaches the threshold, and erases the line at the end', () => {
    const out: string[] = [];
    const p = createProgress({ write: (t) => out.push(t), isTTY: true, label: 'reading', threshold: 3 });
    p.update(1, 4);
    p.update(4, 4);
    p.finish();
    expect(out).toEqual(['\rreading 1/4 (25%)', '\rreading 4/4 (100%)', '\r\u001b[2K']);
  });

  it('never draws when standard error is not a terminal, or the account is small', () => {
    const out: string[] = [];
    createProgress({ write: (t) => out.push(t), isTTY: false, label: 'x', threshold: 1 }).update(1, 5);
    const small = createProgress({ write: (t) => out.push(t), isTTY: true, label: 'x', threshold: 10 });
    small.update(1, 5);
    small.finish();
    expect(out).toEqual([]);
  });
});

describe('mapWithConcurrency', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('throws the first failure after the calls in flight settle, and starts no more work', async () => {
    const started: number[] = [];
    await expect(
      mapWithConcurrency([1, 2, 3, 4], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});
