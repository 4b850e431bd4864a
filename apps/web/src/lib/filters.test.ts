import { describe, expect, it } from "vitest";
import type { PersonalInformationEntry, ThirdPartyEntry } from "../api/types.ts";
import {
  filterCategories,
  groupByChannel,
  normaliseOutbox,
  purposesOf,
  searchRecipients,
} from "./filters.ts";

const category = (over: Partial<PersonalInformationEntry>): PersonalInformationEntry => ({
  id: "c",
  name: "Category",
  description: "",
  items: ["item"],
  purposes: [],
  sensitivity: "general",
  sensitive: false,
  sensitivityLabel: "General",
  necessity: null,
  impact: null,
  storage: "server",
  storageLabel: "Our servers",
  region: "China",
  retention: null,
  retentionLabel: "Kept while the account exists",
  source: "user",
  sourceLabel: "You",
  children: false,
  ...over,
});

const recipient = (over: Partial<ThirdPartyEntry>): ThirdPartyEntry => ({
  id: "r",
  name: "Recipient",
  company: "Company",
  kind: "sdk",
  kindLabel: "SDK",
  relationship: "entrusted",
  relationshipLabel: "Entrusted",
  sdkPurposes: [],
  purposes: [],
  categories: [],
  region: "China",
  dataForm: "identified",
  dataFormLabel: "Identified",
  contact: "privacy@example.com",
  privacyPolicyUrl: null,
  enabled: true,
  statusLabel: "On",
  ...over,
});

describe("web list filters", () => {
  const location = category({
    id: "location",
    name: "Location",
    sensitive: true,
    purposes: [{ id: "nearby", name: "Nearby friends" }],
  });
  const device = category({
    id: "device",
    name: "Device",
    purposes: [
      { id: "security", name: "Account security" },
      { id: "nearby", name: "Nearby friends" },
    ],
  });

  it("MAN-7: the sensitivity filter keeps only sensitive (or only general) categories", () => {
    expect(filterCategories([location, device], { purpose: "", sensitivity: "sensitive" })).toEqual([
      location,
    ]);
    expect(filterCategories([location, device], { purpose: "", sensitivity: "general" })).toEqual([device]);
    expect(filterCategories([location, device], { purpose: "", sensitivity: "all" })).toHaveLength(2);
  });

  it("MAN-4: the purpose filter keeps categories used by that purpose; purposes are listed once", () => {
    expect(filterCategories([location, device], { purpose: "security", sensitivity: "all" })).toEqual([
      device,
    ]);
    expect(purposesOf([location, device]).map((p) => p.id)).toEqual(["nearby", "security"]);
  });

  it("MAN-4: third-party search matches every word across name, company, purposes and categories", () => {
    const ads = recipient({
      id: "ads",
      name: "Ad SDK",
      company: "Example Ads Ltd",
      purposes: [{ id: "a", name: "Advertising" }],
    });
    const pay = recipient({
      id: "pay",
      name: "支付服务",
      company: "示例支付有限公司",
      categories: [{ id: "t", name: "交易记录", sensitive: false }],
    });
    expect(searchRecipients([ads, pay], "example advertising")).toEqual([ads]);
    expect(searchRecipients([ads, pay], "交易")).toEqual([pay]);
    expect(searchRecipients([ads, pay], "  ")).toHaveLength(2);
    expect(searchRecipients([ads, pay], "nothing-like-this")).toEqual([]);
  });

  it("reads the dev outbox in any envelope and groups it by channel", () => {
    const messages = normaliseOutbox({
      messages: [
        { id: "1", channel: "email", to: "a***@example.com", subject: "Code", body: "Your code is ******" },
        {
          id: "2",
          channel: "sms",
          recipient: "138****1234",
          text: "Code ******",
          createdAt: "2025-01-01T00:00:00Z",
        },
      ],
    });
    expect(messages[1]).toMatchObject({
      to: "138****1234",
      body: "Code ******",
      sentAt: "2025-01-01T00:00:00Z",
    });
    expect([...groupByChannel(messages).keys()]).toEqual(["email", "sms"]);
    expect(normaliseOutbox([{ channel: "push" }])[0]?.channel).toBe("push");
    expect(normaliseOutbox("nonsense")).toEqual([]);
  });
});
