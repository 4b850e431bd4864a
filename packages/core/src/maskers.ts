/**
 * Desensitisation for display and export to staff (SEC-2). Pure functions: each keeps only the
 * part a person needs to recognise a record and replaces the rest with `*`.
 */

const STAR = "*";

function stars(n: number): string {
  return STAR.repeat(Math.max(0, n));
}

/** Mainland mobile 13812341234 → 138****1234; other lengths keep the first 3 and last 4 when long enough. */
export function maskPhone(phone: string): string {
  const trimmed = phone.trim();
  const plus = trimmed.startsWith("+");
  let digits = trimmed.replace(/\D/g, "");
  let prefix = "";
  if (plus && digits.startsWith("86") && digits.length === 13) {
    prefix = "+86 ";
    digits = digits.slice(2);
  }
  if (digits.length >= 8)
    return `${prefix}${digits.slice(0, 3)}${stars(digits.length - 7)}${digits.slice(-4)}`;
  if (digits.length >= 3) return `${prefix}${stars(digits.length - 2)}${digits.slice(-2)}`;
  return stars(digits.length);
}

/** Resident ID 11010519491231002X → 110***********002X (first 3, last 4). */
export function maskIdNumber(id: string): string {
  const v = id.trim().toUpperCase();
  if (v.length <= 4) return stars(v.length);
  if (v.length <= 7) return `${stars(v.length - 4)}${v.slice(-4)}`;
  return `${v.slice(0, 3)}${stars(v.length - 7)}${v.slice(-4)}`;
}

const HAN = /\p{Script=Han}/u;

/** 张三 → 张*, 欧阳娜娜 → 欧***; John Doe → J*** D**. */
export function maskName(name: string): string {
  const v = name.trim().replace(/\s+/g, " ");
  if (v.length === 0) return "";
  const chars = Array.from(v);
  if (HAN.test(v) && !v.includes(" ")) {
    return `${chars[0]}${stars(chars.length - 1)}`;
  }
  return v
    .split(" ")
    .map((word) => {
      const w = Array.from(word);
      return `${w[0] ?? ""}${stars(w.length - 1)}`;
    })
    .join(" ");
}

/** john.doe@example.com → j***@example.com (the domain stays). */
export function maskEmail(email: string): string {
  const v = email.trim();
  const at = v.lastIndexOf("@");
  if (at <= 0) return maskName(v).replace(/\s/g, "");
  const local = Array.from(v.slice(0, at));
  return `${local[0]}***${v.slice(at)}`;
}

const REGION_RE =
  /^(.*?(?:省|自治区|特别行政区|北京市|天津市|上海市|重庆市))?(.*?(?:市|自治州|地区|盟|区|县))?/u;

/**
 * Keeps the province and city, masks the rest:
 * 浙江省杭州市滨江区网商路599号 → 浙江省杭州市****; "1 Main St, Springfield, IL, US" → "****, Springfield, IL, US".
 */
export function maskAddress(address: string): string {
  const v = address.trim();
  if (v.length === 0) return "";
  if (HAN.test(v)) {
    const m = REGION_RE.exec(v);
    const province = m?.[1] ?? "";
    const city = m?.[2] ?? "";
    const kept = `${province}${city}`;
    if (kept.length === 0 || kept.length >= v.length) return `${Array.from(v).slice(0, 2).join("")}****`;
    return `${kept}****`;
  }
  const parts = v
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length <= 1) return "****";
  // Western order: street first, region last; keep the last (up to) three parts (city, state, country).
  const keep = Math.min(3, parts.length - 1);
  return ["****", ...parts.slice(parts.length - keep)].join(", ");
}

/** 6222021234567891234 → **** **** **** 1234. */
export function maskBankCard(card: string): string {
  const digits = card.replace(/\D/g, "");
  if (digits.length < 4) return "****";
  return `**** **** **** ${digits.slice(-4)}`;
}

export const maskers = {
  phone: maskPhone,
  idNumber: maskIdNumber,
  name: maskName,
  email: maskEmail,
  address: maskAddress,
  bankCard: maskBankCard,
} as const;

export type MaskKind = keyof typeof maskers;

export function mask(kind: MaskKind, value: string): string {
  return maskers[kind](value);
}
