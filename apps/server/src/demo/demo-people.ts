import { makeResidentId, type StaffRole } from "@custos/core";

/**
 * Who the demo data is about: players of MuMuPlayer Pro, and one staff member per role. Kept apart
 * from the seeding code (and free of I/O) so that the test run's log scan (SEC-6,
 * test/global-setup.ts) can list every demo value it must never find in a log.
 */

export type DemoPerson = {
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

/** The resident ID number of PEOPLE[i] (only for people with a birth date). */
export function demoIdNumber(i: number): string | undefined {
  const person = PEOPLE[i];
  if (!person?.birthDate) return undefined;
  return makeResidentId(person.regionCode, person.birthDate, 100 + i * 2 + 1);
}

export type DemoStaffMember = { role: StaffRole; email: string; displayName: string };

/** One demo staff member per role (ACC-5, SEC-3); `start --demo` prints their sign-in details once. */
export const DEMO_STAFF: readonly DemoStaffMember[] = [
  { role: "admin", email: "ada.admin@staff.example", displayName: "Ada Admin" },
  { role: "privacy-officer", email: "pat.privacy@staff.example", displayName: "Pat Privacy" },
  { role: "children-officer", email: "cora.children@staff.example", displayName: "Cora Children" },
  { role: "support-agent", email: "sam.support@staff.example", displayName: "Sam Support" },
  { role: "security-analyst", email: "sid.security@staff.example", displayName: "Sid Security" },
  { role: "auditor", email: "audrey.auditor@staff.example", displayName: "Audrey Auditor" },
];

export type DemoValueKind = "email" | "phone" | "id-number" | "name";

/**
 * Every identifying value of the demo: players' and guardians' emails, phones, names and ID
 * numbers, and staff emails and names.
 */
export function demoPersonalValues(): { kind: DemoValueKind; value: string }[] {
  const out: { kind: DemoValueKind; value: string }[] = [];
  for (const [i, p] of PEOPLE.entries()) {
    out.push({ kind: "name", value: p.name });
    if (p.phone) out.push({ kind: "phone", value: p.phone });
    if (p.email) out.push({ kind: "email", value: p.email });
    if (p.guardian) {
      out.push({ kind: "phone", value: p.guardian.phone });
      out.push({ kind: "email", value: p.guardian.email });
    }
    const id = demoIdNumber(i);
    if (id) out.push({ kind: "id-number", value: id });
  }
  for (const s of DEMO_STAFF) {
    out.push({ kind: "email", value: s.email });
    out.push({ kind: "name", value: s.displayName });
  }
  return out;
}
