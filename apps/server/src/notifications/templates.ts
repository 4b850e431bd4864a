import { AppError } from "@custos/core";
import type { Language } from "@custos/manifest";
import { z } from "zod";

/**
 * Message templates are code: each has a data schema and a text per language (en, zh-CN).
 * A template never receives the recipient's address, so a rendered body holds only what the
 * caller passed in `data`.
 */

type Rendered = { subject: string; text: string };
type Template<S extends z.ZodType> = {
  data: S;
  render: Record<Language, (data: z.output<S>) => Rendered>;
};

const template = <S extends z.ZodType>(t: Template<S>) => t;

const text = (max: number) => z.string().min(1).max(max);

export const TEMPLATES = {
  "verification-code": template({
    data: z.strictObject({
      code: z.string().regex(/^\d{4,8}$/, "expected a 4 to 8 digit code"),
      minutes: z.number().int().min(1).max(60).default(10),
    }),
    render: {
      en: (d) => ({
        subject: "Your verification code",
        text: `Your verification code is ${d.code}. It expires in ${d.minutes} minutes.\nIf you did not ask for it, ignore this message; never share the code with anyone.`,
      }),
      "zh-CN": (d) => ({
        subject: "您的验证码",
        text: `您的验证码是 ${d.code}，${d.minutes} 分钟内有效。\n如非本人操作，请忽略本消息；请勿将验证码告诉任何人。`,
      }),
    },
  }),
  "policy-updated": template({
    data: z.strictObject({
      version: text(40),
      effectiveDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD"),
      url: z.url().max(500),
    }),
    render: {
      en: (d) => ({
        subject: "We are updating our privacy policy",
        text: `Our privacy policy changes with version ${d.version}, in force from ${d.effectiveDate}.\nRead what changes and make your choices at ${d.url}`,
      }),
      "zh-CN": (d) => ({
        subject: "隐私政策更新通知",
        text: `我们的隐私政策将更新为 ${d.version} 版，自 ${d.effectiveDate} 起生效。\n请访问 ${d.url} 查看变更内容并作出选择。`,
      }),
    },
  }),
  "generic-notice": template({
    data: z.strictObject({ title: text(200), body: text(4000) }),
    render: {
      en: (d) => ({ subject: d.title, text: d.body }),
      "zh-CN": (d) => ({ subject: d.title, text: d.body }),
    },
  }),
} as const;

export type TemplateId = keyof typeof TEMPLATES;
export const TEMPLATE_IDS = Object.keys(TEMPLATES) as TemplateId[];

export function isTemplateId(value: string): value is TemplateId {
  return Object.hasOwn(TEMPLATES, value);
}

/** Renders a template, refusing unknown ids and bad data with a message naming the field. */
export function renderTemplate(id: string, locale: Language, data: unknown): Rendered {
  if (!isTemplateId(id))
    throw new AppError("validation_failed", {
      message: `Unknown message template "${id.slice(0, 64)}". Use one of: ${TEMPLATE_IDS.join(", ")}.`,
    });
  const t = TEMPLATES[id] as Template<z.ZodType>;
  const parsed = t.data.safeParse(data ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      field: `data.${i.path.join(".")}`,
      message: i.message,
    }));
    throw new AppError("validation_failed", {
      message: `The data for template "${id}" is invalid (${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}).`,
      details: { issues },
    });
  }
  return t.render[locale](parsed.data);
}
