/**
 * conformance-pack.yaml against the documented conformance pack constraints, against the
 * rule's parameters and runbook 1's parameters, resolved the way CloudFormation would, and
 * through cfn-lint.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_MAX_ACCESS_KEY_AGE_DAYS, RULE_PARAMETER_NAMES, parseRuleParameters } from '../rules/access-key-age/parameters';
import { EXECUTION_FREQUENCIES } from '../stacks/config';
import {
  PACK_MAX_PARAMETERS,
  PACK_RESOURCE_TYPES,
  PACK_TEMPLATE_BODY_MAX_BYTES,
  type CfnResource,
  loadConformancePack,
  packConstraintViolations,
  packInputParameters,
  resolveTemplate,
} from '../stacks/conformance-pack';
import { CONFORMANCE_PACK_FILE, DEACTIVATE_RUNBOOK_FILE } from '../stacks/project';
import { cfnLint, itWithCfnLint } from './harness/cfn-lint';

const pack = loadConformancePack();
const { body, template } = pack;
/** The two parameters without a default: what `put-conformance-pack` must be given. */
const REQUIRED = { RuleFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:keyage-access-key-age', AutomationAssumeRole: 'arn:aws:iam::123456789012:role/keyage-automation' };

function resolved(values: Record<string, string> = {}): { rule: CfnResource; remediation: CfnResource } {
  const resources = resolveTemplate(template, { ...REQUIRED, ...values });
  const rule = Object.values(resources).find((r) => r.Type === 'AWS::Config::ConfigRule');
  const remediation = Object.values(resources).find((r) => r.Type === 'AWS::Config::RemediationConfiguration');
  if (!rule || !remediation) throw new Error('the pack lost its rule or its remediation');
  return { rule, remediation };
}

describe('conformance-pack.yaml', () => {
  describe('documented conformance pack constraints', () => {
    it('holds only AWS::Config::ConfigRule and AWS::Config::RemediationConfiguration resources', () => {
      const types = Object.values(template.Resources).map((r) => r.Type);
      expect(types.sort()).toEqual([...PACK_RESOURCE_TYPES].sort());
    });

    it(`is at most ${PACK_TEMPLATE_BODY_MAX_BYTES} bytes, the largest TemplateBody PutConformancePack accepts`, () => {
      expect(Buffer.byteLength(readFileSync(CONFORMANCE_PACK_FILE))).toBeLessThanOrEqual(PACK_TEMPLATE_BODY_MAX_BYTES);
    });

    it(`declares at most ${PACK_MAX_PARAMETERS} parameters, each of type String`, () => {
      const parameters = Object.values(template.Parameters ?? {});
      expect(parameters.length).toBeLessThanOrEqual(PACK_MAX_PARAMETERS);
      expect(parameters.map((p) => p.Type)).toEqual(parameters.map(() => 'String'));
    });

    it('passes every constraint check (sections, intrinsics, AutomationAssumeRole)', () => {
      expect(packConstraintViolations(body)).toEqual([]);
    });

    it('gives the AutomationAssumeRole as a plain Ref to a pack parameter, with no other intrinsic function', () => {
      const remediation = Object.values(template.Resources).find((r) => r.Type === 'AWS::Config::RemediationConfiguration');
      const parameters = remediation?.Properties?.Parameters as Record<string, unknown>;
      expect(parameters.AutomationAssumeRole).toEqual({ StaticValue: { Values: [{ Ref: 'AutomationAssumeRole' }] } });
      expect(template.Parameters?.AutomationAssumeRole?.Type).toBe('String');
    });
  });

  describe('the constraint check', () => {
    const base = body;
    it('reports a resource type a pack may not hold', () => {
      const bad = `${base}\n  Extra:\n    Type: AWS::SNS::Topic\n`;
      expect(packConstraintViolations(bad)).toEqual([expect.stringMatching(/resource Extra has type AWS::SNS::Topic/)]);
    });

    it('reports a TemplateBody over 51,200 bytes', () => {
      const bad = `${base}\n# ${'x'.repeat(PACK_TEMPLATE_BODY_MAX_BYTES)}\n`;
      expect(packConstraintViolations(bad)).toEqual([expect.stringMatching(/TemplateBody is \d+ bytes; at most 51200/)]);
    });

    it('reports an AutomationAssumeRole built with Fn::Sub', () => {
      const bad = base.replace('- !Ref AutomationAssumeRole', "- !Sub 'arn:aws:iam::${AWS::AccountId}:role/x'");
      expect(packConstraintViolations(bad)).toEqual(
        expect.arrayContaining([expect.stringMatching(/AutomationAssumeRole must be a StaticValue/), expect.stringMatching(/intrinsic Fn::Sub is not allowed/)]),
      );
    });

    it('reports more than 60 parameters and a parameter that is not a String', () => {
      const extra = Array.from({ length: 60 }, (_, i) => `  Extra${i}:\n    Type: Number\n`).join('');
      const bad = base.replace('Parameters:\n', `Parameters:\n${extra}`);
      const problems = packConstraintViolations(bad);
      expect(problems).toContainEqual(expect.stringMatching(/74 parameters; at most 60/));
      expect(problems).toContainEqual(expect.stringMatching(/parameter Extra0 has type Number/));
    });
  });

  describe('the rule', () => {
    it('is a custom Lambda rule on the given function, triggered by change, oversized change and periodic notifications', () => {
      const { rule } = resolved({ MaximumExecutionFrequency: 'Twelve_Hours' });
      expect(rule.Properties?.Source).toEqual({
        Owner: 'CUSTOM_LAMBDA',
        SourceIdentifier: REQUIRED.RuleFunctionArn,
        SourceDetails: [
          { EventSource: 'aws.config', MessageType: 'ConfigurationItemChangeNotification' },
          { EventSource: 'aws.config', MessageType: 'OversizedConfigurationItemChangeNotification' },
          { EventSource: 'aws.config', MessageType: 'ScheduledNotification', MaximumExecutionFrequency: 'Twelve_Hours' },
        ],
      });
    });

    it('runs the periodic sweep every 24 hours by default, and allows exactly the frequencies Config accepts', () => {
      expect(template.Parameters?.MaximumExecutionFrequency?.Default).toBe('TwentyFour_Hours');
      expect(template.Parameters?.MaximumExecutionFrequency?.AllowedValues).toEqual([...EXECUTION_FREQUENCIES]);
    });

    it('is scoped to AWS::IAM::User and nothing else', () => {
      expect(resolved().rule.Properties?.Scope).toEqual({ ComplianceResourceTypes: ['AWS::IAM::User'] });
    });

    it('gets exactly the input parameters the rule accepts, MaxAccessKeyAge and ExemptionTag', () => {
      const input = resolved({ MaxAccessKeyAge: '30', ExemptionTag: 'keyage-exempt=yes' }).rule.Properties?.InputParameters as Record<string, string>;
      expect(Object.keys(input).sort()).toEqual([...RULE_PARAMETER_NAMES].sort());
      expect(parseRuleParameters(JSON.stringify(input))).toEqual({ maxAccessKeyAgeDays: 30, exemptionTag: { key: 'keyage-exempt', value: 'yes' } });
    });

    it('omits an empty ExemptionTag instead of sending ""', () => {
      const input = resolved({ ExemptionTag: '' }).rule.Properties?.InputParameters as Record<string, string>;
      expect(input).toEqual({ MaxAccessKeyAge: '90' });
    });

    it("defaults MaxAccessKeyAge to the rule's own default of 90 days", () => {
      expect(template.Parameters?.MaxAccessKeyAge?.Default).toBe(String(DEFAULT_MAX_ACCESS_KEY_AGE_DAYS));
    });
  });

  describe('the remediation', () => {
    it('runs runbook 1 as an SSM document for the NON_COMPLIANT user, passing the user ID as IAMResourceId', () => {
      const { remediation } = resolved({ RemediationDocumentName: 'keyage-DeactivateStaleAccessKeys' });
      expect(remediation.Properties).toMatchObject({
        ConfigRuleName: 'keyage-access-key-age',
        ResourceType: 'AWS::IAM::User',
        TargetType: 'SSM_DOCUMENT',
        TargetId: 'keyage-DeactivateStaleAccessKeys',
      });
      expect((remediation.Properties?.Parameters as Record<string, unknown>).IAMResourceId).toEqual({ ResourceValue: { Value: 'RESOURCE_ID' } });
    });

    it('is manual by default: automatic remediation is off unless AutomaticRemediation is "true"', () => {
      expect(resolved().remediation.Properties?.Automatic).toBe(false);
      expect(resolved({ AutomaticRemediation: 'false' }).remediation.Properties?.Automatic).toBe(false);
      expect(resolved({ AutomaticRemediation: 'true' }).remediation.Properties?.Automatic).toBe(true);
    });

    it('passes the role, the limit, the exemption, the dry-run switch and the function to the runbook as static values', () => {
      const params = resolved({ MaxAccessKeyAge: '45', ExemptionTag: 'break-glass', RemediationDryRun: 'true' }).remediation.Properties?.Parameters;
      expect(params).toEqual({
        IAMResourceId: { ResourceValue: { Value: 'RESOURCE_ID' } },
        AutomationAssumeRole: { StaticValue: { Values: [REQUIRED.AutomationAssumeRole] } },
        MaxAccessKeyAge: { StaticValue: { Values: ['45'] } },
        ExemptionTag: { StaticValue: { Values: ['break-glass'] } },
        DryRun: { StaticValue: { Values: ['true'] } },
        RemediationFunction: { StaticValue: { Values: ['keyage-remediation'] } },
      });
    });

    it('omits an empty ExemptionTag from the runbook parameters (the runbook default, no exemption, applies)', () => {
      const params = resolved({ ExemptionTag: '' }).remediation.Properties?.Parameters as Record<string, unknown>;
      expect(params).not.toHaveProperty('ExemptionTag');
    });

    it("limits retries and concurrency within Config's bounds by default", () => {
      const props = resolved().remediation.Properties ?? {};
      expect(props.MaximumAutomaticAttempts).toBe('3');
      expect(props.RetryAttemptSeconds).toBe('600');
      expect(props.ExecutionControls).toEqual({ SsmControls: { ConcurrentExecutionRatePercentage: '10', ErrorPercentage: '10' } });
      const attempts = Number(props.MaximumAutomaticAttempts);
      expect(attempts).toBeGreaterThanOrEqual(1);
      expect(attempts).toBeLessThanOrEqual(25);
    });

    it("passes only parameters runbook 1 declares, and every runbook parameter without a default", () => {
      const runbook = parse(readFileSync(DEACTIVATE_RUNBOOK_FILE, 'utf8')) as { parameters: Record<string, { default?: unknown }> };
      const passed = Object.keys(resolved({ ExemptionTag: 'x' }).remediation.Properties?.Parameters as object);
      const declared = Object.keys(runbook.parameters);
      expect(passed.filter((p) => !declared.includes(p))).toEqual([]);
      const requiredByRunbook = declared.filter((p) => runbook.parameters[p]?.default === undefined);
      expect(requiredByRunbook.filter((p) => !passed.includes(p))).toEqual([]);
    });
  });

  describe('standalone use with put-conformance-pack', () => {
    it('needs exactly the parameters the command in its header names: RuleFunctionArn and AutomationAssumeRole', () => {
      const withoutDefault = Object.entries(template.Parameters ?? {})
        .filter(([, p]) => p.Default === undefined)
        .map(([name]) => name);
      const named = [...body.matchAll(/ParameterName=(\w+)/g)].map((m) => m[1]);
      expect(withoutDefault.sort()).toEqual(Object.keys(REQUIRED).sort());
      expect(named.sort()).toEqual(Object.keys(REQUIRED).sort());
    });

    it('refuses an input parameter the pack does not declare, a value it does not allow, and a missing required one', () => {
      expect(() => packInputParameters(template, { ...REQUIRED, MaxAge: '90' })).toThrow(/declares no parameter named MaxAge/);
      expect(() => packInputParameters(template, { ...REQUIRED, AutomaticRemediation: 'yes' })).toThrow(/AutomaticRemediation may not be "yes"; allowed: true, false/);
      expect(() => packInputParameters(template, { RuleFunctionArn: REQUIRED.RuleFunctionArn })).toThrow(/AutomationAssumeRole has no default and was not given a value/);
      expect(packInputParameters(template, REQUIRED)).toEqual([
        { parameterName: 'RuleFunctionArn', parameterValue: REQUIRED.RuleFunctionArn },
        { parameterName: 'AutomationAssumeRole', parameterValue: REQUIRED.AutomationAssumeRole },
      ]);
    });
  });

  describe('cfn-lint', () => {
    itWithCfnLint('reports a pack with a misspelt rule property (the lint is live)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'keyage-pack-lint-'));
      const file = join(dir, 'broken-pack.yaml');
      writeFileSync(file, body.replace('ComplianceResourceTypes:', 'ComplianceResourceType:'));
      const result = cfnLint([file]);
      expect(result.exitCode).toBe(2);
      expect(result.output).toMatch(/E3002.*ComplianceResourceType/);
    });

    itWithCfnLint('finds nothing in conformance-pack.yaml', () => {
      const result = cfnLint([CONFORMANCE_PACK_FILE]);
      expect(result.output).toBe('');
      expect(result.exitCode).toBe(0);
    });
  });
});
