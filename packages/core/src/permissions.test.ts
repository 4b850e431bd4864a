import { describe, expect, it } from "vitest";
import {
  can,
  canDecideGrant,
  canRequestGrant,
  controlsFor,
  fieldVisibility,
  STAFF_OPERATIONS,
  STAFF_ROLES,
  type StaffOperation,
  type StaffRole,
} from "./permissions.ts";

/**
 * The expected matrix, written out by hand (SEC-3). Columns, in order:
 * staff.manage staff.read training.record config.manage grant.request grant.read grant.approve
 * grant.approve-children subject.read-masked subject.read-children subject.export-bulk audit.read
 * audit.verify incident.manage request.handle manifest.publish outbox.read report.read
 */
const COLUMNS: readonly StaffOperation[] = [
  "staff.manage",
  "staff.read",
  "training.record",
  "config.manage",
  "grant.request",
  "grant.read",
  "grant.approve",
  "grant.approve-children",
  "subject.read-masked",
  "subject.read-children",
  "subject.export-bulk",
  "audit.read",
  "audit.verify",
  "incident.manage",
  "request.handle",
  "manifest.publish",
  "outbox.read",
  "report.read",
];
// prettier-ignore
const EXPECTED: Record<StaffRole, string> = {
  //                  sm sr tr cm gq gr ga gc sm sc se ar av im rh mp or rr
  admin: "1  1  1  1  0  0  0  0  0  0  0  0  0  0  0  0  1  1",
  "privacy-officer": "0  1  1  0  1  1  1  0  1  0  1  0  0  1  1  1  0  1",
  "children-officer": "0  1  0  0  1  1  0  1  1  1  0  0  0  0  1  0  0  0",
  "support-agent": "0  0  0  0  1  0  0  0  1  0  0  0  0  0  1  0  0  0",
  "security-analyst": "0  0  0  0  1  0  0  0  1  0  0  1  1  1  0  0  1  0",
  auditor: "0  0  0  0  0  1  0  0  0  0  0  1  1  0  0  0  0  0",
};

const cases = STAFF_ROLES.flatMap((role) => {
  const bits = EXPECTED[role].split(/\s+/);
  return COLUMNS.map((op, i) => ({ role, op, expected: bits[i] === "1" }));
});

describe("staff permissions (SEC-3)", () => {
  it("SEC-3: the written-out matrix covers every role and every operation", () => {
    expect([...COLUMNS].sort()).toEqual([...STAFF_OPERATIONS].sort());
    for (const role of STAFF_ROLES) expect(EXPECTED[role].split(/\s+/)).toHaveLength(COLUMNS.length);
    expect(cases).toHaveLength(STAFF_ROLES.length * STAFF_OPERATIONS.length);
  });

  it.each(cases)("SEC-3: $role × $op → $expected", ({ role, op, expected }) => {
    expect(can(role, op)).toBe(expected);
  });

  it("SEC-3: duties are separated: admin reads no PI, auditor only reads logs, nobody both manages staff and reads PI", () => {
    const piOps = STAFF_OPERATIONS.filter((op) => op.startsWith("subject.") || op === "grant.request");
    expect(piOps.some((op) => can("admin", op))).toBe(false);
    const auditorOps = STAFF_OPERATIONS.filter((op) => can("auditor", op));
    expect(auditorOps).toEqual(["grant.read", "audit.read", "audit.verify"]);
    for (const role of STAFF_ROLES)
      expect(can(role, "staff.manage") && piOps.some((op) => can(role, op))).toBe(false);
    expect(STAFF_ROLES.filter((role) => can(role, "grant.approve-children"))).toEqual(["children-officer"]);
    expect(can("support-agent", "subject.export-bulk")).toBe(false);
  });

  it("SEC-3, CHD-8: nobody decides their own grant; children's grants only by the children's officer", () => {
    expect(
      canDecideGrant({
        approverId: "a",
        approverRole: "privacy-officer",
        requesterId: "a",
        scope: "subject-pi",
      }),
    ).toMatchObject({ allowed: false, reason: "own_grant" });
    expect(
      canDecideGrant({
        approverId: "a",
        approverRole: "privacy-officer",
        requesterId: "b",
        scope: "subject-pi",
      }),
    ).toEqual({ allowed: true });
    expect(
      canDecideGrant({
        approverId: "a",
        approverRole: "privacy-officer",
        requesterId: "b",
        scope: "children-pi",
      }),
    ).toMatchObject({ allowed: false, reason: "approver_role" });
    expect(
      canDecideGrant({
        approverId: "a",
        approverRole: "children-officer",
        requesterId: "b",
        scope: "children-pi",
      }),
    ).toEqual({ allowed: true });
    expect(
      canDecideGrant({
        approverId: "a",
        approverRole: "children-officer",
        requesterId: "b",
        scope: "bulk-export",
      }),
    ).toMatchObject({ allowed: false });
    expect(
      canDecideGrant({ approverId: "a", approverRole: "admin", requesterId: "b", scope: "subject-pi" }),
    ).toMatchObject({ allowed: false, message: expect.stringMatching(/grant\.approve/) });
  });

  it("SEC-3: only roles that can use a scope may request it; bulk export is the privacy officer's", () => {
    expect(canRequestGrant("support-agent", "subject-pi")).toEqual({ allowed: true });
    expect(canRequestGrant("support-agent", "children-pi")).toMatchObject({ allowed: false });
    expect(canRequestGrant("support-agent", "bulk-export")).toMatchObject({ allowed: false });
    expect(canRequestGrant("privacy-officer", "bulk-export")).toEqual({ allowed: true });
    expect(canRequestGrant("children-officer", "children-pi")).toEqual({ allowed: true });
    expect(canRequestGrant("admin", "subject-pi")).toMatchObject({ allowed: false });
    expect(canRequestGrant("auditor", "subject-pi")).toMatchObject({ allowed: false });
  });

  it("SEC-5: a category's grade sets its controls; children's categories need the children's officer", () => {
    expect(controlsFor({ id: "logs", grade: 2 })).toMatchObject({
      grantRequired: false,
      approvalRequired: false,
      masked: true,
      scope: "subject-pi",
    });
    expect(controlsFor({ id: "registration", grade: 3 })).toMatchObject({
      grantRequired: true,
      approvalRequired: false,
    });
    expect(controlsFor({ id: "location", grade: 4 })).toMatchObject({
      grantRequired: true,
      approvalRequired: true,
      approverOperation: "grant.approve",
    });
    expect(controlsFor({ id: "guardian", grade: 2, children: true })).toMatchObject({
      grantRequired: true,
      approvalRequired: true,
      scope: "children-pi",
      approverOperation: "grant.approve-children",
    });
  });

  it("SEC-2: field visibility depends on role and kind; password hashes are never shown", () => {
    for (const role of STAFF_ROLES) expect(fieldVisibility(role, "password-hash")).toBe("hidden");
    expect(fieldVisibility("support-agent", "phone")).toBe("masked");
    expect(fieldVisibility("support-agent", "text")).toBe("hidden");
    expect(fieldVisibility("privacy-officer", "text")).toBe("masked");
    expect(fieldVisibility("privacy-officer", "amount")).toBe("plain");
    expect(fieldVisibility("security-analyst", "amount")).toBe("hidden");
  });
});
