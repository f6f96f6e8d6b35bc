import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { buildEnvironment, ENVIRONMENTS } from '../../deploy/environments';
import { checkPolicy } from '../../src/gates/policy';
import { renderEnvironments, renderFiles, synthesizeCharts, toYaml, writeEnvironments, writeRenderedEnvironments } from '../../src/synth/synthesizer';
import { serverForm } from '../../src/internal/server-form';

// One build per environment, shared by every test below.
const built = Object.fromEntries(Object.entries(ENVIRONMENTS).map(([name, config]) => [name, buildEnvironment(config)]));
const rendered = Object.fromEntries(Object.entries(built).map(([name, env]) => [name, renderFiles(env.charts)]));

describe('synthesizeCharts', () => {
  test.each(Object.keys(ENVIRONMENTS))('%s: the same objects, in the same order, as chart.toJson()', (name) => {
    // a second build: toJson() must not see the first one's resolved dependencies
    // chart.toJson() in the form the API server stores (see server-form.ts)
    const reference = buildEnvironment(ENVIRONMENTS[name]).charts.map(({ chart }) => chart.toJson().map(serverForm));
    expect(synthesizeCharts(built[name].charts.map(({ chart }) => chart))).toEqual(reference);
  });

  test('charts of several apps: each app is prepared on its own', () => {
    const charts = ['a', 'b'].map((id) => {
      const chart = new Chart(Testing.app(), id, { namespace: id });
      new kplus.ConfigMap(chart, 'Config', { data: { id } });
      return chart;
    });
    const out = renderEnvironments({ a: [{ chart: charts[0], phase: 1 }], b: [{ chart: charts[1], phase: 1 }] });
    expect(out.a[0].objects[0].data).toEqual({ id: 'a' });
    expect(out.b[0].objects[0].metadata.namespace).toBe('b');
  });

  test('construct validation errors still fail the render', () => {
    const chart = new Chart(Testing.app(), 'bad');
    chart.node.addValidation({ validate: () => ['broken on purpose'] });
    expect(() => renderFiles([{ chart, phase: 1 }])).toThrow(/construct validation failed:\n {2}\[bad\] broken on purpose/);
  });
});

describe('toYaml writes exactly what Yaml.stringify writes', () => {
  /** toYaml's output, and whether it needed the reference stringifier (its fallback). */
  function emit(docs: unknown[]): { text: string; fellBack: boolean } {
    const spy = jest.spyOn(Yaml, 'stringify');
    try {
      const text = toYaml(docs);
      return { text, fellBack: spy.mock.calls.length > 0 };
    } finally {
      spy.mockRestore();
    }
  }

  test.each(Object.keys(ENVIRONMENTS))('%s: every file, without falling back', (name) => {
    for (const file of rendered[name]) {
      const { text, fellBack } = emit(file.objects);
      expect(text).toBe(Yaml.stringify(...file.objects));
      expect(fellBack).toBe(false);
    }
  });

  const tricky = [
    '', ' ', 'true', 'True', 'yes', 'no', 'on', 'off', 'y', 'n', 'Y', '~', 'null', 'NULL', '1', '-1', '+1', '0o12', '012', '0x1F', '0b101',
    '1e3', '1.5', '.5', '.inf', '-.Inf', '.nan', '1:20', '190:20:30', '1_000', '2024-01-01', '2001-12-14t21:59:43.10-05:00', '=',
    '- a', '-a', '-', '?', '? x', ':x', 'x:', 'a: b', 'a:b', 'a #b', 'a#b', '#c', '@x', '`x', '%x', '!tag', '&anchor', '*alias', '|', '>',
    '{a}', '[a]', 'a,b', 'a[0]', 'x ---', "it's", 'say "hi"', `both ' and "`, 'trailing ', ' leading', 'tab\tin', '\ttab',
    'multi\nline', 'multi\nline\n', 'multi\nline\n\n', '\nleading newline', '\n\nx', '  indented\nblock', ' x\ny', 'trail space \nx',
    'x\n\ty', 'a\n\n\nb', 'a\n---\nb', 'a\n...\n', '%a\nb', '#!/bin/sh\nset -eu\necho "$X"\n', 'nbsp\u00a0', 'ls\u2028',
    'emoji \u{1F600}', 'caf\u00e9', `${'y'.repeat(80)} ${'z'.repeat(80)}`,
  ];
  // outside the fast path on purpose: these take Yaml.stringify
  const slow = ['<<', '---', '...', '--- x', 'x\n  ', 'ctrl\u0001', 'cr\r\n', 'nel\u0085', 'lone \ud800'];

  test.each(tricky.map((s) => [JSON.stringify(s), s]))('string %s: as a value, an item and (single-line) a key, on the fast path', (_label, s) => {
    const docs = [{ k: s }, { items: [s, [s]] }, { nested: { deeper: [{ k: s }] } }, ...(s.includes('\n') ? [] : [{ [s]: s }])];
    for (const doc of docs) {
      const { text, fellBack } = emit([doc]);
      expect(text).toBe(Yaml.stringify(doc));
      expect(fellBack).toBe(false);
    }
  });

  test.each(slow.map((s) => [JSON.stringify(s), s]))('string %s: falls back, same output', (_label, s) => {
    const doc = { k: s };
    const { text, fellBack } = emit([doc]);
    expect(text).toBe(Yaml.stringify(doc));
    expect(fellBack).toBe(true);
  });

  const shared = { a: 1 };
  const cases: Array<[string, unknown, boolean]> = [
    ['nested sequences', { a: [[1, [2, 'x\ny']], [], [{}], [{ b: [] }], { c: [{ d: 'e' }] }] }, false],
    ['empty collections', { a: {}, b: [], c: [{}, []], d: { e: {} } }, false],
    ['integers', { a: 0, b: -1, h: 2 ** 53 - 1 }, false],
    ['booleans and null', { a: true, b: false, c: null, d: [null, true] }, false],
    ['null prototype', Object.assign(Object.create(null), { a: 1 }), false],
    ['integer-like keys', { 2: 'b', 1: 'a', x: { 10: 1, 9: 2 } }, false],
    ['deep', { a: { b: { c: { d: [{ e: { f: ['g', { h: 'i\nj\n' }] } }] } } } }, false],
    ['multi-line key', { 'a\nb': 1 }, true],
    ['1100-character key', { ['x'.repeat(1100)]: 1 }, true],
    ['floats and specials', { c: 1.5, d: -0, e: 1e21, f: NaN, g: Infinity, i: 2 ** 53 + 2, j: 1e-7 }, true],
    ['undefined in a map', { a: undefined, c: 'x' }, true],
    ['undefined in a sequence', { b: [1, undefined] }, true],
    ['shared object (yaml writes an alias)', { a: shared, b: shared }, true],
    ['Date', { a: new Date(0) }, true],
  ];
  test.each(cases)('%s', (_label, doc, fallback) => {
    const { text, fellBack } = emit([doc]);
    expect(text).toBe(Yaml.stringify(doc));
    expect(fellBack).toBe(fallback);
  });

  test('several documents, undefined and non-map ones included', () => {
    const docs = [{ a: 1 }, undefined, { b: 'x\ny' }, 'top-level string', [1, 2], 5, null];
    expect(toYaml(docs)).toBe(Yaml.stringify(...docs));
  });

  test('random strings of YAML-significant characters, as keys, values and items', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'Z', '0', '1', ' ', '\n', '\t', ':', '#', '-', '?', '"', "'", '.', '~', '%', '!', '&', '*', '[', '{', ',', '|', '>', '@', 'y', 'e', '+', '_', '\u00e9'];
    const word = () => Array.from({ length: random(9) }, () => alphabet[random(alphabet.length)]).join('');
    let fast = 0;
    const total = 3000;
    for (let i = 0; i < total; i++) {
      const doc = random(2) === 0 ? { [word().replace(/\n/g, '')]: word() } : { k: [word(), { [word().replace(/\n/g, '')]: [word()] }] };
      const { text, fellBack } = emit([doc]);
      expect(text).toBe(Yaml.stringify(doc));
      if (!fellBack) fast++;
    }
    expect(fast / total).toBeGreaterThan(0.8);
  });
});

