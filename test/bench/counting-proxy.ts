/**
 * A counting HTTP proxy in front of moto_server: what moto was actually sent, per
 * `service:Operation`, read from the wire (the SigV4 credential scope names the service; IAM
 * and STS name the operation in the form body, Config in `X-Amz-Target`). It knows nothing of
 * the SDK middleware it checks.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  readonly endpoint: string;
  /** Requests per `service:Operation` since the last reset. */
  readonly seen: Map<string, number>;
  /** Evaluations in PutEvaluations request bodies since the last reset. */
  evaluations: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const state = { seen: new Map<string, number>(), evaluations: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const op = operationOf(req.headers, body.toString('utf8'));
      state.seen.set(op, (state.seen.get(op) ?? 0) + 1);
      if (op === 'config:PutEvaluations') {
        state.evaluations += ((JSON.parse(body.toString('utf8')) as { Evaluations?: unknown[] }).Evaluations ?? []).length;
      }
      const fwd = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      fwd.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get seen() {
      return state.seen;
    },
    get evaluations() {
      return state.evaluations;
    },
    set evaluations(n: number) {
      state.evaluations = n;
    },
    reset() {
      state.seen = new Map();
      state.evaluations = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function operationOf(headers: Record<string, string | string[] | undefined>, body: string): string {
  const auth = String(headers.authorization ?? '');
  const service = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)?.[1] ?? 'unsigned';
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return `${service}:${target.split('.').pop() ?? target}`;
  const action = new URLSearchParams(body).get('Action');
  return `${service}:${action ?? 'unknown'}`;
}
