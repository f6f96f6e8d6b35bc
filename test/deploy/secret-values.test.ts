import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSecretValues, parseDotenv } from '../../deploy/secret-values';

/** A value no error message may show. */
const SECRET = 's3cr3t-Value';

describe('parseDotenv (.env.<env>, read with util.parseEnv)', () => {
  test.each<[string, string, Record<string, string>]>([
    ['KEY=VALUE, quotes, comments and export', "# c\nA=1\nexport B=\"two words\"\nC='x'\n\n", { A: '1', B: 'two words', C: 'x' }],
    ['a trailing comment after a quoted value', `KEY="${SECRET}" # the API's key\n`, { KEY: SECRET }],
    ['a trailing comment after a plain value', 'KEY=plain # comment\nEMPTY= # nothing yet\n', { KEY: 'plain', EMPTY: '' }],
    ['a multi-line quoted value', 'CERT="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1\n', { CERT: '-----BEGIN-----\nabc\n-----END-----', NEXT: '1' }],
    ['\\n in double quotes as a newline, literally in single quotes', 'A="x\\ny"\nB=\'x\\ny\'\n', { A: 'x\ny', B: 'x\\ny' }],
    ['backquotes, and a # inside quotes', 'A=`one two`\nB="pa#ss"\nC=\'#x\'\n', { A: 'one two', B: 'pa#ss', C: '#x' }],
    ['spaces around = and at the ends, CRLF line ends', '  A = spaced  \r\nB=2\r\n', { A: 'spaced', B: '2' }],
    ['an empty value', 'A=\nB=""\n', { A: '', B: '' }],
  ])('accepts %s', (_name, text, expected) => {
    expect(parseDotenv(text, '.env.dev')).toEqual(expected);
  });

  test.each<[string, string, RegExp]>([
    ['a line is not KEY=VALUE', `A=1\n${SECRET}\n`, /^\.env\.dev:2: 'line' \("<redacted>"\) must be KEY=VALUE/],
    ['a key is not a C identifier', `A.B=${SECRET}\n`, /^\.env\.dev:1: 'line' \("<redacted>"\) must be KEY=VALUE .*KEY a C identifier/],
    ['a line has no key', `=${SECRET}\n`, /^\.env\.dev:1: 'line' \("<redacted>"\) must be KEY=VALUE/],
    ['a key is set twice', `A=1\n# again\nexport A="${SECRET}"\n`, /^\.env\.dev:3: 'A' \("<redacted>"\) is set twice, on lines 1 and 3: keep one/],
    ['a quote is never closed', `A=1\nB="${SECRET}\nC=3\n`, /^\.env\.dev:2: 'B' \("<redacted>"\) opens a " quote that is never closed/],
    ['text follows a closing quote', `A='it's ${SECRET}'\n`, /^\.env\.dev:1: 'A' \("<redacted>"\) has text after its closing ': only a # comment may follow/],
    ['an unquoted # is glued to the value', `A=${SECRET}#tail\n`, /^\.env\.dev:1: 'A' \("<redacted>"\) has a '#' with no space before it.*quote the value/],
    ['an unquoted value starts with #', `A=#${SECRET}\n`, /^\.env\.dev:1: 'A' \("<redacted>"\) has a '#' with no space before it/],
  ])('fails when %s, naming the file, line and key but never the value', (_name, text, message) => {
    expect(() => parseDotenv(text, '.env.dev')).toThrow(message);
    expect(() => parseDotenv(text, '.env.dev')).not.toThrow(SECRET);
  });
});

describe('loadSecretValues: secrets.<env>.yaml', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'erp-secret-values-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => { const f = path.join(dir, 'secrets.dev.yaml'); fs.writeFileSync(f, text); return f; };

  test('accepts a mapping after comments, and a file of comments only', () => {
    expect(loadSecretValues({ file: write(`# dev\nSECRET_KEY: "${SECRET}"\n`) })).toEqual({ SECRET_KEY: SECRET });
    expect(loadSecretValues({ file: write('# nothing yet\n') })).toBeUndefined();
  });

  test.each<[string, string, RegExp]>([
    ['a key is set twice', `# dev\nSECRET_KEY: "a"\nDB_PASSWORD: "b"\nSECRET_KEY: "${SECRET}"\n`,
      /secrets\.dev\.yaml:4: 'SECRET_KEY' \("<redacted>"\) is set twice, on lines 2 and 4: keep one/],
    ['a key is set twice in flow style', `{ A: "x", A: "${SECRET}" }\n`, /secrets\.dev\.yaml:1: 'A' \("<redacted>"\) is set twice, on lines 1 and 1/],
    ['the file is not valid YAML', `A: "x"\nB: "${SECRET}\n`, /secrets\.dev\.yaml:\d+: 'file' \(".*secrets\.dev\.yaml"\) is not valid YAML here \([A-Z_]+\)/],
  ])('fails when %s, naming the file, line and key but never the value', (_name, text, message) => {
    const file = write(text);
    expect(() => loadSecretValues({ file })).toThrow(message);
    expect(() => loadSecretValues({ file })).not.toThrow(SECRET);
  });
});
