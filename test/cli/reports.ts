/**
 * Reports built for tests of the formats: credential reports with crafted user names, audit
 * reports of any size without reading a file, and organization reports around them.
 */
import { auditUser, AUDIT_SCHEMA_VERSION, type AuditReport, type AuditUser, summarize } from '../../cli/audit-report';
import { ORGANIZATION_SCHEMA_VERSION, type OrganizationAuditReport, summarizeOrganization } from '../../cli/organization-report';
import type { AccessKey } from '../../rules/access-key-age/policy';
import { REPORT_HEADER } from '../harness/credential-report';

/** A CSV field, quoted the RFC 4180 way (the harness builder does not quote). */
const q = (field: string) => `"${field.replace(/"/g, '""')}"`;

/** A credential report (CSV) whose users carry the given names (ARNs plain), each with one active key made 2026-10-26. */
export function reportWithNames(names: readonly string[]): string {
  const lines = [REPORT_HEADER, '<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A'];
  names.forEach((name, i) => {
    lines.push(
      [q(name), `arn:aws:iam::123456789012:user/u${i}`, '2024-01-01T00:00:00+00:00', 'false', 'N/A', 'N/A', 'N/A', 'false', 'true', '2026-10-26T12:00:00+00:00', 'N/A', 'N/A', 'N/A', 'false', 'N/A', 'N/A', 'N/A', 'N/A', 'false', 'N/A', 'false', 'N/A'].join(','),
    );
  });
  return `${lines.join('\n')}\n`;
}

const NOW = new Date('2026-11-25T12:00:00Z');

/**
 * An audit report of `users` users with `keysPerUser` keys each (one stale, one fresh), decided by
 * the real policy for the first user and shared by the rest (only the name differs), so that
 * 100,000 users cost no more than building the array.
 */
export function syntheticReport(users: number, keysPerUser: 1 | 2, accountId = '123456789012'): AuditReport {
  const keys: AccessKey[] = [
    { slot: 1, status: 'Active', createdAt: new Date('2026-01-01T00:00:00Z'), accessKeyId: 'AKIAEXAMPLE1', lastUsedAt: null },
    { slot: 2, status: 'Active', createdAt: new Date('2026-11-01T00:00:00Z'), accessKeyId: 'AKIAEXAMPLE2', lastUsedAt: new Date('2026-11-24T00:00:00Z') },
  ];
  const template = auditUser({ userName: 'u', userId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${accountId}:user/u`, keys: keys.slice(0, keysPerUser), exempt: false }, NOW, { maxAccessKeyAgeDays: 90 });
  const list: AuditUser[] = [];
  for (let i = 0; i < users; i++) list.push({ ...template, userName: `user-${i}`, arn: `arn:aws:iam::${accountId}:user/user-${i}` });
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    command: 'audit',
    now: NOW.toISOString(),
    parameters: { maxAccessKeyAgeDays: 90, exemptionTag: null, graceDays: 14 },
    source: { kind: 'live', region: 'us-east-1', profile: null },
    accountId,
    partition: 'aws',
    region: 'us-east-1',
    summary: summarize(list, null),
    root: null,
    users: list,
  };
}

/** An organization report of the given entries, the rest fixed (the caller's profile and account as `source` says). */
export function organizationReport(
  accounts: OrganizationAuditReport['accounts'],
  source: Partial<Pick<OrganizationAuditReport['source'], 'profile' | 'callerAccountId'>> = {},
): OrganizationAuditReport {
  return {
    schemaVersion: ORGANIZATION_SCHEMA_VERSION,
    command: 'audit',
    scope: 'organization',
    now: NOW.toISOString(),
    parameters: { maxAccessKeyAgeDays: 90, exemptionTag: null, graceDays: 14 },
    source: { kind: 'organization', region: 'us-east-1', profile: null, roleName: 'keyage-audit', callerAccountId: '999988887777', selection: { organizationalUnits: null, accounts: null, exclude: [] }, ...source },
    partition: 'aws',
    region: 'us-east-1',
    summary: summarizeOrganization(accounts),
    accounts,
  };
}