describe('policy index', () => {
  test('hundreds of namespaces: the same verdicts as one namespace at a time', () => {
    const objects = rendered.prod.flatMap((f) => f.objects);
    const alone = checkPolicy(objects, { defaultNamespace: 'erp-prod' });
    const many = Array.from({ length: 50 }, (_, i) => objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: `t${i}` } }))).flat();
    const result = checkPolicy(many, { defaultNamespace: 'erp-prod' });
    expect(result.violations.length).toBe(alone.violations.length * 50);
    expect(result.exemptions.length).toBe(alone.exemptions.length * 50);
  });
});

describe('writing environments', () => {
  const tree = (dir: string): Record<string, string> => Object.fromEntries(fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()
    .map((f) => [f, fs.statSync(path.join(dir, f)).isDirectory() ? '<dir>' : fs.readFileSync(path.join(dir, f), 'utf8')]));
  const v = (text: string) => [{ name: '10-config.k8s.yaml', text }];

  test('writes each <outdir>/<env>/ whole and returns every file; a folder already holding the same bytes is left alone', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-write-'));
    expect(writeEnvironments(out, rendered)).toHaveLength(Object.values(rendered).flat().length);
    const again = writeRenderedEnvironments(out, { dev: v(toYaml(rendered.dev[1].objects)), prod: rendered.prod.map((f) => ({ name: f.name, text: toYaml(f.objects) })) });
    expect(again).toMatchObject({ written: ['dev'], unchanged: ['prod'] });
    expect(fs.readdirSync(path.join(out, 'dev'))).toEqual(['10-config.k8s.yaml']);
  });

  test('a swap that fails puts back the folders already swapped, and leaves no staging folder', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-write-'));
    writeRenderedEnvironments(out, { a: v('a: 1\n'), b: v('b: 1\n') });
    const before = tree(out);
    const realFs = jest.requireActual<typeof fs>('fs');
    const rename = realFs.renameSync;
    let failed = false; // the staging folder of b cannot be moved into place (once)
    const spy = jest.spyOn(realFs, 'renameSync').mockImplementation((from, to) => {
      if (!failed && String(to) === path.join(out, 'b') && String(from).includes('.staging-')) {
        failed = true;
        throw Object.assign(new Error('EXDEV: simulated'), { code: 'EXDEV' });
      }
      return rename(from, to);
    });
    try {
      expect(() => writeRenderedEnvironments(out, { a: v('a: 2\n'), b: v('b: 2\n') })).toThrow(/simulated/);
    } finally {
      spy.mockRestore();
    }
    expect(tree(out)).toEqual(before);
  });
});
