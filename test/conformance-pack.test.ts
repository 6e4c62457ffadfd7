/**
 * conformance-pack.yaml against the documented conformance pack constraints, against the
 * rule's parameters and runbook 1's parameters, resolved the way CloudFormation would, and
 * through cfn-lint.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_EVALUATION_REFRESH_DAYS, DEFAULT_MAX_ACCESS_KEY_AGE_DAYS, RULE_PARAMETER_NAMES, parseRuleParameters } from '../rules/access-key-age/parameters';
import { EXECUTION_FREQUENCIES } from '../stacks/config';
import {
  PACK_MAX_PARAMETERS,
  PACK_RESOURCE_TYPES,
  PACK_TEMPLATE_BODY_MAX_BYTES,
  type CfnResource,
  loadConformancePack,
  packConstraintViolations,
  parseCfnYaml,
  packInputParameters,
  resolveTemplate,
} from '../stacks/conformance-pack';
import { loadKeyageSettings } from '../stacks/config';
import { PACK_LITERAL_PARAMETERS, PackRenderError, literalPlaceViolations, remainingParameters, renderConformancePack } from '../stacks/pack-render';
import { CONFORMANCE_PACK_FILE, DEACTIVATE_RUNBOOK_FILE, PROJECT_ROOT } from '../stacks/project';
import { REGIONS_WITHOUT_PACK_REMEDIATION } from '../stacks/regions';
import { cfnLint, extraLintRegions, itWithCfnLint } from './harness/cfn-lint';

const pack = loadConformancePack();
const { body, template } = pack;
/** The two parameters without a default: what `put-conformance-pack` must be given. */
const REQUIRED = { RuleFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:keyage-access-key-age', AutomationAssumeRole: 'arn:aws:iam::123456789012:role/keyage-automation' };

function loadRendered(text: string) {
  return parseCfnYaml(text, 'rendered pack');
}

function parseCfnYamlResources(text: string): Record<string, CfnResource> {
  return loadRendered(text).Resources;
}

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
      expect(problems).toContainEqual(`${60 + Object.keys(template.Parameters ?? {}).length} parameters; at most 60 are allowed`);
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

    it('gets exactly the input parameters the rule accepts, MaxAccessKeyAge, ExemptionTag and EvaluationRefreshDays', () => {
      const input = resolved({ MaxAccessKeyAge: '30', ExemptionTag: 'keyage-exempt=yes', EvaluationRefreshDays: '14' }).rule.Properties?.InputParameters as Record<string, string>;
      expect(Object.keys(input).sort()).toEqual([...RULE_PARAMETER_NAMES].sort());
      expect(parseRuleParameters(JSON.stringify(input))).toEqual({ maxAccessKeyAgeDays: 30, exemptionTag: { key: 'keyage-exempt', value: 'yes' }, evaluationRefreshDays: 14 });
    });

    it('omits an empty ExemptionTag instead of sending ""', () => {
      const input = resolved({ ExemptionTag: '' }).rule.Properties?.InputParameters as Record<string, string>;
      expect(input).toEqual({ MaxAccessKeyAge: '90', EvaluationRefreshDays: '30' });
    });

    it("defaults EvaluationRefreshDays to the rule's own default of 30 days", () => {
      expect(template.Parameters?.EvaluationRefreshDays?.Default).toBe(String(DEFAULT_EVALUATION_REFRESH_DAYS));
      expect(parseRuleParameters(JSON.stringify(resolved().rule.Properties?.InputParameters)).evaluationRefreshDays).toBe(DEFAULT_EVALUATION_REFRESH_DAYS);
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

  describe('rendering with the literal values AWS Config requires', () => {
    const literals = { ConfigRuleName: 'keyage-access-key-age', AutomationAssumeRole: 'arn:aws:iam::111122223333:role/keyage-automation-eu-west-1' };
    const rendered = renderConformancePack(body, literals);
    const resourcesOf = (text: string) => Object.values(parseCfnYamlResources(text));

    it('puts the exact rule name in the rule and the remediation, and the exact role ARN in the remediation, with no intrinsic function', () => {
      const [rule, remediation] = ['AWS::Config::ConfigRule', 'AWS::Config::RemediationConfiguration'].map((type) => resourcesOf(rendered).find((r) => r.Type === type));
      expect(rule?.Properties?.ConfigRuleName).toBe('keyage-access-key-age');
      expect(remediation?.Properties?.ConfigRuleName).toBe('keyage-access-key-age');
      expect((remediation?.Properties?.Parameters as Record<string, unknown>).AutomationAssumeRole).toEqual({
        StaticValue: { Values: ['arn:aws:iam::111122223333:role/keyage-automation-eu-west-1'] },
      });
      expect(literalPlaceViolations(rendered)).toEqual([]);
    });

    it('drops the inlined parameters and keeps every other one as a parameter Config is given', () => {
      const parameters = Object.keys(loadRendered(rendered).Parameters ?? {});
      expect(parameters).not.toEqual(expect.arrayContaining([...PACK_LITERAL_PARAMETERS]));
      expect(parameters.sort()).toEqual(Object.keys(template.Parameters ?? {}).filter((p) => !(PACK_LITERAL_PARAMETERS as readonly string[]).includes(p)).sort());
      expect(remainingParameters(body, literals).sort()).toEqual(parameters.sort());
    });

    it('still keeps every pack constraint, and resolves to the same rule and remediation as the template', () => {
      expect(packConstraintViolations(rendered)).toEqual([]);
      const values = { RuleFunctionArn: REQUIRED.RuleFunctionArn, ExemptionTag: 'keyage-exempt', AutomaticRemediation: 'true' };
      const fromTemplate = resolveTemplate(template, { ...values, ...literals });
      const fromRendered = resolveTemplate(loadRendered(rendered), values);
      expect(fromRendered).toEqual(fromTemplate);
    });

    it('finds the intrinsic functions of the unrendered template in the places Config requires literals (the check is live)', () => {
      expect(literalPlaceViolations(body)).toEqual([
        expect.stringMatching(/^AccessKeyAgeRule\.ConfigRuleName is \{"Ref":"ConfigRuleName"\}/),
        expect.stringMatching(/^AccessKeyAgeRemediation\.ConfigRuleName is \{"Ref":"ConfigRuleName"\}/),
        expect.stringMatching(/^AccessKeyAgeRemediation\.Parameters\.AutomationAssumeRole is .*not a StaticValue holding one literal IAM role ARN/),
      ]);
    });

    it('keeps a literal that looks like a number or a boolean a string', () => {
      const more = renderConformancePack(body, { ...literals, MaxAccessKeyAge: '45', AutomaticRemediation: 'true' });
      const resources = resolveTemplate(loadRendered(more), { RuleFunctionArn: REQUIRED.RuleFunctionArn });
      const remediation = Object.values(resources).find((r) => r.Type === 'AWS::Config::RemediationConfiguration');
      expect((remediation?.Properties?.Parameters as Record<string, { StaticValue?: { Values: unknown[] } }>).MaxAccessKeyAge?.StaticValue?.Values).toEqual(['45']);
      expect(remediation?.Properties?.Automatic).toBe(true);
    });

    it('refuses a role that is not an IAM role ARN, a parameter the template lacks, a value it does not allow, and a missing required literal', () => {
      expect(() => renderConformancePack(body, { ...literals, AutomationAssumeRole: 'keyage-automation' })).toThrow(/AutomationAssumeRole is .*not a StaticValue holding one literal IAM role ARN/);
      expect(() => renderConformancePack(body, { ...literals, MaxAge: '90' })).toThrow(/declares no parameter named MaxAge/);
      expect(() => renderConformancePack(body, { ...literals, AutomaticRemediation: 'yes' })).toThrow(/AutomaticRemediation may not be "yes"; allowed: true, false/);
      expect(() => renderConformancePack(body, { ConfigRuleName: 'x' } as never)).toThrow(PackRenderError);
    });

    it('replaces the header comment when asked, and keeps the comments of the body', () => {
      const withHeader = renderConformancePack(body, literals, { header: ['for account 111122223333'] });
      expect(withHeader.startsWith('# for account 111122223333\n')).toBe(true);
      expect(withHeader).not.toContain('This file is the template of the pack');
      expect(rendered).toContain('This file is the template of the pack');
    });
  });

  describe('standalone use with put-conformance-pack', () => {
    it('needs RuleFunctionArn and AutomationAssumeRole, which keyage pack renders as literals', () => {
      const withoutDefault = Object.entries(template.Parameters ?? {})
        .filter(([, p]) => p.Default === undefined)
        .map(([name]) => name);
      expect(withoutDefault.sort()).toEqual(Object.keys(REQUIRED).sort());
      // The header shows the keyage pack command, then put-conformance-pack with the rendered file.
      expect(body).toMatch(/npx keyage pack --account ACCOUNT --region REGION --output keyage-pack\.yaml\n#\s+aws configservice put-conformance-pack --region REGION/);
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

    itWithCfnLint('finds nothing in the rendered pack in every Region the example settings target, and the Regions named in KEYAGE_LINT_REGIONS', () => {
      const settings = loadKeyageSettings((k) => (k === 'keyageConfigFile' ? 'stacks/keyage.config.example.json' : undefined), PROJECT_ROOT);
      const regions = [...(settings.organization?.regions ?? []), ...extraLintRegions()];
      const dir = mkdtempSync(join(tmpdir(), 'keyage-pack-rendered-'));
      const file = join(dir, 'keyage-pack.yaml');
      writeFileSync(file, renderConformancePack(body, { ConfigRuleName: 'keyage-access-key-age', AutomationAssumeRole: 'arn:aws:iam::111122223333:role/keyage-automation-eu-west-1' }));
      // Where CloudFormation lacks AWS::Config::RemediationConfiguration, E3006 is the known, documented gap (stacks/regions.ts).
      const gaps = regions.filter((r) => REGIONS_WITHOUT_PACK_REMEDIATION.includes(r));
      const result = cfnLint([file], [], { regions });
      const unexpected = result.output.split('\n').filter((line) => line !== '' && !gaps.some((r) => line.includes(`E3006:Resource type 'AWS::Config::RemediationConfiguration' does not exist in '${r}'`)));
      expect(regions).toContain('eu-west-1');
      expect(unexpected).toEqual([]);
    });
  });
});
