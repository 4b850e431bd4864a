import { type FixedClock, fixedClock, type StaffRole } from "@custos/core";
import { createAuditLedger, createSubjectFieldRepo, createSubjectRepo } from "@custos/store";
import type { LightMyRequestResponse } from "fastify";
import { generate } from "otplib";
import { createStaffService, type StaffService } from "../src/staff/staff-service.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

const CSRF = "staff-test-csrf-token-0123456789abcdefghijklm";

export type StaffUser = {
  id: string;
  email: string;
  role: StaffRole;
  password: string;
  secret?: string;
  cookie?: string;
};

export type StaffTestApp = TestApp & {
  clock: FixedClock;
  service: StaffService;
  /** Creates a staff member directly through the service (as the CLI does). */
  createStaff(role: StaffRole, email?: string): Promise<StaffUser>;
  /** Signs in with password and TOTP (enrolling on first use); sets `user.cookie`. */
  signIn(user: StaffUser, options?: { keepOneTimePassword?: boolean }): Promise<StaffUser>;
  /** Records a valid confidentiality agreement and privacy training. */
  train(user: StaffUser): Promise<void>;
  call(
    user: StaffUser | undefined,
    method: "GET" | "POST",
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse>;
  /** A subject with encrypted fields in registration (grade 3), logs (2) and guardian (children). */
  createSubject(): Promise<string>;
};

let counter = 0;

export async function buildStaffTestApp(): Promise<StaffTestApp> {
  const clock = fixedClock(new Date("2025-06-02T08:00:00.000Z"));
  const t = await buildTestApp({ deps: { clock } });
  const ledger = createAuditLedger({ db: t.database.db, clock });
  const service = createStaffService({ db: t.database.db, vault: t.vault, clock, ledger });

  const call: StaffTestApp["call"] = (user, method, url, payload) =>
    t.app.inject({
      method,
      url,
      headers: {
        ...(user?.cookie ? { cookie: `${user.cookie}; custos_csrf=${CSRF}` } : {}),
        ...(method === "POST" ? { "x-csrf-token": CSRF, origin: "http://custos.test" } : {}),
      },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  const app: StaffTestApp = {
    ...t,
    clock,
    service,
    async createStaff(role, email) {
      counter += 1;
      const address = email ?? `${role}.${counter}.${Date.now()}@staff.example`;
      const { staff, password } = await service.create({
        email: address,
        displayName: `Test ${role}`,
        role,
        createdBy: null,
      });
      return { id: staff.id, email: address, role, password };
    },
    async signIn(user, options) {
      const first = await call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
        email: user.email,
        password: user.password,
      });
      if (first.statusCode !== 200) throw new Error(`sign-in failed: ${first.statusCode} ${first.body}`);
      const body = first.json() as { next: string; secret?: string };
      if (body.secret) user.secret = body.secret;
      if (!user.secret) throw new Error("no TOTP secret known for this user");
      const mfaCookie = first.cookies.find((c) => c.name === "custos_staff_session");
      // A code is accepted once per time step: move past the last one used.
      clock.advance(30_000);
      const code = await generate({ secret: user.secret, epoch: Math.floor(clock.now().getTime() / 1000) });
      const second = await call(
        { ...user, cookie: `custos_staff_session=${mfaCookie?.value}` },
        "POST",
        "/api/v1/staff/auth/mfa",
        {
          code,
        },
      );
      if (second.statusCode !== 200) throw new Error(`mfa failed: ${second.statusCode} ${second.body}`);
      const session = second.cookies.find((c) => c.name === "custos_staff_session");
      user.cookie = `custos_staff_session=${session?.value}`;
      if (options?.keepOneTimePassword) return user;
      // A one-time password must be replaced before anything else (ACC-5).
      const me = (await call(user, "GET", "/api/v1/staff/me")).json() as {
        staff?: { mustChangePassword?: boolean };
      };
      if (me.staff?.mustChangePassword) {
        const next = `${user.password}-own-passphrase`;
        const changed = await call(user, "POST", "/api/v1/staff/me/password", {
          current: user.password,
          next,
        });
        if (changed.statusCode !== 200)
          throw new Error(`password change failed: ${changed.statusCode} ${changed.body}`);
        user.password = next;
      }
      return user;
    },
    async train(user) {
      const recorder = await service.create({
        email: `recorder.${++counter}.${Date.now()}@staff.example`,
        displayName: "Recorder",
        role: "admin",
        createdBy: null,
      });
      const now = clock.now();
      await service.recordTraining({
        staffId: user.id,
        kind: "confidentiality",
        completedAt: new Date(now.getTime() - 86_400_000),
        expiresAt: null,
        recordedBy: recorder.staff.id,
      });
      await service.recordTraining({
        staffId: user.id,
        kind: "privacy-training",
        completedAt: new Date(now.getTime() - 86_400_000),
        expiresAt: new Date(now.getTime() + 30 * 86_400_000),
        recordedBy: recorder.staff.id,
      });
    },
    call,
    async createSubject() {
      const subject = await createSubjectRepo(t.database.db).create({ region: "cn" });
      const fields = createSubjectFieldRepo(t.database.db, t.vault);
      const put = (category: string, field: string, value: string) =>
        fields.put({ subjectId: subject.subjectId, category, field, keyGroup: "account", value });
      await put("registration", "phone", "13812341234");
      await put("registration", "email", "li.si@example.cn");
      await put("registration", "password", "$argon2id$v=19$secret");
      await put("logs", "ip", "203.0.113.77");
      await put("guardianship-proof", "name", "张三");
      return subject.subjectId;
    },
  };
  return app;
}
