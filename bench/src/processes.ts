import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

type Started = Awaited<ReturnType<typeof startProcess>>;

/**
 * Starts a child process and waits until it prints a line matching `ready`, returning the match.
 * Benchmarked servers run in their own process so that the load generator does not share their event loop.
 */
export async function startProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number; cwd?: string },
): Promise<{ child: ChildProcess; match: RegExpMatchArray; stop: () => Promise<void> }> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} did not become ready in time; output:\n${output.slice(-2000)}`)),
      options.timeoutMs ?? 60_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = output.match(options.ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`${command} exited with ${code} before it was ready; output:\n${output.slice(-2000)}`),
      );
    });
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await once(child, "exit");
    clearTimeout(timer);
  };
  return { child, match, stop };
}

/** The bare Fastify hello-world the HTTP benchmarks compare with; `match[1]` is its base URL. */
export function startHelloWorld(): Promise<Started> {
  return startProcess(process.execPath, [path.join(repoRoot, "bench/src/peers/hello-fastify.mjs")], {
    ready: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
}

/**
 * `custos start` on a free port, without demo data, in `dataDir`; `match[1]` is its base URL. With
 * CUSTOS_BENCH_PROFILE_DIR set, the server writes a V8 CPU profile there when it stops.
 */
export function startCustos(dataDir: string, env: NodeJS.ProcessEnv): Promise<Started> {
  return startProcess(
    process.execPath,
    [
      ...(process.env.CUSTOS_BENCH_PROFILE_DIR
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.CUSTOS_BENCH_PROFILE_DIR}`]
        : []),
      path.join(repoRoot, "apps/cli/bin/custos.mjs"),
      "start",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--no-demo",
    ],
    { ready: /API docs:\s+(http:\/\/127\.0\.0\.1:\d+)/, env },
  );
}
