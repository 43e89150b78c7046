/**
 * Test support: `stepwise serve` as users run it, the built CLI in a child process, up once it
 * prints its listening line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Runs as dist/surfaces/server/*.js (root three levels up) or from a copy elsewhere (cwd).
const UP = fileURLToPath(new URL('../../../', import.meta.url));
export const ROOT = existsSync(join(UP, 'bin', 'stepwise.js')) ? UP : process.cwd();
export const BIN = join(ROOT, 'bin', 'stepwise.js');

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** What the process wrote to stderr so far. */
  stderr: () => string;
  /** Its exit code, once it exits. */
  exited: Promise<number | null>;
}

/**
 * Starts `node [nodeArgs] bin/stepwise.js serve [args]`; resolves with its URL, or rejects with
 * its stderr when it exits early or prints no listening line within 15 s (it is then killed).
 */
export async function startServeProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  nodeArgs: readonly string[] = [],
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve', ...args], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${stderr}`)), 15_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /stepwise listening on (http:\/\/\S+)\n/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', () => reject(new Error(`exited early; stderr: ${stderr}`)));
    });
    return { child, url, stderr: () => stderr, exited };
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw e;
  }
}
