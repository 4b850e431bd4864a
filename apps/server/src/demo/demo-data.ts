import { AppError, type Clock, maskEmail, maskName, maskPhone, newId, systemClock } from "@custos/core";
import type { Manifest } from "@custos/manifest";
import {
  type AuditLedger,
  createStaffRepo,
  createSubjectFieldRepo,
  type DB,
  type Vault,
} from "@custos/store";
import type { Kysely } from "kysely";
import { generateSecret } from "otplib";
import type { Notifier } from "../notifications/notifier.ts";
import { createStaffService, generatePassword } from "../staff/staff-service.ts";
import { DEMO_STAFF, type DemoStaffMember, demoIdNumber, PEOPLE } from "./demo-people.ts";

export { DEMO_STAFF, demoPersonalValues, PEOPLE } from "./demo-people.ts";

/**
 * Realistic demo data: players of MuMuPlayer Pro with their registration data, real-name records,
 * a child with a guardian, and activity (logins, orders, top-ups, posts, support tickets,
 * interest tags, in-app messages). Personal fields go through the vault like real data. Also one
 * staff member per role, trained and enrolled in TOTP, whose sign-in details are returned once.
 */

/** A demo staff member's sign-in details: returned once, printed by `custos start --demo`, never logged. */
export type DemoStaffCredentials = DemoStaffMember & { password: string; totpSecret: string };

export type DemoSummary = {
  subjects: {
    subjectId: string;
    nickname: string;
    contact: string;
    age?: number;
    child: boolean;
    locale: string;
  }[];
  fields: number;
  messages: number;
  /** Staff created now (a member whose email already exists is left as it is and not listed). */
  staff: DemoStaffCredentials[];
};

export type SeedDemoDeps = {
  db: Kysely<DB>;
  vault: Vault;
  notifier: Notifier;
  manifest: Manifest;
  auditLedger: AuditLedger;
  clock?: Clock;
};

/** True when the database holds no subjects yet: `start --demo` loads demo data only then. */
export async function isEmptyOfSubjects(db: Kysely<DB>): Promise<boolean> {
  const row = await db.selectFrom("subjects").select("subject_id").limit(1).executeTakeFirst();
  return row === undefined;
}

export async function seedDemo(deps: SeedDemoDeps): Promise<DemoSummary> {
  const clock = deps.clock ?? systemClock;
  const { manifest } = deps;
  const region = manifest.regions.find((r) => r.default)?.id ?? manifest.regions[0]?.id ?? "cn";
  const groupOf = (categoryId: string): string => {
    const category = manifest.categories.find((c) => c.id === categoryId);
    const rule = manifest.retention.find((r) => r.id === category?.retention);
    if (!category || !rule)
      throw new Error(`the manifest has no stored category "${categoryId}" for demo data`);
    return rule.group;
  };
  const today = clock.now();
  const summary: DemoSummary = { subjects: [], fields: 0, messages: 0, staff: [] };

  for (const [i, person] of PEOPLE.entries()) {
    const subjectId = newId();
    const created = new Date(today.getTime() - (120 - i * 9) * 86_400_000);
    const age = person.birthDate ? ageOn(person.birthDate, today) : undefined;
    const child = age !== undefined && age < manifest.children.ageThreshold;

    await deps.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("subjects")
        .values({ subject_id: subjectId, region, status: "active", created_at: created, updated_at: created })
        .execute();
      const fields = createSubjectFieldRepo(tx, deps.vault);
      const put = async (
        category: string,
        field: string,
        value: string,
        indexAs?: "email" | "phone" | "id_number",
      ) => {
        await fields.put({ subjectId, category, field, keyGroup: groupOf(category), value, indexAs });
        summary.fields++;
      };
      if (person.phone) await put("registration", "phone", person.phone, "phone");
      if (person.email) await put("registration", "email", person.email, "email");
      await put("registration", "username", `player${1001 + i}`);
      await put("account-profile", "nickname", person.nickname);
      await put("account-profile", "user-id", String(880_001 + i));
      if (person.birthDate) {
        await put("real-name", "name", person.name);
        await put("real-name", "id-number", demoIdNumber(i) ?? "", "id_number");
      }
      if (person.guardian) {
        await put("guardian-contact", "phone", person.guardian.phone, "phone");
        await put("guardian-contact", "email", person.guardian.email, "email");
      }
      await put(
        "logs",
        "event",
        `login via ${i % 2 ? "Android" : "Windows"} client, ${3 + (i % 5)} sessions this week`,
      );
      await put("logs", "ip", `203.0.113.${10 + i}`);
      await put("device", "model", i % 2 ? "Xiaomi 14" : "Windows 11 PC");
      await put("device", "device-id", `demo-device-${(0xa1b2c3 + i * 7919).toString(16)}`);
      if (person.orders > 0) {
        await put("orders", "order-no", `MU${20260000 + i * 100}`);
        await put("orders", "amount", `${(6 + i * 12).toFixed(2)} CNY`);
        await put(
          "recharge-consumption",
          "amount",
          `${(30 * person.orders).toFixed(2)} CNY in ${person.orders} top-ups`,
        );
      }
      if (person.tags.length) await put("recommendation-profile", "tags", person.tags.join(", "));
      if (i % 3 === 0)
        await put("customer-service", "transcript", "Asked how to move game saves to a new device.");
    });

    const welcome =
      person.locale === "zh-CN"
        ? {
            title: "欢迎使用 MuMuPlayer Pro",
            body: "你可以在隐私中心查看我们收集的信息、管理授权，并随时撤回同意。",
          }
        : {
            title: "Welcome to MuMuPlayer Pro",
            body: "In the privacy center you can see what we collect, manage your choices and withdraw consent at any time.",
          };
    await deps.notifier.send({
      channel: "inbox",
      subjectId,
      template: "generic-notice",
      locale: person.locale,
      data: welcome,
    });
    summary.messages++;
    const contact = person.phone ?? person.email;
    if (contact) {
      await deps.notifier.send({
        channel: person.phone ? "sms" : "email",
        to: contact,
        subjectId,
        template: "verification-code",
        locale: person.locale,
        data: { code: String(100_000 + ((i * 7919) % 900_000)), minutes: 10 },
      });
      summary.messages++;
    }
    summary.subjects.push({
      subjectId,
      nickname: person.nickname,
      contact: person.phone
        ? maskPhone(person.phone)
        : person.email
          ? maskEmail(person.email)
          : maskName(person.name),
      age,
      child,
      locale: person.locale,
    });
  }
  summary.staff = await seedDemoStaff(deps, clock);
  return summary;
}

