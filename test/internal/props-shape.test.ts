/**
 * Plain-JavaScript safety (issue 16 step 3): unknown props name the closest
 * known one, wrong runtime types name the expected type; and every shape
 * stays equal to the TypeScript interface it describes.
 */
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as ts from 'typescript';
import { ApiGatewayChart, CeleryPair, CostMgmtPostgres, ErpApi, ErpOperations, Redis } from '../../src';
import {
  API_GATEWAY_CHART_PROPS, CELERY_PAIR_PROPS, closest, COST_MGMT_POSTGRES_PROPS, ERP_API_PROPS, ERP_OPERATIONS_PROPS, levenshtein, PropsShape,
  REDIS_PROPS,
} from '../../src/internal/props-shape';

const IMAGE = 'registry.example.com/erp/api:1.4.2';
const chart = () => new Chart(Testing.app(), 'test', { namespace: 'erp' });
/** Props as plain JavaScript would pass them. */
const js = <T, >(props: Record<string, unknown>): T => props as unknown as T;

describe('props checked at run time', () => {
  test.each<[string, () => unknown, RegExp]>([
    ['an ErpApi prop is misspelt (igress)', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, igress: { host: 'erp.example.com' } })),
      /^test\/Api: 'igress' \(\{"host":"erp.example.com"\}\) is not a prop of ErpApiProps; did you mean 'ingress'\?/],
    ['an ErpApi prop is misspelt (autoscalling)', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, autoscalling: false })),
      /^test\/Api: 'autoscalling' \(false\) is not a prop of ErpApiProps; did you mean 'autoscaling'\?/],
    ['a nested prop is misspelt', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, ingress: { hots: 'erp.example.com' } })),
      /^test\/Api: 'ingress.hots' \("erp.example.com"\) is not a prop of ErpApiIngress; did you mean 'ingress.host'\?/],
    ['command is a string', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, command: 'gunicorn config.wsgi' })),
      /^test\/Api: 'command' \("gunicorn config.wsgi"\) must be an array of strings, one item per argument/],
    ['a Duration is a number', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, preStopDelay: 10 })),
      /^test\/Api: 'preStopDelay' \(10\) must be a cdk8s Duration \(e.g. Duration.seconds\(30\)\), not a number or a string/],
    ['a nested Duration is a number', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, probes: { timeout: 5 } })),
      /'probes.timeout' \(5\) must be a cdk8s Duration/],
    ['a Size is a string', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, ingress: { host: 'erp.example.com', maxBodySize: '100m' } })),
      /'ingress.maxBodySize' \("100m"\) must be a cdk8s Size/],
    ['a port is a string', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, port: '8000' })), /'port' \("8000"\) must be a number/],
    ['autoscaling is true', () => new ErpApi(chart(), 'Api', js({ image: IMAGE, autoscaling: true })), /'autoscaling' \(true\) must be an object \(ErpApiAutoscaling\) or false/],
    ['a CeleryPair worker prop is misspelt', () => {
      const c = chart();
      return new CeleryPair(c, 'Celery', js({ api: new ErpApi(c, 'Api', { image: IMAGE }), worker: { concurency: 8 } }));
    }, /^test\/Celery: 'worker.concurency' \(8\) is not a prop of CeleryWorkerOptions; did you mean 'worker.concurrency'\?/],
    ['queues is a string', () => {
      const c = chart();
      return new CeleryPair(c, 'Celery', js({ api: new ErpApi(c, 'Api', { image: IMAGE }), worker: { queues: 'default' } }));
    }, /'worker.queues' \("default"\) must be an array of strings/],
    ['an ErpOperations prop is misspelt', () => {
      const c = chart();
      return new ErpOperations(c, 'Ops', js({ api: new ErpApi(c, 'Api', { image: IMAGE }), maintainance: false }));
    }, /^test\/Ops: 'maintainance' \(false\) is not a prop of ErpOperationsProps; did you mean 'maintenance'\?/],
    ['a CostMgmtPostgres prop is misspelt', () => new CostMgmtPostgres(chart(), 'Db', js({ storagesize: '5Gi' })),
      /^test\/Db: 'storagesize' \("5Gi"\) is not a prop of CostMgmtPostgresProps; did you mean 'storageSize'\?/],
    ['a Redis prop is misspelt', () => new Redis(chart(), 'Redis', js({ persistance: false })),
      /^test\/Redis: 'persistance' \(false\) is not a prop of RedisProps; did you mean 'persistence'\?/],
    ['an ApiGatewayChart value is misspelt', () => new ApiGatewayChart(Testing.app(), 'gw', js({ allowedHosts: ['gw.example.com'], replica: 3 })),
      /^gw: 'replica' \(3\) is not a prop of ApiGatewayChartProps; did you mean 'replicas'\?/],
    ['allowedHosts is a string', () => new ApiGatewayChart(Testing.app(), 'gw', js({ allowedHosts: 'gw.example.com' })),
      /^gw: 'allowedHosts' \("gw.example.com"\) must be an array of strings/],
  ])('fails when %s', (_n, build, message) => {
    expect(build).toThrow(message);
  });

  test('undefined values of unknown keys are ignored (spread optional values)', () => {
    expect(() => new ErpApi(chart(), 'Api', js({ image: IMAGE, notAProp: undefined }))).not.toThrow();
  });

  test('closest known key', () => {
    expect(levenshtein('igress', 'ingress')).toBe(1);
    expect(closest('AUTOSCALING', ['autoscaling', 'vpa'])).toBe('autoscaling');
    expect(closest('replicas', ['redis', 'replicaCount'])).toBe('replicaCount');
  });
});

describe('every shape is its interface', () => {
  const program = ts.createProgram([path.join(__dirname, '..', '..', 'src', 'index.ts')], { strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const index = checker.getSymbolAtLocation(program.getSourceFile(path.join(__dirname, '..', '..', 'src', 'index.ts'))!)!;
  const exported = new Map(checker.getExportsOfModule(index).map((s) => [s.name, s]));

  /** Every PropsShape reachable from `shape`, with the interface type it describes. */
  function pairs(shape: PropsShape, type: ts.Type, out: Array<[PropsShape, ts.Type]> = []): Array<[PropsShape, ts.Type]> {
    out.push([shape, type]);
    for (const [k, t] of Object.entries(shape.keys)) {
      if (!(t instanceof PropsShape)) continue;
      const prop = type.getProperty(k)!;
      const propType = checker.getNonNullableType(checker.getTypeOfSymbol(prop));
      // `X | false`: the object member
      const member = propType.isUnion() ? propType.types.find((m) => (m.flags & ts.TypeFlags.Object) !== 0)! : propType;
      pairs(t, member, out);
    }
    return out;
  }

  test.each<[string, PropsShape]>([
    ['ErpApiProps', ERP_API_PROPS], ['CeleryPairProps', CELERY_PAIR_PROPS], ['ErpOperationsProps', ERP_OPERATIONS_PROPS],
    ['CostMgmtPostgresProps', COST_MGMT_POSTGRES_PROPS], ['RedisProps', REDIS_PROPS], ['ApiGatewayChartProps', API_GATEWAY_CHART_PROPS],
  ])('%s and its sub-objects', (name, shape) => {
    let symbol = exported.get(name)!;
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    for (const [s, type] of pairs(shape, checker.getDeclaredTypeOfSymbol(symbol))) {
      expect([s.name, Object.keys(s.keys).sort()]).toEqual([s.name, type.getProperties().map((p) => p.name).sort()]);
    }
  });
});
