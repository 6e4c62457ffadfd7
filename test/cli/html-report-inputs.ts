/**
 * Fixed inputs of the HTML report's tests: an organization report made of the shipped example's
 * and the root-keys fixture's audits plus a suspended account, and synthetic accounts of any
 * size for the size budget.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditCredentialReport } from '../../cli/audit-credential-report';
import { AUDIT_SCHEMA_VERSION, type AuditReport, auditUser, summarize } from '../../cli/audit-report';
import { auditedEntry, notAuditedEntry, type OrganizationAuditReport } from '../../cli/organization-report';
import { DAY_MS } from '../../rules/access-key-age/policy';
import { organizationReport as organizationReportOf } from './reports';
import { EXAMPLE, FIXTURES, PINNED_NOW, ROOT } from './run-cli';

const NOW = new Date(PINNED_NOW);
const PARAMS = { maxAccessKeyAgeDays: 90 };

/** The offline audit of a credential report file, as `keyage audit --credential-report` makes it. */
export function credentialReportAudit(path: string, file: string): AuditReport {
  return auditCredentialReport(readFileSync(path), { now: NOW, params: PARAMS, graceDays: 14, file, region: 'us-east-1' });
}

/** Three accounts: the example (123456789012), the root-keys fixture (210987654321) and a suspended one. */
export function organizationReport(): OrganizationAuditReport {
  const example = credentialReportAudit(join(ROOT, EXAMPLE), EXAMPLE);
  const rootKeys = credentialReportAudit(join(FIXTURES, 'root-keys.csv'), 'root-keys.csv');
  const accounts = [
    auditedEntry({ accountId: '123456789012', name: 'prod', state: 'ACTIVE' }, example),
    auditedEntry({ accountId: '210987654321', name: 'sandbox', state: 'ACTIVE' }, rootKeys),
    notAuditedEntry({ accountId: '333344445555', name: 'legacy', state: 'SUSPENDED' }, 'not-active', 'the account is SUSPENDED in Organizations; only ACTIVE accounts can be audited (--exclude 333344445555 to leave it out)'),
  ];
  return organizationReportOf(accounts, { profile: 'org-management', callerAccountId: '123456789012' });
}

/**
 * A live-shaped audit of `users` synthetic users, each with two keys with key IDs (the most a
 * user can have, so the largest report per user), ages spread over 0 to 400 days, user names of
 * 20 to 40 characters.
 */
export function syntheticAccountReport(users: number, accountId = '123456789012'): AuditReport {
  const entries = Array.from({ length: users }, (_, i) => {
    const userName = `user-${String(i).padStart(5, '0')}-${'x'.repeat(10 + (i % 21))}`;
    const keyId = (slot: number) => `AKIA${accountId.slice(0, 4)}${String(i * 2 + slot).padStart(12, '0')}`;
    const created = (days: number) => new Date(NOW.getTime() - days * DAY_MS - 3600_000);
    return auditUser(
      {
        userName,
        userId: `AIDA${String(i).padStart(17, '0')}`,
        arn: `arn:aws:iam::${accountId}:user/${userName}`,
        createdAt: created(800),
        keys: [
          { slot: 1, accessKeyId: keyId(1), status: 'Active', createdAt: created((i * 7) % 400), lastUsedAt: i % 3 === 0 ? null : created(1) },
          { slot: 2, accessKeyId: keyId(2), status: i % 4 === 0 ? 'Inactive' : 'Active', createdAt: created((i * 13) % 400), lastUsedAt: created(2) },
        ],
        usage: new Map([
          [1, { lastUsedService: 's3', lastUsedRegion: 'eu-west-1' }],
          [2, { lastUsedService: 'sts', lastUsedRegion: 'us-east-1' }],
        ]),
        exempt: i % 50 === 0,
      },
      NOW,
      PARAMS,
    );
  });
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    command: 'audit',
    now: NOW.toISOString(),
    parameters: { maxAccessKeyAgeDays: 90, exemptionTag: 'keyage-exempt', graceDays: 14, sources: { maxAccessKeyAgeDays: 'default', exemptionTag: 'flag', graceDays: 'default' }, recordKey: null },
    source: { kind: 'live', region: 'us-east-1', profile: null },
    accountId,
    partition: 'aws',
    region: 'us-east-1',
    summary: summarize(entries, null),
    root: null,
    users: entries,
  };
}