/**
 * One staff member per role (DEMO_STAFF) with a generated password (not one-time, so the printed
 * one keeps working), an enrolled TOTP secret, and a confidentiality agreement and privacy training
 * on record, so each can sign in and be granted access at once (ACC-5, SEC-8).
 */
export async function seedDemoStaff(
  deps: Pick<SeedDemoDeps, "db" | "vault" | "auditLedger">,
  clock: Clock,
): Promise<DemoStaffCredentials[]> {
  const service = createStaffService({ db: deps.db, vault: deps.vault, clock, ledger: deps.auditLedger });
  const repo = createStaffRepo(deps.db);
  const now = clock.now();
  const created: (DemoStaffCredentials & { id: string })[] = [];
  for (const member of DEMO_STAFF) {
    const password = generatePassword();
    let id: string;
    try {
      id = (await service.create({ ...member, password, createdBy: null })).staff.id;
    } catch (error) {
      // Already there (the demo was loaded into this database before): keep that account as it is.
      if (error instanceof AppError && error.code === "conflict") continue;
      throw error;
    }
    const totpSecret = generateSecret();
    await repo.setPendingTotp(id, await deps.vault.sealSystem(totpSecret));
    // Enrolled, with no code used yet: time step 0 is before any real one.
    await repo.acceptTotpStep(id, 0, now);
    created.push({ ...member, id, password, totpSecret });
  }
  const recorder = created.find((s) => s.role === "admin")?.id ?? created[0]?.id;
  for (const { id } of created) {
    if (!recorder) break;
    const day = 86_400_000;
    await service.recordTraining({
      staffId: id,
      kind: "confidentiality",
      completedAt: new Date(now.getTime() - 30 * day),
      expiresAt: null,
      recordedBy: recorder,
    });
    await service.recordTraining({
      staffId: id,
      kind: "privacy-training",
      completedAt: new Date(now.getTime() - 30 * day),
      expiresAt: new Date(now.getTime() + 335 * day),
      recordedBy: recorder,
    });
  }
  return created.map(({ id: _id, ...credentials }) => credentials);
}

/**
 * The demo staff sign-in details as lines for the terminal, once, at `start --demo` (never through
 * the logger). Demo and development only: anyone who sees them can sign in.
 */
export function formatDemoStaff(staff: DemoStaffCredentials[], consoleUrl?: string): string {
  if (staff.length === 0) return "";
  const lines = [
    `DEMO STAFF ACCOUNTS (demo only; shown once, not logged; sign in at ${consoleUrl ?? "/console/sign-in"}).`,
    "  Add the TOTP secret to an authenticator app, then sign in with the email, password and its code.",
    `  ${"role".padEnd(17)} ${"email".padEnd(29)} ${"password".padEnd(21)} TOTP secret`,
  ];
  for (const s of staff)
    lines.push(`  ${s.role.padEnd(17)} ${s.email.padEnd(29)} ${s.password.padEnd(21)} ${s.totpSecret}`);
  return lines.join("\n");
}

/** Whole years between a birth date and `on`, counted in Asia/Shanghai. */
function ageOn(birthDate: string, on: Date): number {
  const local = new Date(on.getTime() + 8 * 3_600_000);
  const [y, m, d] = birthDate.split("-").map(Number) as [number, number, number];
  let age = local.getUTCFullYear() - y;
  if (local.getUTCMonth() + 1 < m || (local.getUTCMonth() + 1 === m && local.getUTCDate() < d)) age--;
  return age;
}

/** The demo summary as lines for the terminal: masked contacts only. */
export function formatDemoSummary(summary: DemoSummary): string {
  const lines = [
    `Demo data: ${summary.subjects.length} players, ${summary.fields} encrypted personal fields, ${summary.messages} messages.`,
  ];
  for (const s of summary.subjects)
    lines.push(
      `  ${s.subjectId}  ${s.nickname.padEnd(8)} ${s.contact.padEnd(22)} ${s.age === undefined ? "not verified" : `age ${s.age}`}${s.child ? " (child: guardian consent required)" : ""}`,
    );
  return lines.join("\n");
}
