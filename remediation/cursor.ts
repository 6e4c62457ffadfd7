/**
 * Where runbook 2's every-user run stopped, kept in an SSM parameter (String) that the member
 * stack creates: the user ID examined last. The next run starts after it, so a run cut short by
 * its deadline is continued and no user waits behind others forever. The value only orders the
 * users: a wrong or unreadable one changes which users are examined first, never a decision.
 */
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type AwsCaller, awsErrorCode } from '../lib/aws-call';
import type { DeleteCursor } from './core';

/** The value the stack gives the parameter before any run: start from the first user. */
export const CURSOR_START = 'start';

/** The cursor in the SSM parameter `name` (ssm:GetParameter, ssm:PutParameter on it). */
export function ssmDeleteCursor(ssm: SSMClient, name: string, caller: AwsCaller): DeleteCursor {
  return {
    async read() {
      try {
        const out = await caller.call('ssm:GetParameter', () => ssm.send(new GetParameterCommand({ Name: name })));
        const value = out.Parameter?.Value;
        return value && value !== CURSOR_START && /^[A-Za-z0-9_]{1,128}$/.test(value) ? value : undefined;
      } catch (err) {
        if (awsErrorCode(err) === 'ParameterNotFound') return undefined;
        throw err;
      }
    },
    async write(lastUserId) {
      await caller.call('ssm:PutParameter', () => ssm.send(new PutParameterCommand({ Name: name, Value: lastUserId, Type: 'String', Overwrite: true })));
    },
  };
}
