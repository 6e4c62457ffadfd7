/**
 * The `keyage-audit` role of the member stack: trusted by the one account named in the settings,
 * granted exactly the read-only actions the organization audit makes (and, when asked, the two
 * Security Hub import actions on the account's own hub and product), on the narrowest resources
 * IAM allows; cdk-nag and cfn-lint clean; absent unless `auditAccountId` is set.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template as Assertions } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MEMBER_AUDIT_ACTIONS, SECURITY_HUB_IMPORT_ACTIONS } from '../../cli/permissions';
import { AUDIT_ROLE_NAME, KeyageAuditRole } from '../../stacks/audit-role';
import { parseKeyageSettings } from '../../stacks/config';
import { KeyageMemberStack } from '../../stacks/member-stack';
import { cfnLint, itWithCfnLint } from '../harness/cfn-lint';
import { CDK_LINT_IGNORES, type Template, actionsOf, logicalIdOf, resourcesByAction, resourcesOfType, roleStatements, writeTemplates } from './template-helpers';

const TRUSTED = '111122223333';
const RECORD_KEY = 'arn:aws:kms:eu-west-1:444455556666:key/11111111-2222-3333-4444-555555555555';
const USERS = '${AWS::Partition}:iam::${AWS::AccountId}:user/*';

function synth(props: Partial<ConstructorParameters<typeof KeyageAuditRole>[2]> = {}): { template: Template; construct: KeyageAuditRole; app: App } {
  const app = new App();
  const stack = new Stack(app, 'Audit');
  const construct = new KeyageAuditRole(stack, 'AuditRole', { trustedAccountId: TRUSTED, recordKeyArn: RECORD_KEY, ...props });
  return { template: app.synth().getStackByName('Audit').template as Template, construct, app };
}

describe('the keyage-audit role', () => {
  it('is named keyage-audit and trusted by the one account named, for sts:AssumeRole only', () => {
    const { template } = synth();
    Assertions.fromJSON(template).hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'keyage-audit',
      AssumeRolePolicyDocument: {
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${TRUSTED}:root`]] } } }],
        Version: '2012-10-17',
      },
    });
    expect(AUDIT_ROLE_NAME).toBe('keyage-audit');
  });

  it('may call exactly the audit\'s read-only actions, each on the narrowest resource IAM allows', () => {
    const { template, construct } = synth();
    const statements = roleStatements(template, logicalIdOf(construct.role));
    expect(actionsOf(statements)).toEqual([
      'config:DescribeConfigRules',
      'iam:GetAccessKeyLastUsed',
      'iam:GetAccountAuthorizationDetails',
      'iam:GetAccountSummary',
      'iam:ListAccessKeys',
      'kms:DescribeKey',
      'kms:VerifyMac',
      'ssm:DescribeDocument',
    ]);
    expect(actionsOf(statements)).toEqual([...MEMBER_AUDIT_ACTIONS].sort());
    expect(resourcesByAction(statements)).toEqual({
      'iam:GetAccessKeyLastUsed': [`arn:${USERS}`],
      'iam:ListAccessKeys': [`arn:${USERS}`],
      'iam:GetAccountAuthorizationDetails': ['*'],
      'iam:GetAccountSummary': ['*'],
      'config:DescribeConfigRules': ['*'],
      'ssm:DescribeDocument': [
        'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/keyage-DeactivateStaleAccessKeys',
        'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/keyage-DeleteDeactivatedAccessKeys',
      ],
      'kms:DescribeKey': [RECORD_KEY],
      'kms:VerifyMac': [RECORD_KEY],
    });
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(actionsOf(statements).some((a) => /^(iam:(Create|Update|Delete|Put|Tag|Untag|Attach)|sts:|securityhub:)/.test(a))).toBe(false);
  });

  it('with securityHubImport also imports findings, but only its own account\'s, on its own hub and default product', () => {
    const { template, construct } = synth({ securityHubImport: true });
    const statements = roleStatements(template, logicalIdOf(construct.role));
    expect(actionsOf(statements)).toEqual([...MEMBER_AUDIT_ACTIONS, ...SECURITY_HUB_IMPORT_ACTIONS].sort());
    expect(resourcesByAction(statements)).toMatchObject({
      'securityhub:GetFindings': ['arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default'],
      'securityhub:BatchImportFindings': ['arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default'],
    });
  });

  it('refuses a bad prop, naming it', () => {
    const stack = new Stack(new App(), 'Bad');
    expect(() => new KeyageAuditRole(stack, 'A', { trustedAccountId: '1234', recordKeyArn: RECORD_KEY })).toThrow('keyage: KeyageAuditRole trustedAccountId must be a 12-digit account ID, got "1234"');
    expect(() => new KeyageAuditRole(stack, 'B', { trustedAccountId: TRUSTED, roleName: 'no/slash', recordKeyArn: RECORD_KEY })).toThrow('keyage: KeyageAuditRole roleName must be');
  });

  it('cdk-nag finds nothing that is not acknowledged with a reason, with or without the import', () => {
    for (const securityHubImport of [false, true]) {
      const { app } = synth({ securityHubImport });
      const report = new AwsSolutionsChecks(app).validateScope(app);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    }
  });

  itWithCfnLint('cfn-lint finds nothing in the template', () => {
    const files = writeTemplates('keyage-audit-role', { Plain: synth().template, Import: synth({ securityHubImport: true }).template });
    const result = cfnLint(files, CDK_LINT_IGNORES);
    expect(result.output).toBe('');
    expect(result.exitCode).toBe(0);
  });
});

describe('the member stack and its auditAccountId setting', () => {
  /** A member stack without Lambda bundling (not what this test is about). */
  function member(settings: Record<string, unknown>): Template {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new KeyageMemberStack(app, 'Member', { settings: parseKeyageSettings(settings).member });
    return app.synth().getStackByName(stack.stackName).template as Template;
  }

  it('creates the role when auditAccountId is set, read-only unless auditRoleImportsFindings', () => {
    const roles = (t: Template) => Object.values(resourcesOfType(t, 'AWS::IAM::Role')).filter((r) => r.Properties?.RoleName === 'keyage-audit');
    expect(roles(member({}))).toHaveLength(0);
    const withRole = member({ auditAccountId: TRUSTED });
    expect(roles(withRole)).toHaveLength(1);
    Assertions.fromJSON(withRole).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['config:DescribeConfigRules', 'iam:GetAccountAuthorizationDetails', 'iam:GetAccountSummary'], Resource: '*' })]) },
    });
    const importing = member({ auditAccountId: TRUSTED, auditRoleImportsFindings: true });
    const id = Object.entries(resourcesOfType(importing, 'AWS::IAM::Role')).find(([, r]) => r.Properties?.RoleName === 'keyage-audit')?.[0] as string;
    expect(actionsOf(roleStatements(importing, id))).toEqual([...MEMBER_AUDIT_ACTIONS, ...SECURITY_HUB_IMPORT_ACTIONS].sort());
  });

  it('a bad auditAccountId, or auditRoleImportsFindings without it, fails naming the setting', () => {
    expect(() => parseKeyageSettings({ auditAccountId: '12345' })).toThrow('Invalid value for parameter keyage.auditAccountId: "12345". Allowed: the 12-digit ID of the management or delegated administrator account');
    expect(() => parseKeyageSettings({ auditRoleImportsFindings: true })).toThrow('Invalid value for parameter keyage.auditRoleImportsFindings: true. Allowed: only with keyage.auditAccountId');
    expect(parseKeyageSettings({ auditAccountId: TRUSTED }).member).toMatchObject({ auditAccountId: TRUSTED, auditRoleImportsFindings: false });
    expect(parseKeyageSettings({}).member).not.toHaveProperty('auditAccountId');
  });

  it('refuses the role with a StackSet of several Regions: the role is global and the second instance would create it again', () => {
    const org = { organizationId: 'o-a1b2c3d4e5', organizationalUnitIds: ['ou-a1b2-c3d4e5f6'], regions: ['eu-west-1', 'us-east-1'], allowMultipleRegions: true };
    expect(() => parseKeyageSettings({ ...org, auditAccountId: TRUSTED })).toThrow('Invalid value for parameter keyage.auditAccountId: "111122223333". Allowed: a StackSet of ONE Region');
    expect(parseKeyageSettings({ ...org, regions: ['eu-west-1'], auditAccountId: TRUSTED }).member.auditAccountId).toBe(TRUSTED);
  });
});
