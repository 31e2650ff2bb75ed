// Runs one step of the harness as a child process with a time limit: the step's whole process
// group is killed when the limit passes, so one hanging or crashing model cannot stall or take
// down the run. Returns exit status, stdout and the tail of stderr.
import { spawn } from 'node:child_process';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  /** Last 2,000 characters of stderr. */
  stderrTail: string;
  seconds: number;
}

export function runChild(
  cmd: string,
  args: readonly string[],
  o: { cwd: string; timeoutSeconds: number; env?: NodeJS.ProcessEnv },
): Promise<ChildResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args], {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, o.timeoutSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderrTail: stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}
