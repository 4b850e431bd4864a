import { z } from "zod";

/**
 * Pure input rules for accounts (ACC-1). Contacts are normalised before they are indexed, so
 * "+86 138 1234 5678" and "13812345678" are the same account.
 */

export type ContactKind = "phone" | "email";
export type Contact = { kind: ContactKind; value: string };

/** Mainland China mobile number: 11 digits, 1[3-9]…; an optional +86/0086 prefix and spaces or dashes are dropped. */
export function parsePhone(input: string): string | undefined {
  const compact = input.normalize("NFKC").replace(/[\s-]/g, "");
  const digits = compact.replace(/^(\+86|0086)/, "");
  return /^1[3-9]\d{9}$/.test(digits) ? digits : undefined;
}

export function parseEmail(input: string): string | undefined {
  const v = input.normalize("NFKC").trim().toLowerCase();
  return v.length <= 254 && z.email().safeParse(v).success ? v : undefined;
}

/** A contact is an email when it contains "@", otherwise a mainland mobile number. */
export function parseContact(input: string): Contact | undefined {
  if (input.includes("@")) {
    const email = parseEmail(input);
    return email ? { kind: "email", value: email } : undefined;
  }
  const phone = parsePhone(input);
  return phone ? { kind: "phone", value: phone } : undefined;
}

export const USERNAME_RE = /^[A-Za-z0-9_]{3,32}$/;

/** Usernames are case-insensitive: stored and indexed in lower case. */
export function normaliseUsername(input: string): string | undefined {
  const v = input.normalize("NFKC").trim();
  return USERNAME_RE.test(v) ? v.toLowerCase() : undefined;
}

export type Identifier = { kind: "phone" | "email" | "username"; value: string };

/** What a person signs in with: phone, email or username. */
export function parseIdentifier(input: string): Identifier | undefined {
  const contact = parseContact(input);
  if (contact) return contact;
  const username = normaliseUsername(input);
  return username ? { kind: "username", value: username } : undefined;
}

export type PasswordProblem = "length" | "classes" | "contains_username";

/**
 * 8-128 characters, at least two of lower case, upper case, digits and other characters, and not
 * containing the username (case-insensitive).
 */
export function passwordProblems(password: string, username?: string): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const length = [...password].length;
  if (length < 8 || length > 128) problems.push("length");
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 2) problems.push("classes");
  if (username && username.length >= 3 && password.toLowerCase().includes(username.toLowerCase()))
    problems.push("contains_username");
  return problems;
}

export const PASSWORD_RULES =
  "8 to 128 characters, mixing at least two of: lower-case letters, upper-case letters, digits, other characters; and not containing the username";

/**
 * Browser and OS family only (never the full user agent, a fingerprinting aid): e.g. "Chrome on Linux".
 */
export function summariseUserAgent(ua: string | undefined): string {
  if (!ua) return "Unknown client";
  const s = ua.slice(0, 1000);
  const browser = /Edg\//.test(s)
    ? "Edge"
    : /OPR\//.test(s)
      ? "Opera"
      : /Firefox\//.test(s)
        ? "Firefox"
        : /Chrom(e|ium)\//.test(s)
          ? "Chrome"
          : /Safari\//.test(s)
            ? "Safari"
            : /curl\//i.test(s)
              ? "curl"
              : /node|undici|axios|python|okhttp|go-http/i.test(s)
                ? "API client"
                : "Other browser";
  const os = /Windows/.test(s)
    ? "Windows"
    : /Android/.test(s)
      ? "Android"
      : /iPhone|iPad|iOS/.test(s)
        ? "iOS"
        : /Mac OS X|Macintosh/.test(s)
          ? "macOS"
          : /Linux|X11/.test(s)
            ? "Linux"
            : "unknown OS";
  return `${browser} on ${os}`;
}

/** The /24 (IPv4) or /48 (IPv6) network of an address, for coarse display. */
export function truncateIp(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(":")) return `${ip.split(":").slice(0, 3).join(":")}::/48`;
  return "unknown";
}
