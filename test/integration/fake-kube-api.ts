/**
 * A stand-in for the slice of the Kubernetes API the credentials Job uses
 * (GET and POST of core/v1 Secrets), in-process, plain HTTP on 127.0.0.1 and
 * a random port. It answers like the real API server: Bearer-token auth (401
 * otherwise), `Status` objects for errors (NotFound, AlreadyExists,
 * Forbidden, ...), `stringData` folded into base64 `data` on create. Secrets
 * live in a Map; every request is recorded.
 *
 * Switches: `forbidden` answers 403 to everything (the RoleBinding is not
 * there yet); `race` makes GET answer 404 even for a Secret that exists, so
 * the following POST meets 409 AlreadyExists (another run created it between
 * the two calls).
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import * as net from 'net';

/** A Secret as the API stores it (`data` base64-encoded, no `stringData`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON as clients send it, read field by field
export type KubeSecret = Record<string, any>;

/** One request the fake API answered. */
export interface KubeCall {
  readonly method: string;
  readonly path: string;
  /** Whether the request carried `Authorization: Bearer <the token>`. */
  readonly authorized: boolean;
  readonly status: number;
  /** The parsed JSON request body (POST), if any. */
  readonly body?: KubeSecret;
}

const SECRET = /^\/api\/v1\/namespaces\/([a-z0-9-]+)\/secrets\/([a-z0-9.-]+)$/;
const SECRETS = /^\/api\/v1\/namespaces\/([a-z0-9-]+)\/secrets$/;

function status(code: number, reason: string, message: string, details?: Record<string, string>): KubeSecret {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export class FakeKubeApi {
  /** Starts a server that accepts `token` as the ServiceAccount token. */
  public static start(token: string, serviceAccount = 'system:serviceaccount:erp:postgres-credentials-init'): Promise<FakeKubeApi> {
    const api = new FakeKubeApi(token, serviceAccount);
    return new Promise((resolve, reject) => {
      api.server.on('error', reject);
      api.server.listen(0, '127.0.0.1', () => resolve(api));
    });
  }

  /** Secrets by `<namespace>/<name>`. */
  public readonly secrets = new Map<string, KubeSecret>();
  /** Every request, in order. */
  public readonly calls: KubeCall[] = [];
  /** Answer 403 Forbidden to every authenticated request. */
  public forbidden = false;
  /** GET answers 404 even when the Secret exists (so POST meets 409). */
  public race = false;
  private readonly server: http.Server;

  private constructor(private readonly token: string, private readonly user: string) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  /** `http://127.0.0.1:<port>`, for ERP_K8S_API_URL. */
  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Stores a Secret directly (as if another client had created it); `stringData` is encoded like on create. */
  public put(namespace: string, name: string, stringData: Record<string, string>): void {
    const secret = { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name }, stringData };
    this.secrets.set(`${namespace}/${name}`, this.materialize(namespace, secret));
  }

  /** A stored Secret's data, base64-decoded, or undefined. */
  public secretData(namespace: string, name: string): Record<string, string> | undefined {
    const s = this.secrets.get(`${namespace}/${name}`);
    if (!s) return undefined;
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v as string, 'base64').toString('utf8')]));
  }

  /** All Secrets of a namespace, decoded, by name. */
  public namespaceSecrets(namespace: string): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const key of this.secrets.keys()) {
      const [ns, name] = key.split('/');
      if (ns === namespace) out[name] = this.secretData(ns, name)!;
    }
    return out;
  }

  public close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** What the API server does on create: stringData wins over data, encoded; server-set metadata added. */
  private materialize(namespace: string, obj: KubeSecret): KubeSecret {
    const data: Record<string, string> = { ...(obj.data ?? {}) };
    for (const [k, v] of Object.entries(obj.stringData ?? {})) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    const rest = { ...obj };
    delete rest.stringData;
    return {
      ...rest,
      type: obj.type ?? 'Opaque',
      metadata: {
        ...obj.metadata, namespace, uid: randomUUID(), resourceVersion: String(this.calls.length + 1), creationTimestamp: new Date().toISOString(),
      },
      data,
    };
  }

  private handle(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const method = req.method ?? '';
    const url = new URL(req.url ?? '/', 'http://fake');
    const authorized = req.headers.authorization === `Bearer ${this.token}`;
    let body: KubeSecret | undefined;
    const answer = (code: number, obj: KubeSecret) => {
      this.calls.push({ method, path: url.pathname, authorized, status: code, ...(body !== undefined ? { body } : {}) });
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (!authorized) return answer(401, status(401, 'Unauthorized', 'Unauthorized'));
    const one = SECRET.exec(url.pathname);
    const coll = SECRETS.exec(url.pathname);
    const verb = method === 'GET' ? 'get' : method === 'POST' ? 'create' : method.toLowerCase();
    if (this.forbidden) {
      const [ns, name] = one ? [one[1], one[2]] : coll ? [coll[1], ''] : ['', ''];
      const what = `secrets${name ? ` "${name}"` : ''}`;
      return answer(403, status(403, 'Forbidden', `${what} is forbidden: User "${this.user}" cannot ${verb} resource "secrets" `
        + `in API group "" in the namespace "${ns}"`, { ...(name ? { name } : {}), kind: 'secrets' }));
    }
    if (method === 'GET' && one) {
      const [, ns, name] = one;
      const s = this.secrets.get(`${ns}/${name}`);
      if (!s || this.race) return answer(404, status(404, 'NotFound', `secrets "${name}" not found`, { name, kind: 'secrets' }));
      return answer(200, s);
    }
    if (method === 'POST' && coll) {
      const ns = coll[1];
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
        return answer(415, status(415, 'UnsupportedMediaType',
          'the body of the request was in an unknown format - accepted media types include: application/json'));
      }
      try { body = JSON.parse(raw); } catch { return answer(400, status(400, 'BadRequest', 'the body is not JSON')); }
      const name = body?.metadata?.name;
      if (body?.kind !== 'Secret' || body?.apiVersion !== 'v1') return answer(400, status(400, 'BadRequest', 'not a v1 Secret'));
      if (typeof name !== 'string' || !name) return answer(422, status(422, 'Invalid', 'Secret "" is invalid: metadata.name: Required value'));
      if (body.metadata.namespace !== undefined && body.metadata.namespace !== ns) {
        return answer(400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
      }
      if (this.secrets.has(`${ns}/${name}`)) {
        return answer(409, status(409, 'AlreadyExists', `secrets "${name}" already exists`, { name, kind: 'secrets' }));
      }
      const stored = this.materialize(ns, body);
      this.secrets.set(`${ns}/${name}`, stored);
      return answer(201, stored);
    }
    return answer(405, status(405, 'MethodNotAllowed',
      `the server does not allow this method on the requested resource (${method} ${url.pathname})`));
  }
}
