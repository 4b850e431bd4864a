import { type Clock, makeResidentId, maskEmail, maskName, maskPhone, newId, systemClock } from "@custos/core";
import type { Manifest } from "@custos/manifest";
import { createSubjectFieldRepo, type DB, type Vault } from "@custos/store";
import type { Kysely } from "kysely";
import type { Notifier } from "../notifications/notifier.ts";

/**
 * Realistic demo data: players of MuMuPlayer Pro with their registration data, real-name records,
 * a child with a guardian, and activity (logins, orders, top-ups, posts, support tickets,
 * interest tags, in-app messages). Personal fields go through the vault like real data.
 */

type DemoPerson = {
  nickname: string;
  name: string;
  phone?: string;
  email?: string;
  locale: "en" | "zh-CN";
  /** Birth date for real-name authentication; absent when the player has not verified yet. */
  birthDate?: string;
  regionCode: string;
  guardian?: { phone: string; email: string };
  orders: number;
  tags: string[];
};

export const PEOPLE: DemoPerson[] = [
  {
    nickname: "青山",
    name: "张伟",
    phone: "13800138001",
    locale: "zh-CN",
    birthDate: "1990-04-12",
    regionCode: "110105",
    orders: 3,
    tags: ["策略", "模拟经营"],
  },
  {
    nickname: "LinLin",
    name: "李娜",
    phone: "13912345678",
    email: "lina.demo@example.com",
    locale: "zh-CN",
    birthDate: "1995-09-30",
    regionCode: "310101",
    orders: 5,
    tags: ["角色扮演", "二次元"],
  },
  {
    nickname: "Waves",
    name: "Jane Doe",
    email: "jane.doe@example.com",
    locale: "en",
    birthDate: "1988-01-15",
    regionCode: "440305",
    orders: 1,
    tags: ["racing", "puzzle"],
  },
  {
    nickname: "小雨",
    name: "王芳",
    phone: "13698765432",
    locale: "zh-CN",
    birthDate: "2015-06-01",
    regionCode: "330106",
    guardian: { phone: "13511112222", email: "guardian.wang@example.com" },
    orders: 0,
    tags: ["益智"],
  },
  {
    nickname: "Orbit",
    name: "Chen Jie",
    phone: "13722223333",
    email: "chen.jie@example.com",
    locale: "en",
    birthDate: "2009-11-20",
    regionCode: "510104",
    orders: 2,
    tags: ["shooter", "esports"],
  },
  {
    nickname: "晨光",
    name: "刘洋",
    phone: "13633334444",
    locale: "zh-CN",
    regionCode: "420102",
    orders: 0,
    tags: [],
  },
  {
    nickname: "Maple",
    name: "John Smith",
    email: "john.smith@example.com",
    locale: "en",
    birthDate: "1979-03-08",
    regionCode: "110108",
    orders: 4,
    tags: ["strategy", "card games"],
  },
  {
    nickname: "星河",
    name: "赵敏",
    phone: "13544445555",
    email: "zhao.min@example.com",
    locale: "zh-CN",
    birthDate: "2000-12-24",
    regionCode: "320102",
    orders: 6,
    tags: ["音乐", "休闲"],
  },
];

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
};

export type SeedDemoDeps = {
  db: Kysely<DB>;
  vault: Vault;
  notifier: Notifier;
  manifest: Manifest;
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
  const summary: DemoSummary = { subjects: [], fields: 0, messages: 0 };

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
        await put(
          "real-name",
          "id-number",
          makeResidentId(person.regionCode, person.birthDate, 100 + i * 2 + 1),
          "id_number",
        );
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
  return summary;
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
