/**
 * Build IAM credential reports (CSV, the real 22-column header) for tests.
 */
export const REPORT_HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,' +
  'access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,' +
  'access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,' +
  'cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

export interface ReportKeySpec {
  active: boolean;
  lastRotated: Date;
  lastUsed?: Date | null;
}

export interface ReportUserSpec {
  user: string;
  arn?: string;
  created: Date;
  keys?: [ReportKeySpec?, ReportKeySpec?];
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, '+00:00');

function keyColumns(k: ReportKeySpec | undefined): string[] {
  if (!k) return ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
  const used = k.lastUsed ? [iso(k.lastUsed), 'us-east-1', 's3'] : ['N/A', 'N/A', 'N/A'];
  return [String(k.active), iso(k.lastRotated), ...used];
}

/** A credential report with a root row (no keys) and the given users. */
export function credentialReportCsv(users: ReportUserSpec[], accountId = '123456789012', rootCreated = new Date('2020-01-01T00:00:00Z')): string {
  const lines = [REPORT_HEADER];
  lines.push(
    ['<root_account>', `arn:aws:iam::${accountId}:root`, iso(rootCreated), 'not_supported', 'no_information', 'not_supported', 'not_supported', 'true', ...keyColumns(undefined), ...keyColumns(undefined), 'false', 'N/A', 'false', 'N/A'].join(','),
  );
  for (const u of users) {
    lines.push(
      [
        u.user,
        u.arn ?? `arn:aws:iam::${accountId}:user/${u.user}`,
        iso(u.created),
        'false',
        'N/A',
        'N/A',
        'N/A',
        'false',
        ...keyColumns(u.keys?.[0]),
        ...keyColumns(u.keys?.[1]),
        'false',
        'N/A',
        'false',
        'N/A',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
