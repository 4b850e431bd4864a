import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoPersonalValues, PEOPLE } from "../apps/server/src/demo/demo-people.ts";
import { formatScan, KEYS_FILE_PREFIX, literalTestValues, scanLogDir, scanText } from "./log-scan.ts";
import { runNeedles } from "./run-scan.ts";

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time: 1, service: "custos-server", ...fields });

describe("the run's log scan (SEC-6)", () => {
  let dir: string;
  const key = randomBytes(32).toString("base64");
  const jane = PEOPLE.find((p) => p.email === "jane.doe@example.com");

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "custos-scan-test-"));
    await writeFile(path.join(dir, `${KEYS_FILE_PREFIX}1.txt`), `${key}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("SEC-6: knows every demo subject's email, phone, ID number and name, the tests' literal values and registered keys", async () => {
    const needles = await runNeedles(dir);
    const kinds = new Set(needles.map((n) => n.kind));
    for (const kind of [
      "demo email",
      "demo phone",
      "demo id-number",
      "demo name",
      "test email",
      "test phone",
      "master key",
      "master key (hex)",
    ])
      expect(kinds, kind).toContain(kind);
    const values = new Set(needles.map((n) => n.value.toLowerCase()));
    for (const v of demoPersonalValues()) expect(values).toContain(v.value.toLowerCase());
    expect(demoPersonalValues().filter((v) => v.kind === "id-number")).toHaveLength(
      PEOPLE.filter((p) => p.birthDate).length,
    );
    expect(values).toContain(key.toLowerCase());
  });

  it("SEC-6: a planted leak in any case is found and named by file, line and kind, never by value", async () => {
    const idNumber = demoPersonalValues().find((v) => v.kind === "id-number")?.value ?? "";
    await writeFile(
      path.join(dir, "101.ndjson"),
      [
        line({ msg: "incoming request", req: { method: "GET", url: "/healthz" } }),
        line({ msg: `mail to ${jane?.email?.toUpperCase()} failed` }),
        line({ msg: "request completed", res: { statusCode: 200 } }),
        line({ msg: "loaded", key }),
        "",
      ].join("\n"),
    );
    await writeFile(path.join(dir, "102.ndjson"), `${line({ msg: `id ${idNumber}`, who: jane?.name })}\n`);
    // A clean file, with the kind of text real logs carry (redacted fields, masked values).
    await writeFile(
      path.join(dir, "103.ndjson"),
      `${line({ email: "[redacted]", msg: "sent to j***@example.com, 138****1234" })}\n`,
    );
    const result = await scanLogDir(dir, await runNeedles(dir));
    expect(result.files).toBe(3);
    expect(result.lines).toBe(6);
    expect(result.hits).toEqual([
      { file: "101.ndjson", line: 2, kind: "demo email" },
      { file: "101.ndjson", line: 4, kind: "master key" },
      { file: "102.ndjson", line: 1, kind: "demo id-number" },
      { file: "102.ndjson", line: 1, kind: "demo name" },
    ]);
    const report = formatScan(result, dir);
    expect(report.split("\n")[0]).toBe("SEC-6 log scan: 3 files, 6 lines, 4 hits");
    expect(report).toContain(`demo email in ${path.join(dir, "101.ndjson")}:2`);
    for (const value of [jane?.email ?? "", jane?.name ?? "", idNumber, key])
      expect(report.toLowerCase()).not.toContain(value.toLowerCase());
  });

  it("SEC-6: a phone inside a longer number (a duration, a timestamp) is not a hit; standing alone it is", () => {
    const phone = [{ kind: "test phone", value: "13900000000" }];
    expect(scanText(line({ responseTime: 5.3613900000000285 }), phone, "x.ndjson")).toEqual([]);
    expect(scanText(line({ to: "13900000000" }), phone, "x.ndjson")).toEqual([
      { file: "x.ndjson", line: 1, kind: "test phone" },
    ]);
    expect(scanText(line({ msg: "call +8613900000000 now" }), phone, "x.ndjson")).toHaveLength(1);
  });

  it("SEC-6: a clean log reports 0 hits", () => {
    const hits = scanText(
      [line({ msg: "request completed" }), line({ err: { message: "[redacted-email]" } })].join("\n"),
      [{ kind: "demo email", value: "jane.doe@example.com" }],
      "x.ndjson",
    );
    expect(hits).toEqual([]);
  });

  it("SEC-6: finds the emails, mobile numbers and ID numbers a test file writes, not package names or sender addresses", () => {
    const source = `
      import { x } from "@custos/server";
      const a = { contact: "e2e.player@example.com", phone: "13812341234", id: "11010519491231002X" };
      const from = "Custos <privacy@example.com>"; const version = "vitest@4.1.2"; const n = 1381234123456;
      const templated = \`auditor.\${id}@staff.example\`;`;
    expect(literalTestValues(source)).toEqual([
      { kind: "test email", value: "e2e.player@example.com" },
      { kind: "test phone", value: "13812341234" },
      { kind: "test ID number", value: "11010519491231002X" },
    ]);
  });
});
