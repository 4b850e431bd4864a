import {
  type PersonalInformationList,
  personalInformationList,
  type ThirdPartyList,
  thirdPartyList,
} from "./lists.ts";
import type { Block, Section } from "./model.ts";
import {
  CROSS_BORDER_REQUIRES,
  type Ctx,
  defaultRegion,
  docLink,
  isSensitivePurpose,
  label,
  legalBasisName,
  link,
  p,
  regionLabel,
  retentionLabel,
  row,
  SENSITIVITY,
  section,
  strong,
  table,
} from "./text.ts";

export function personalInformationIntro(ctx: Ctx): Block[] {
  const { tr } = ctx;
  return [
    p(
      tr(
        "This list shows every kind of personal information we collect, what it consists of, which purposes use it, where and how long we keep it. Sensitive personal information is highlighted. How we use it is explained in the ",
        "本清单列出我们收集的每一类个人信息、具体内容、使用该信息的目的，以及存储地点和保存期限。敏感个人信息已突出标示。具体使用方式请见",
      ),
      docLink(tr("Privacy Policy", "《隐私政策》"), "privacy-policy"),
      tr(".", "。"),
    ),
  ];
}

export function personalInformationSections(ctx: Ctx): Section[] {
  const list: PersonalInformationList = personalInformationList(ctx.manifest, ctx.lang);
  const { tr } = ctx;
  const h = [tr("Attribute", "项目"), tr("Details", "内容")];
  return list.categories.map((c) => {
    const rows = [
      row([tr("Items", "具体信息"), c.items.join(tr("; ", "；"))]),
      row([tr("Purposes", "使用目的"), ctx.join(c.purposes.map((x) => x.name))], c.sensitive),
      row([tr("Sensitivity", "敏感程度"), c.sensitivityLabel], c.sensitive),
    ];
    if (c.necessity) rows.push(row([tr("Why it is necessary", "必要性"), c.necessity], true));
    if (c.impact) rows.push(row([tr("Impact on you", "对您的影响"), c.impact], true));
    rows.push(
      row([tr("Source", "来源"), c.sourceLabel]),
      row([tr("Storage", "存储方式"), c.storageLabel]),
      row([tr("Region", "存储地点"), c.region ?? tr("None: never leaves the device", "无：不离开设备")]),
      row([tr("Retention", "保存期限"), c.retentionLabel]),
    );
    return section(`category-${c.id}`, c.name, [p(c.description), table(h, rows)], {
      highlight: c.sensitive,
    });
  });
}

export function thirdPartyIntro(ctx: Ctx): Block[] {
  const { tr } = ctx;
  return [
    p(
      tr(
        "This list names every third party that receives personal information from us or collects it through our product (for example through an SDK), what it receives, why, and how to reach it. A recipient marked as switched off receives nothing. The rules that apply are in the ",
        "本清单列出从我们处接收个人信息或通过我们的产品（例如通过SDK）收集个人信息的每一个第三方，包括其接收的信息、目的和联系方式。标注为已关闭的接收方不会收到任何信息。相关规则请见",
      ),
      docLink(tr("Privacy Policy", "《隐私政策》"), "privacy-policy"),
      tr(".", "。"),
    ),
  ];
}

export function thirdPartySections(ctx: Ctx): Section[] {
  const list: ThirdPartyList = thirdPartyList(ctx.manifest, ctx.lang);
  const { tr } = ctx;
  const h = [tr("Attribute", "项目"), tr("Details", "内容")];
  return list.recipients.map((r) => {
    const sensitive = r.categories.filter((c) => c.sensitive);
    const rows = [
      row([tr("Status", "状态"), r.statusLabel], !r.enabled),
      row([tr("Company", "公司名称"), r.company]),
      row([tr("Type", "类型"), r.kindLabel]),
      row([tr("Relationship", "合作方式"), r.relationshipLabel]),
      row([tr("SDK purposes", "SDK用途"), ctx.join(r.sdkPurposes.map((s) => s.name))]),
      row([tr("Purposes", "处理目的"), ctx.join(r.purposes.map((s) => s.name))]),
      row(
        [tr("Personal information", "个人信息"), ctx.join(r.categories.map((s) => s.name))],
        sensitive.length > 0,
      ),
      row([tr("Region", "所在地区"), r.region]),
      row([tr("Form of the data", "数据形式"), r.dataFormLabel]),
      row([tr("Contact", "联系方式"), r.contact]),
      row([tr("Privacy policy", "隐私政策"), r.privacyPolicyUrl ?? tr("Not provided", "未提供")]),
    ];
    const blocks: Block[] = [];
    if (!r.enabled)
      blocks.push(
        p(
          strong(
            tr(
              "Switched off: this recipient no longer receives any personal information from us.",
              "已关闭：该接收方已不再从我们处接收任何个人信息。",
            ),
          ),
        ),
      );
    if (r.privacyPolicyUrl)
      blocks.push(
        p(tr("Its own privacy policy: ", "其隐私政策："), link(r.privacyPolicyUrl, r.privacyPolicyUrl)),
      );
    blocks.push(table(h, rows));
    const heading = r.enabled ? r.name : `${r.name}${tr(" (switched off)", "（已关闭）")}`;
    return section(`recipient-${r.id}`, heading, blocks, { highlight: sensitive.length > 0 });
  });
}

