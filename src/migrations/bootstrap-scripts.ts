/*
 * The one-off bootstrap of an application's first admin (ErpOperations'
 * bootstrap Job): the environment it reads, the Python each framework runs,
 * and the rule that tells a second, harmless run from a failure.
 */

/**
 * Environment variables the bootstrap command reads (the password is never
 * passed on a command line).
 */
export const BOOTSTRAP_ENV = {
  username: 'ADMIN_USERNAME',
  email: 'ADMIN_EMAIL',
  password: 'ADMIN_PASSWORD',
} as const;

/**
 * Output of a failed `erp-bootstrap --bootstrap-admin` that means "already
 * done": `Error: user 'admin' already exists`, or `Error: users already
 * exist; bootstrap is disabled (ALLOW_BOOTSTRAP_WHEN_USERS_EXIST=False)`.
 * Not `relation "users" does not exist`, not PostgreSQL's
 * `Key (username)=(admin) already exists`. The same source is compiled by
 * JavaScript ({@link classifyBootstrapAdmin}) and embedded in the Python of
 * the bootstrap command (both dialects read it alike).
 */
export const ALREADY_BOOTSTRAPPED_PATTERN = String.raw`\b(?:user\s+(?:(['"])[^'"\n]*\1\s+)?already\s+exists|users\s+already\s+exist)\b`;

/** A crash is never "already bootstrapped", whatever its message says. */
export const PYTHON_TRACEBACK = 'Traceback (most recent call last):';

/** What a `--bootstrap-admin` run amounted to. */
export type BootstrapOutcome = 'created' | 'already-exists' | 'failed';

/**
 * Classifies a `--bootstrap-admin` run by its exit code and combined output:
 * exit 0 is `created`; a non-zero exit whose output says a user (or users)
 * already exist, without a Python traceback, is `already-exists` (a second
 * run, safe); anything else is `failed`. The bootstrap command embeds exactly
 * this rule.
 */
export function classifyBootstrapAdmin(exitCode: number, output: string): BootstrapOutcome {
  if (exitCode === 0) return 'created';
  if (new RegExp(ALREADY_BOOTSTRAPPED_PATTERN, 'i').test(output) && !output.includes(PYTHON_TRACEBACK)) return 'already-exists';
  return 'failed';
}

/**
 * `manage.py shell --command` script creating the admin superuser unless it
 * exists. Top-level statements only (no def, no comprehension): older
 * Django versions exec the command without module globals. An exception
 * exits non-zero and fails the Job.
 */
export function djangoBootstrapScript(): string {
  const e = BOOTSTRAP_ENV;
  return [
    'import os',
    'from django.contrib.auth import get_user_model',
    'User = get_user_model()',
    `username = os.environ[${JSON.stringify(e.username)}]`,
    'if User.objects.filter(username=username).exists():',
    '    print("bootstrap: superuser %r already exists; nothing to do" % username, flush=True)',
    'else:',
    `    User.objects.create_superuser(username, os.environ[${JSON.stringify(e.email)}], os.environ[${JSON.stringify(e.password)}])`,
    '    print("bootstrap: created superuser %r" % username, flush=True)',
  ].join('\n');
}

/**
 * The Python run by one bootstrap step in its own interpreter: it calls the
 * CLI's `console_scripts` entry point in-process, as the CLI's own launcher
 * would, after appending `--password <$ADMIN_PASSWORD>` to `sys.argv` for
 * `--bootstrap-admin` (Python's `sys.argv` is not /proc/<pid>/cmdline).
 */
export function consoleScriptStep(cli: string): string {
  return [
    'import os, sys',
    'from importlib.metadata import entry_points',
    `CLI = ${JSON.stringify(cli)}`,
    'args = sys.argv[1:]',
    'if "--bootstrap-admin" in args:',
    `    args += ["--password", os.environ[${JSON.stringify(BOOTSTRAP_ENV.password)}]]`,
    'try:',
    '    found = list(entry_points(group="console_scripts", name=CLI))',
    'except TypeError:  # Python < 3.10',
    '    found = [e for e in entry_points().get("console_scripts", ()) if e.name == CLI]',
    'if not found:',
    '    sys.exit("bootstrap: no console_scripts entry point %r in this image" % CLI)',
    'sys.argv = [CLI] + args',
    'sys.exit(found[0].load()())',
  ].join('\n');
}

/**
 * `python -c` driver of the FastAPI bootstrap (seed 002): `<cli> --seed-rbac`,
 * then `<cli> --bootstrap-admin --username U --email E --password P`, each in
 * a fresh interpreter ({@link consoleScriptStep}: the same process state as
 * running the CLI from a shell, e.g. no async engine reused across event
 * loops). Any failure fails the Job, except a second `--bootstrap-admin` that
 * reports an existing user ({@link classifyBootstrapAdmin}, same rule).
 */
export function alembicBootstrapScript(cli: string): string {
  const e = BOOTSTRAP_ENV;
  return [
    'import os, re, subprocess, sys',
    `CLI = ${JSON.stringify(cli)}`,
    `STEP = ${JSON.stringify(consoleScriptStep(cli))}`,
    `ALREADY = re.compile(${JSON.stringify(ALREADY_BOOTSTRAPPED_PATTERN)}, re.IGNORECASE)`,
    `TRACEBACK = ${JSON.stringify(PYTHON_TRACEBACK)}`,
    'def run(args, shown, capture):',
    '    print("bootstrap: %s %s" % (CLI, " ".join(shown)), flush=True)',
    '    return subprocess.run([sys.executable, "-c", STEP] + args, capture_output=capture, text=True, errors="replace")',
    'def exit_code(rc):',
    '    return rc if rc > 0 else 1',
    'rbac = run(["--seed-rbac"], ["--seed-rbac"], False)',
    'if rbac.returncode != 0:',
    '    print("bootstrap: %s --seed-rbac failed (exit %d)" % (CLI, rbac.returncode), file=sys.stderr, flush=True)',
    '    sys.exit(exit_code(rbac.returncode))',
    `user, email = os.environ[${JSON.stringify(e.username)}], os.environ[${JSON.stringify(e.email)}]`,
    'args = ["--bootstrap-admin", "--username", user, "--email", email]',
    `admin = run(args, args + ["--password", "<$${e.password}>"], True)`,
    'sys.stdout.write(admin.stdout)',
    'sys.stderr.write(admin.stderr)',
    'sys.stdout.flush()',
    'sys.stderr.flush()',
    'output = admin.stdout + admin.stderr',
    'if admin.returncode == 0:',
    '    print("bootstrap: admin %r created" % user, flush=True)',
    'elif ALREADY.search(output) and TRACEBACK not in output:',
    '    print("bootstrap: a user already exists; nothing to do", flush=True)',
    'else:',
    '    print("bootstrap: %s --bootstrap-admin failed (exit %d)" % (CLI, admin.returncode), file=sys.stderr, flush=True)',
    '    sys.exit(exit_code(admin.returncode))',
  ].join('\n');
}
