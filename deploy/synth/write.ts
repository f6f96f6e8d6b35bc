import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ManifestFile, RenderedFile, renderYaml } from './render';

/** What {@link writeRenderedEnvironments} did. */
export interface WriteResult {
  /** Every file of the environments, written or already there. */
  readonly files: string[];
  /** Environments whose folder was replaced. */
  readonly written: string[];
  /** Environments whose folder already held exactly these files (left untouched). */
  readonly unchanged: string[];
}

/**
 * Replaces `<outdir>/<env>/` for every environment, all or nothing: files are
 * written to hidden staging folders first, then swapped in by rename. Stale
 * files of an earlier run disappear with the old folder. Other folders of
 * `outdir` (environments not given) are left alone.
 */
export function writeEnvironments(outdir: string, outputs: Record<string, ManifestFile[]>): string[] {
  const rendered: Record<string, RenderedFile[]> = {};
  for (const [env, files] of Object.entries(outputs)) rendered[env] = renderYaml(files);
  return writeRenderedEnvironments(outdir, rendered).files;
}

/** An environment's files, written to a hidden staging folder of `outdir`. */
interface Staged {
  readonly env: string;
  readonly tmp: string;
}

/**
 * {@link writeEnvironments} for files already rendered. A folder that
 * already holds exactly these files (same names, same bytes) is not
 * touched. If a swap fails, the folders already swapped are put back.
 */
export function writeRenderedEnvironments(outdir: string, outputs: Record<string, RenderedFile[]>): WriteResult {
  fs.mkdirSync(outdir, { recursive: true });
  removeAbandonedStaging(outdir);
  const files = Object.entries(outputs).flatMap(([env, rendered]) => rendered.map((f) => path.join(outdir, env, f.name)));
  const unchanged = Object.keys(outputs).filter((env) => holdsExactly(path.join(outdir, env), outputs[env]));
  const staged = stage(outdir, Object.entries(outputs).filter(([env]) => !unchanged.includes(env)));
  swapIn(outdir, staged);
  return { files, written: staged.map((s) => s.env), unchanged };
}

/** Writes each environment's files to a staging folder; on failure, removes them all. */
function stage(outdir: string, outputs: ReadonlyArray<[string, RenderedFile[]]>): Staged[] {
  const staged: Staged[] = [];
  try {
    for (const [env, rendered] of outputs) {
      // not mkdtemp: its folders are mode 0700, and dist/<env>/ should be as
      // readable as any folder the user creates (umask applies)
      const tmp = path.join(outdir, `.${env}.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
      fs.mkdirSync(tmp);
      staged.push({ env, tmp });
      for (const f of rendered) {
        fs.mkdirSync(path.dirname(path.join(tmp, f.name)), { recursive: true }); // nested names: a Helm chart's templates/
        fs.writeFileSync(path.join(tmp, f.name), f.text);
      }
    }
  } catch (e) {
    for (const { tmp } of staged) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return staged;
}

/** Renames the staging folders into place, all or nothing: on failure the folders already swapped are put back. */
function swapIn(outdir: string, staged: readonly Staged[]): void {
  const swapped: Array<{ target: string; old?: string }> = [];
  try {
    for (const { env, tmp } of staged) {
      const target = path.join(outdir, env);
      const old = fs.existsSync(target) ? `${tmp}.old` : undefined;
      if (old) fs.renameSync(target, old);
      try {
        fs.renameSync(tmp, target);
      } catch (e) {
        if (old) fs.renameSync(old, target);
        throw e;
      }
      swapped.push({ target, old });
    }
  } catch (e) {
    for (const { target, old } of swapped.reverse()) {
      fs.rmSync(target, { recursive: true, force: true });
      if (old) fs.renameSync(old, target);
    }
    for (const { tmp } of staged) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const { old } of swapped) if (old) fs.rmSync(old, { recursive: true, force: true });
}

/** The names of every file under `dir`, relative to it (nested folders walked). */
export function fileNames(dir: string): string[] {
  const names: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else names.push(path.relative(dir, path.join(d, e.name)));
    }
  };
  walk(dir);
  return names;
}

/** Whether `dir` holds these files (nested names allowed) and nothing else, byte for byte. */
export function holdsExactly(dir: string, files: readonly RenderedFile[]): boolean {
  let names: string[];
  try {
    names = fileNames(dir);
  } catch {
    return false;
  }
  if (names.length !== files.length) return false;
  return files.every((f) => {
    try {
      return fs.readFileSync(path.join(dir, f.name), 'utf8') === f.text;
    } catch {
      return false;
    }
  });
}

const STAGING = /^\..+\.staging-(\d+)-[0-9a-f]{8}(\.old)?$/;

/** Removes staging folders left by a synth that was killed (its process is gone). */
function removeAbandonedStaging(outdir: string): void {
  for (const name of fs.readdirSync(outdir)) {
    const m = STAGING.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    fs.rmSync(path.join(outdir, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