export function processingRecordIntro(ctx: Ctx): Block[] {
  const { tr } = ctx;
  return [
    p(
      tr(
        "Record of processing activities in the sense of Article 30 GDPR, generated from the privacy manifest: one entry per processing purpose.",
        "依据《通用数据保护条例》（GDPR）第30条编制的处理活动记录，由隐私清单自动生成：每个处理目的一条记录。",
      ),
    ),
  ];
}

export function processingRecordSections(ctx: Ctx): Section[] {
  const { tr, loc, manifest: m } = ctx;
  const controller = section("controller", tr("Controller", "个人信息处理者"), [
    table(
      [tr("Attribute", "项目"), tr("Details", "内容")],
      [
        row([tr("Name", "名称"), loc(m.controller.name)]),
        row([tr("Address", "地址"), loc(m.controller.address)]),
        row([tr("Group", "所属集团"), loc(m.controller.group)]),
        row([
          tr("Privacy contact", "个人信息保护联系人"),
          `${loc(m.contact.department)} <${m.contact.email}>`,
        ]),
        row([
          tr("Response time", "答复时限"),
          tr(`${m.contact.responseWorkingDays} working days`, `${m.contact.responseWorkingDays}个工作日`),
        ]),
      ],
    ),
  ]);
  const security = [
    tr("encryption at rest and in transit", "存储和传输加密"),
    tr("per-person data keys", "按个人分配的数据密钥"),
    tr("role-based access with multi-factor authentication", "基于角色的访问控制和多因素认证"),
    tr("access logging and audit", "访问日志与审计"),
    tr("masking when displayed", "展示时脱敏"),
  ];
  const purposes = m.purposes.map((pu) => {
    const sensitive = isSensitivePurpose(ctx, pu);
    const cats = pu.categories.map((id) => ctx.category(id)).filter((c) => c !== undefined);
    const sensitiveCats = cats.filter((c) => c.sensitivity === "sensitive");
    const subjects = new Set<string>([tr("Users of the product", "产品用户")]);
    for (const c of cats) {
      if (c.classification === "children" || (c.children && c.classification !== "guardian"))
        subjects.add(tr("Children", "儿童"));
      if (c.classification === "guardian" || c.source === "guardian") subjects.add(tr("Guardians", "监护人"));
    }
    const recipients = pu.recipients.map((id) => {
      const r = ctx.recipient(id);
      if (r) return `${loc(r.name)} (${loc(r.company)})${r.enabled ? "" : tr(", switched off", "，已关闭")}`;
      const a = m.affiliates.find((x) => x.id === id);
      return a ? loc(a.name) : id;
    });
    const regions = [
      ...new Set([
        ...cats
          .filter((c) => c.storage === "server")
          .map((c) => regionLabel(ctx, c.region ?? defaultRegion(ctx)?.id)),
        ...pu.recipients.flatMap((id) => {
          const r = ctx.recipient(id);
          return r ? [regionLabel(ctx, r.region)] : [];
        }),
      ]),
    ];
    const defaultCountry = (m.regions.find((r) => r.default) ?? m.regions[0])?.country;
    const abroad = pu.recipients.some((id) => {
      const r = ctx.recipient(id);
      const region = r ? m.regions.find((x) => x.id === r.region) : undefined;
      return region !== undefined && region.country !== defaultCountry;
    });
    const crossBorder = abroad
      ? tr(
          `Yes, with ${ctx.join(m.crossBorder.requires.map((r) => label(ctx, CROSS_BORDER_REQUIRES, r)))}`,
          `是，已取得${ctx.join(m.crossBorder.requires.map((r) => label(ctx, CROSS_BORDER_REQUIRES, r)))}`,
        )
      : tr("No", "否");
    const rows = [
      row([tr("Description", "说明"), loc(pu.description)]),
      row([tr("Legal basis", "合法性基础"), `${legalBasisName(ctx, pu.legalBasis)} (${pu.dpv})`]),
      row(
        [
          tr("Categories of personal information", "个人信息类别"),
          ctx.join(
            cats.map(
              (c) =>
                `${loc(c.name)}${c.sensitivity === "sensitive" ? ` [${label(ctx, SENSITIVITY, "sensitive")}]` : ""}`,
            ),
          ),
        ],
        sensitive,
      ),
      ...sensitiveCats.map((c) =>
        row(
          [
            `${loc(c.name)}: ${tr("necessity and impact", "必要性与影响")}`,
            [c.necessity, c.impact]
              .filter((x) => x !== undefined)
              .map((x) => loc(x))
              .join(" / "),
          ],
          true,
        ),
      ),
      row([tr("Data subjects", "个人信息主体"), ctx.join([...subjects])]),
      row([tr("Recipients", "接收方"), recipients.length > 0 ? ctx.join(recipients) : tr("None", "无")]),
      row([
        tr("Regions", "地区"),
        regions.length > 0 ? ctx.join(regions) : tr("On the device only", "仅在设备本地"),
      ]),
      row([tr("Transfer abroad", "跨境传输"), crossBorder]),
      row([
        tr("Retention", "保存期限"),
        ctx.join([...new Set(cats.map((c) => `${loc(c.name)}: ${retentionLabel(ctx, c)}`))]),
      ]),
      row([tr("Security measures", "安全措施"), ctx.join(security)]),
    ];
    return section(
      `purpose-${pu.id}`,
      loc(pu.name),
      [table([tr("Attribute", "项目"), tr("Details", "内容")], rows)],
      {
        highlight: sensitive,
      },
    );
  });
  return [controller, ...purposes];
}
