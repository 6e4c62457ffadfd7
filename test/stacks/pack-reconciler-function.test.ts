/**
 * The pack reconciler as it is deployed: the esbuild bundle the member stack ships (with
 * conformance-pack.yaml loaded as text) run against a mocked AWS Config, and its answer to
 * CloudFormation sent over HTTP to a local server standing in for the pre-signed S3 URL.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  ConfigServiceClient,
  DescribeConfigurationRecordersCommand,
  DescribeConfigurationRecorderStatusCommand,
  DescribeConformancePackStatusCommand,
  NoSuchConformancePackException,
  PutConformancePackCommand,
} from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { buildSync } from 'esbuild';
import { MAX_RESPONSE_BYTES, responseBody, sendCustomResourceAnswer, type CloudFormationCustomResourceEvent } from '../../stacks/pack-reconciler/cfn-response';
import { renderedBody } from '../../stacks/pack-reconciler/reconcile';
import { CONFORMANCE_PACK_FILE, PACK_RECONCILER_ENTRY, PROJECT_ROOT } from '../../stacks/project';

const configMock = mockClient(ConfigServiceClient);

interface Received {
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A local HTTP server that records the requests it gets and answers `status`. */
async function responseServer(status = 200): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method ?? '', headers: req.headers, body });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/response?signature=x`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function event(url: string): CloudFormationCustomResourceEvent {
  return {
    RequestType: 'Create',
    ResponseURL: url,
    StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/keyage/1',
    RequestId: 'request-1',
    LogicalResourceId: 'KeyageConformancePack',
    ResourceType: 'Custom::KeyageConformancePack',
    ResourceProperties: {},
  };
}

beforeEach(() => configMock.reset());

describe('the answer to CloudFormation', () => {
  it('is a PUT of the documented response object, without a content type, to the ResponseURL', async () => {
    const server = await responseServer();
    try {
      await sendCustomResourceAnswer(event(server.url), { status: 'SUCCESS', physicalResourceId: 'keyage-conformance-pack-keyage', data: { Coverage: 'PUT' } });
      expect(server.received).toHaveLength(1);
      const [request] = server.received;
      expect(request?.method).toBe('PUT');
      expect(request?.headers['content-type']).toBe('');
      expect(JSON.parse(request?.body ?? '')).toEqual({
        Status: 'SUCCESS',
        PhysicalResourceId: 'keyage-conformance-pack-keyage',
        StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/keyage/1',
        RequestId: 'request-1',
        LogicalResourceId: 'KeyageConformancePack',
        NoEcho: false,
        Data: { Coverage: 'PUT' },
      });
    } finally {
      await server.close();
    }
  });

  it('fails when the URL does not accept it, and refuses plain http to anything but this machine', async () => {
    const server = await responseServer(403);
    try {
      await expect(sendCustomResourceAnswer(event(server.url), { status: 'SUCCESS', physicalResourceId: 'x' })).rejects.toThrow(/answered HTTP 403/);
    } finally {
      await server.close();
    }
    await expect(sendCustomResourceAnswer(event('http://example.com/response'), { status: 'SUCCESS', physicalResourceId: 'x' })).rejects.toThrow(/only https is used/);
  });

  it('stays within the 4,096 bytes CloudFormation accepts, by shortening the reason', () => {
    const body = responseBody(event('https://example.com/r'), { status: 'FAILED', physicalResourceId: 'x', reason: 'r'.repeat(10_000) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect((JSON.parse(body) as { Reason: string }).Reason).toMatch(/^r+…$/);
  });
});

describe('the bundled pack reconciler function', () => {
  let handler: (event: unknown, context: unknown) => Promise<unknown>;
  let outfile: string;

  afterAll(() => rmSync(outfile, { force: true }));

  beforeAll(() => {
    // Bundled as the member stack bundles it (stacks/lambda-function.ts): CJS, the SDK left to
    // the runtime, the pack loaded as text. Written under node_modules so the SDK resolves.
    const dir = join(PROJECT_ROOT, 'node_modules', '.cache', 'keyage-test');
    mkdirSync(dir, { recursive: true });
    outfile = join(dir, `pack-reconciler-${process.pid}.js`);
    buildSync({ entryPoints: [PACK_RECONCILER_ENTRY], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node22', external: ['@aws-sdk/*'], loader: { '.yaml': 'text' }, logLevel: 'silent' });
    handler = (require(outfile) as { handler: typeof handler }).handler;
  }, 60_000);

  it("creates the pack from the repository's conformance-pack.yaml, rendered for its own account, and answers CloudFormation", async () => {
    configMock.on(DescribeConfigurationRecorderStatusCommand).resolves({ ConfigurationRecordersStatus: [{ name: 'default', recording: true }] });
    configMock.on(DescribeConfigurationRecordersCommand).resolves({ ConfigurationRecorders: [{ name: 'default', recordingGroup: { allSupported: true, includeGlobalResourceTypes: true } }] });
    configMock.on(DescribeConformancePackStatusCommand).rejects(new NoSuchConformancePackException({ message: 'none', $metadata: {} }));
    configMock.on(PutConformancePackCommand).resolves({});
    const role = 'arn:aws:iam::111122223333:role/keyage-automation-eu-west-1';
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      PACK_NAME: 'keyage',
      CONFIG_RULE_NAME: 'keyage-access-key-age',
      AUTOMATION_ROLE_ARN: role,
      PACK_INPUT_PARAMETERS: JSON.stringify({ RuleFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:keyage-access-key-age' }),
      PACK_TAGS: '{}',
      LOG_LEVEL: 'error',
    });
    const server = await responseServer();
    try {
      await handler(event(server.url), { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:keyage-pack-reconciler', getRemainingTimeInMillis: () => 600_000 });
      const expectedBody = renderedBody({
        packName: 'keyage',
        template: readFileSync(CONFORMANCE_PACK_FILE, 'utf8'),
        literals: { ConfigRuleName: 'keyage-access-key-age', AutomationAssumeRole: role },
        inputParameters: {},
        tags: {},
        accountId: '111122223333',
        region: 'eu-west-1',
      });
      expect(configMock).toHaveReceivedCommandWith(PutConformancePackCommand, {
        ConformancePackName: 'keyage',
        TemplateBody: expectedBody,
        ConformancePackInputParameters: [{ ParameterName: 'RuleFunctionArn', ParameterValue: 'arn:aws:lambda:eu-west-1:111122223333:function:keyage-access-key-age' }],
      });
      expect(JSON.parse(server.received[0]?.body ?? '{}')).toMatchObject({ Status: 'SUCCESS', Data: { Coverage: 'PUT' } });
    } finally {
      await server.close();
      process.env = saved;
    }
  });
});
