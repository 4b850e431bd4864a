import { describe, expect, it } from "vitest";
import {
  decideField,
  type MaskingGrant,
  type MaskingManifest,
  maskForRecipient,
  maskGeneric,
  maskRecord,
} from "./masking-policy.ts";
import type { StaffRole } from "./permissions.ts";

const manifest: MaskingManifest = {
  categories: [
    {
      id: "contact",
      grade: 2,
      fields: [
        { id: "phone", kind: "phone" },
        { id: "email", kind: "email" },
        { id: "name", kind: "name" },
        { id: "en-name", kind: "name" },
        { id: "address", kind: "address" },
        { id: "nickname", kind: "text" },
      ],
    },
    {
      id: "real-name",
      grade: 4,
      fields: [
        { id: "name", kind: "name" },
        { id: "id-number", kind: "id-number" },
      ],
    },
    { id: "payment", grade: 3, fields: [{ id: "card", kind: "bank-card" }] },
    { id: "registration", grade: 2, fields: [{ id: "password", kind: "password-hash" }] },
    { id: "child-profile", grade: 2, children: true, fields: [{ id: "school", kind: "text" }] },
  ],
  recipients: [
    { id: "courier", categories: ["contact"], dataForm: "identified" },
    { id: "analytics", categories: ["contact", "payment"], dataForm: "pseudonymised" },
    { id: "switched-off", categories: ["contact"], dataForm: "identified", enabled: false },
  ],
};

const subject = "7d0c6f3e-4a35-4f34-9d0b-0f6a1c2b9a11";
const now = new Date("2026-03-01T10:00:00Z");
const grant = (categories: string[], extra: Partial<MaskingGrant> = {}): MaskingGrant => ({
  scope: "subject-pi",
  status: "approved",
  categories,
  subjectId: subject,
  expiresAt: new Date("2026-03-01T12:00:00Z"),
  ...extra,
});

const record = {
  contact: {
    phone: "13812341234",
    email: "john.doe@example.com",
    name: "张三",
    "en-name": "John Doe",
    address: "浙江省杭州市滨江区网商路599号",
    nickname: "Waves",
  },
  "real-name": { name: "欧阳娜娜", "id-number": "11010519491231002X" },
  payment: { card: "6222021234567891234" },
  registration: { password: "$argon2id$v=19$m=65536,t=3,p=4$abc$def" },
  "child-profile": { school: "Hangzhou No. 2 Primary" },
};

describe("masking policy (SEC-2, SEC-5)", () => {
  it.each([
    ["contact", "phone", "138****1234"],
    ["contact", "email", "j***@example.com"],
    ["contact", "name", "张*"],
    ["contact", "en-name", "J*** D**"],
    ["contact", "address", "浙江省杭州市****"],
    ["contact", "nickname", "W****"],
    ["real-name", "name", "欧***"],
    ["real-name", "id-number", "110***********002X"],
    ["payment", "card", "**** **** **** 1234"],
  ])(
    "SEC-2: a support agent with a grant sees %s.%s masked as %s (Chinese presets)",
    (category, field, masked) => {
      const viewer = { role: "support-agent" as const, grants: [grant(["real-name", "payment"])], now };
      const seen = maskRecord(manifest, viewer, record, subject);
      expect(seen[category]?.[field]).toBe(masked);
    },
  );

  const cases: [StaffRole, string, string, MaskingGrant[], string][] = [
    // role, category, field, grants, expected mode
    ["admin", "contact", "phone", [grant(["contact"])], "hidden"],
    ["auditor", "contact", "phone", [grant(["contact"])], "hidden"],
    ["support-agent", "contact", "phone", [], "masked"],
    ["support-agent", "contact", "phone", [grant(["contact"])], "clear"],
    ["privacy-officer", "contact", "email", [grant(["contact"])], "clear"],
    ["security-analyst", "contact", "phone", [grant(["contact"])], "masked"],
    ["support-agent", "contact", "phone", [grant(["contact"], { status: "pending" })], "masked"],
    [
      "support-agent",
      "contact",
      "phone",
      [grant(["contact"], { expiresAt: new Date("2026-03-01T09:00:00Z") })],
      "masked",
    ],
    [
      "support-agent",
      "contact",
      "phone",
      [grant(["contact"], { subjectId: "00000000-0000-4000-8000-000000000000" })],
      "masked",
    ],
    ["support-agent", "real-name", "id-number", [], "hidden"],
    ["support-agent", "real-name", "id-number", [grant(["real-name"])], "masked"],
    ["privacy-officer", "real-name", "id-number", [grant(["real-name"])], "masked"],
    ["support-agent", "payment", "card", [grant(["payment"])], "masked"],
    ["privacy-officer", "registration", "password", [grant(["registration"])], "hidden"],
    ["support-agent", "child-profile", "school", [grant(["child-profile"])], "hidden"],
    [
      "children-officer",
      "child-profile",
      "school",
      [grant(["child-profile"], { scope: "children-pi" })],
      "clear",
    ],
    ["support-agent", "contact", "undeclared", [grant(["contact"])], "hidden"],
    ["support-agent", "nowhere", "phone", [grant(["nowhere"])], "hidden"],
  ];
  it.each(cases)("SEC-2: %s sees %s.%s with grants %j → %s", (role, category, field, grants, mode) => {
    expect(decideField(manifest, { role, grants, now }, category, field, subject).mode).toBe(mode);
  });

  it("SEC-2: maskRecord leaves hidden fields out and never returns clear values without a grant", () => {
    const seen = maskRecord(manifest, "support-agent", record, subject);
    expect(Object.keys(seen)).toEqual(["contact"]);
    const text = JSON.stringify(seen);
    for (const secret of [
      "13812341234",
      "john.doe",
      "张三",
      "网商路",
      "11010519491231002X",
      "6222021234567891234",
    ])
      expect(text).not.toContain(secret);
    expect(maskRecord(manifest, "admin", record, subject)).toEqual({});
  });

  it("SEC-2: exports to a third party are masked unless the manifest marks the recipient as identified", () => {
    const pseudonymised = maskForRecipient(manifest, "analytics", record);
    expect(pseudonymised).toEqual({
      contact: {
        phone: "138****1234",
        email: "j***@example.com",
        name: "张*",
        "en-name": "J*** D**",
        address: "浙江省杭州市****",
        nickname: "W****",
      },
      payment: { card: "**** **** **** 1234" },
    });
    // Identified recipient: clear, but only the categories it is declared to receive.
    expect(maskForRecipient(manifest, "courier", record)).toEqual({ contact: record.contact });
    expect(maskForRecipient(manifest, "switched-off", record)).toEqual({});
    expect(maskForRecipient(manifest, "unknown", record)).toEqual({});
  });

  it("SEC-2: the generic masker keeps at most the first and last character", () => {
    expect(maskGeneric("ab")).toBe("**");
    expect(maskGeneric("Waves")).toBe("W****");
    expect(maskGeneric("MU20260100")).toBe("M********0");
  });
});
