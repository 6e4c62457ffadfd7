import { createLogger } from '../../lib/log';

describe('createLogger', () => {
  const capture = (level: 'debug' | 'info' = 'info') => {
    const lines: string[] = [];
    const log = createLogger({ level, sink: (l) => lines.push(l), clock: () => new Date('2026-11-25T00:00:00Z') });
    return { log, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  };

  it('writes one JSON object per line with level, time, message and fields', () => {
    const { log, records } = capture();
    log.info('evaluations put', { evaluations: 3 });
    expect(records()).toEqual([{ level: 'info', time: '2026-11-25T00:00:00.000Z', message: 'evaluations put', evaluations: 3 }]);
  });

  it('drops lines below its level', () => {
    const { log, lines } = capture('info');
    log.debug('user evaluated');
    expect(lines).toEqual([]);
  });

  it('never writes a field that looks like a secret, even when a caller passes one', () => {
    const { log, lines } = capture();
    log.warn('oops', { SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'FQoGZXIvYXdzEXAMPLE', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' });
    expect(lines.join('\n')).not.toContain('wJalrXUtnFEMI');
    expect(lines.join('\n')).not.toContain('FQoGZXIvYXdzEXAMPLE');
    expect(lines.join('\n')).toContain('AKIAIOSFODNN7EXAMPLE'); // a key ID is an identifier, not a secret
  });

  it('child loggers add their fields to every line', () => {
    const { log, records } = capture();
    log.child({ requestId: 'r1' }).info('x');
    expect(records()[0]).toMatchObject({ requestId: 'r1', message: 'x' });
  });
});
