import * as fs from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { buildEnvironment, ENVIRONMENTS } from '../../deploy/environments';
import { renderFiles } from '../../deploy/synth';
import { toYaml, yamlEmitter } from '../../src/synth/yaml';

// The differential test of the fast YAML emitter: byte for byte what cdk8s' Yaml.stringify writes.
const rendered = Object.fromEntries(Object.entries(ENVIRONMENTS).map(([name, config]) => [name, renderFiles(buildEnvironment(config).charts)]));

describe('the switch', () => {
  test('fast by default; ERP_K8S_YAML=stock takes cdk8s\' Yaml.stringify for every document', () => {
    expect(yamlEmitter({})).toBe('fast');
    expect(yamlEmitter({ ERP_K8S_YAML: 'stock' })).toBe('stock');
    const before = process.env.ERP_K8S_YAML;
    process.env.ERP_K8S_YAML = 'stock';
    const objects = rendered.dev.flatMap((f) => f.objects);
    const spy = jest.spyOn(Yaml, 'stringify').mockReturnValue('stock');
    try {
      expect(toYaml(objects)).toBe('stock');
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy).toHaveBeenCalledWith(...objects);
    } finally {
      spy.mockRestore();
      if (before === undefined) delete process.env.ERP_K8S_YAML;
      else process.env.ERP_K8S_YAML = before;
    }
  });

  test('the fast path follows the yaml version cdk8s bundles, and package.json pins that very version', () => {
    const version = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')).version;
    const bundled = version(require.resolve('yaml/package.json', { paths: [path.dirname(require.resolve('cdk8s'))] }));
    expect(version(require.resolve('yaml/package.json'))).toBe(bundled);
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    expect(pkg.dependencies.yaml).toBe(bundled);
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
    const alphabet = ['a', 'Z', '0', '1', ' ', '\n', '\t', ':', '#', '-', '?', '"', "'", '.', '~', '%', '!', '&', '*', '[', '{', ',', '|', '>', '@',
      'y', 'e', '+', '_', '\u00e9'];
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

