/**
 * Answering a CloudFormation custom resource request: a PUT of a small JSON document to the
 * pre-signed S3 URL the request carries (CloudFormation User Guide, "Custom resource response
 * objects"). CloudFormation waits for this answer, so every request gets exactly one.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The fields of a custom resource request the reconciler reads. */
export interface CloudFormationCustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: Readonly<Record<string, unknown>>;
}

/** True when `event` is a CloudFormation custom resource request. */
export function isCustomResourceEvent(event: unknown): event is CloudFormationCustomResourceEvent {
  if (!event || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return (
    (e.RequestType === 'Create' || e.RequestType === 'Update' || e.RequestType === 'Delete') &&
    typeof e.ResponseURL === 'string' &&
    typeof e.StackId === 'string' &&
    typeof e.RequestId === 'string' &&
    typeof e.LogicalResourceId === 'string'
  );
}

/** The answer. */
export interface CustomResourceAnswer {
  readonly status: 'SUCCESS' | 'FAILED';
  /** Shown in the stack's events; required for FAILED. */
  readonly reason?: string;
  readonly physicalResourceId: string;
  /** Attributes readable with Fn::GetAtt (small strings). */
  readonly data?: Readonly<Record<string, string>>;
}

/** CloudFormation rejects a response body over 4,096 bytes. */
export const MAX_RESPONSE_BYTES = 4096;

/** The response body CloudFormation expects, kept under its size limit (the reason is cut first). */
export function responseBody(event: CloudFormationCustomResourceEvent, answer: CustomResourceAnswer): string {
  const build = (reason: string | undefined) =>
    JSON.stringify({
      Status: answer.status,
      ...(reason !== undefined ? { Reason: reason } : {}),
      PhysicalResourceId: answer.physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: false,
      ...(answer.data ? { Data: answer.data } : {}),
    });
  let reason = answer.reason;
  let body = build(reason);
  while (Buffer.byteLength(body, 'utf8') > MAX_RESPONSE_BYTES && reason && reason.length > 20) {
    reason = `${reason.slice(0, Math.floor(reason.length * 0.8))}…`;
    body = build(reason);
  }
  return body;
}

/**
 * PUT the answer to the request's ResponseURL. Only https URLs are used, except plain http to
 * the loopback interface (local tests). The S3 URL is pre-signed without a content type, so
 * none is sent.
 */
export async function sendCustomResourceAnswer(event: CloudFormationCustomResourceEvent, answer: CustomResourceAnswer, timeoutMs = 20_000): Promise<void> {
  const url = new URL(event.ResponseURL);
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`refusing to answer CloudFormation at a ${url.protocol} URL: only https is used`);
  }
  const body = responseBody(event, answer);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    const req = send(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body, 'utf8') }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`CloudFormation's response URL answered HTTP ${status}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from CloudFormation's response URL within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
