import { NO_CONSENT_BASES, type Purpose } from "../schema.ts";
import type { Block, ListItem, Section } from "./model.ts";
import {
  CONSENT,
  CROSS_BORDER_REQUIRES,
  type Ctx,
  categoryNames,
  defaultRegion,
  docLink,
  FUNCTION,
  GUARDIAN_VISIBILITY,
  INCIDENT_CHANNEL,
  isSensitivePurpose,
  label,
  legalBasisName,
  li,
  NOTICE_CONTENT,
  necessityAndImpact,
  ol,
  p,
  periodFrom,
  purposeNames,
  RETENTION_ACTION,
  RIGHT_CHANNEL,
  row,
  SEPARATE_REASON,
  SETTING,
  SOURCE,
  section,
  strong,
  table,
  ul,
} from "./text.ts";

/** The headings of the seed's privacy policy sections (sections.tsv, column 2). */
export const PRIVACY_POLICY_SEED = {
  tips: "[Special Tips]",
  collect: "How we collect and use your personal information",
  cookies: "How we use COOKIES or similar technologies",
  share: "How we share, transfer or disclose your personal information",
  store: "How we store and protect your personal information",
  rights: "Your Rights",
  children: "Protection of Children",
  amendments: "Amendments and notifications",
  contact: "How to contact us",
} as const;

export function privacyPolicySections(ctx: Ctx): Section[] {
  return [
    specialTips(ctx),
    collectAndUse(ctx),
    cookies(ctx),
    sharing(ctx),
    storage(ctx),
    rights(ctx),
    children(ctx),
    amendments(ctx),
    contactSection(ctx, PRIVACY_POLICY_SEED.contact),
  ];
}

export function privacyPolicyIntro(ctx: Ctx): Block[] {
  const { tr, loc, manifest: m } = ctx;
  return [
    p(
      tr(
        `${loc(m.controller.name)} ("we") explains here how ${loc(m.product.name)} handles your personal information: what we collect, why, on what legal basis, who else receives it, how long we keep it and how you stay in control of it.`,
        `${loc(m.controller.name)}（“我们”）在此说明${loc(m.product.name)}如何处理您的个人信息：收集哪些信息、为何收集、依据何种合法性基础、提供给谁、保存多久，以及您如何掌控自己的信息。`,
      ),
    ),
  ];
}

function specialTips(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const notices = m.notices.map((n) =>
    li([
      strong(loc(n.title)),
      tr(
        ` (${n.kind === "popup" ? "pop-up" : "page prompt"}): ${loc(n.body)}`,
        `（${n.kind === "popup" ? "弹窗" : "页面提示"}）：${loc(n.body)}`,
      ),
    ]),
  );
  const blocks: Block[] = [
    p(
      tr(
        `Scope: this policy covers the ${loc(m.product.name)} service that ${loc(m.controller.name)} provides to you.`,
        `适用范围：本政策适用于${loc(m.controller.name)}向您提供的${loc(m.product.name)}服务。`,
      ),
    ),
    p(
      tr(
        "We process a given piece of information only when you turn on the function or use the service that needs it. If you do not use a function, we do not process the information it would need.",
        "只有当您开启相应功能或使用相应服务时，我们才会处理该功能所需的信息；您不使用某项功能，我们就不会处理该功能所需的信息。",
      ),
    ),
    p(
      strong(
        tr(
          "Just-in-time notices are part of this policy: when a function needs particular information, the product tells you in a pop-up or a page prompt what it collects and why. Those notices have the same force as this policy.",
          "即时告知属于本政策的组成部分：当某项功能需要特定信息时，产品会通过弹窗或页面提示告诉您收集什么以及为什么收集，这些告知与本政策具有同等效力。",
        ),
      ),
    ),
  ];
  if (notices.length > 0) blocks.push(ul(notices));
  blocks.push(
    p(
      tr(
        "Please read this policy in full before you use the product, in particular the parts shown in bold and marked as sensitive. If you do not agree with it, some or all of the service may not work for you and you may stop using it at any time.",
        "请在使用产品前完整阅读本政策，特别是加粗并标注为敏感的内容。如您不同意本政策，部分或全部服务可能无法正常提供，您可以随时停止使用。",
      ),
    ),
    p(
      tr(
        "Questions about this policy are welcome through the channels in ",
        "如对本政策有任何疑问，欢迎通过",
      ),
      strong(tr("How to contact us", "如何联系我们")),
      tr(".", "一节列出的方式与我们联系。"),
    ),
  );
  return section("special-tips", tr("Special tips and scope", "特别提示与适用范围"), blocks, {
    seedRef: PRIVACY_POLICY_SEED.tips,
  });
}

function purposeSection(ctx: Ctx, pu: Purpose): Section {
  const { tr, loc, manifest: m } = ctx;
  const sensitive = isSensitivePurpose(ctx, pu);
  const categoryItems: ListItem[] = pu.categories.map((id) => {
    const c = ctx.category(id);
    if (!c) return li(id);
    const items = c.items.map(loc).join(tr("; ", "；"));
    const text = [strong(loc(c.name)), `${tr(": ", "：")}${items}`];
    const notes: ListItem[] = [];
    if (c.sensitivity === "sensitive") notes.push(li([strong(necessityAndImpact(ctx, c))]));
    if (c.storage === "device-only")
      notes.push(
        li(
          tr(
            "Processed on your device only and never stored: we read only what the function needs.",
            "仅在您的设备本地处理，不会存储：我们只读取该功能所需的内容。",
          ),
        ),
      );
    return li(text, c.sensitivity === "sensitive", notes);
  });
  const facts: ListItem[] = [
    li(`${tr("Legal basis: ", "合法性基础：")}${legalBasisName(ctx, pu.legalBasis)}`),
    li(`${tr("Type of function: ", "功能类型：")}${label(ctx, FUNCTION, pu.function)}`),
    li(
      `${tr("Consent: ", "同意方式：")}${label(ctx, CONSENT, pu.consent)}${
        pu.consent === "separate" && pu.separateReason
          ? tr(
              `, because ${label(ctx, SEPARATE_REASON, pu.separateReason)}`,
              `，因为${label(ctx, SEPARATE_REASON, pu.separateReason)}`,
            )
          : ""
      }`,
      pu.consent === "separate" && pu.separateReason === "sensitive",
    ),
  ];
  if (pu.background)
    facts.push(li(tr("Also runs while the app is in the background.", "在应用处于后台运行时也会进行。")));
  if (pu.setting)
    facts.push(
      li(
        tr(
          `You can switch this off at any time under the setting "${label(ctx, SETTING, pu.setting)}".`,
          `您可以随时在"${label(ctx, SETTING, pu.setting)}"设置中关闭。`,
        ),
      ),
    );
  if (pu.automatedDecision)
    facts.push(
      li(
        tr(
          "Involves automated decision-making: you may ask us to explain a decision that significantly affects you, and refuse decisions made by automated means alone.",
          "涉及自动化决策：对显著影响您权益的决定，您有权要求我们予以说明，并有权拒绝仅通过自动化决策方式作出的决定。",
        ),
      ),
    );
  if (pu.permissions.length > 0) {
    const names = pu.permissions.map((id) => {
      const perm = m.permissions.find((x) => x.id === id);
      return perm ? loc(perm.name) : id;
    });
    facts.push(li(`${tr("Device permissions asked for: ", "申请的设备权限：")}${ctx.join(names)}`));
  }
  if (pu.recipients.length > 0) {
    const names = pu.recipients.map((id) => {
      const r = ctx.recipient(id);
      if (r) return loc(r.name);
      const a = m.affiliates.find((x) => x.id === id);
      return a ? loc(a.name) : id;
    });
    facts.push(li(`${tr("Also received by: ", "信息接收方：")}${ctx.join(names)}`));
  }
  facts.push(li(`${tr("If you refuse: ", "如您拒绝：")}${loc(pu.refusalImpact)}`));
  const blocks: Block[] = [p(loc(pu.description))];
  if (sensitive)
    blocks.push({
      kind: "paragraph",
      highlight: true,
      text: [
        tr(
          "This purpose uses sensitive personal information. We use it only as far as the purpose requires and under strict protection.",
          "该目的涉及敏感个人信息，我们仅在实现该目的所必需的范围内使用，并采取严格的保护措施。",
        ),
      ],
    });
  blocks.push(p(strong(tr("Information used", "使用的信息"))), ul(categoryItems));
  blocks.push(p(strong(tr("On what terms", "处理条件"))), ul(facts));
  return section(`purpose-${pu.id}`, loc(pu.name), blocks, { highlight: sensitive });
}

function collectAndUse(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const sources = [...new Set(m.categories.map((c) => c.source))];
  const sourcesSection = section("sources", tr("Where the information comes from", "信息的来源"), [
    ul(sources.map((s) => label(ctx, SOURCE, s))),
    p(
      tr(
        "Anything you post in public areas of the product can be seen, and possibly collected, by other users. Think twice before posting personal information.",
        "您在产品公开区域发布的内容可被其他用户看到，也可能被他人收集。发布个人信息前请谨慎考虑。",
      ),
    ),
  ]);
  const purposeSubs = m.purposes.map((pu) => purposeSection(ctx, pu));

  const permissionRows = m.permissions.map((perm) =>
    row(
      [
        loc(perm.name),
        perm.platformNames.join(", ") || "—",
        loc(perm.notice),
        ctx.join(
          perm.features.map((id) => {
            const f = m.features.find((x) => x.id === id);
            return f ? loc(f.name) : id;
          }),
        ),
        loc(perm.refusalImpact),
      ],
      perm.sensitive,
    ),
  );
  const permissions = section("permissions", tr("Device permissions", "设备权限"), [
    p(
      tr(
        "We ask for a system permission only when a function needs it, and we tell you why before the system prompt appears. Which permissions exist depends on your device and its operating system.",
        "我们仅在功能需要时申请系统权限，并会在系统弹窗出现前告诉您申请的原因。具体权限因您的设备型号和系统版本而有所不同。",
      ),
    ),
    table(
      [
        tr("Permission", "权限"),
        tr("System name", "系统权限名称"),
        tr("Why we ask", "申请目的"),
        tr("Functions", "相关功能"),
        tr("If you refuse", "拒绝的影响"),
      ],
      permissionRows,
    ),
    p(
      tr(
        "You can turn a permission off again in your device settings. From then on we stop collecting the information it gave access to; what was processed before, with your permission, is not affected.",
        "您可以在设备设置中再次关闭权限。关闭后，我们将不再通过该权限收集相关信息，但不影响此前基于您的授权已进行的处理。",
      ),
    ),
    p(
      strong(
        tr(
          "Should we want to use your information for a purpose not described here, or collect information not listed here, we will ask for your consent separately first.",
          "如我们需要将您的信息用于本政策未载明的其他目的，或收集本政策未提及的信息，我们会事先另行征得您的同意。",
        ),
      ),
    ),
  ]);

  const noConsent = section("without-consent", tr("When no consent is needed", "无需征得同意的情形"), [
    p(
      tr(
        "The law allows us to process personal information without your consent in these cases:",
        "根据法律规定，以下情形中处理您的个人信息无需征得您的同意：",
      ),
    ),
    ol(
      m.legalBases
        .filter((b) => (NO_CONSENT_BASES as readonly string[]).includes(b.id))
        .map((b) => li([strong(loc(b.name)), `${tr(": ", "：")}${loc(b.description)}`])),
    ),
  ]);

  // MAN-6: device and log data cannot identify anyone alone, but become personal information once combined.
  const notAlone = m.categories.filter((c) => !c.identifying && c.storage === "server");
  const deviceAndLog = notAlone.filter((c) => c.classification === "device" || c.classification === "log");
  const nonIdentifying = deviceAndLog.length > 0 ? deviceAndLog : notAlone;
  const combined = section("combined", tr("Device and log information", "设备信息与日志信息"), [
    p(
      tr(
        `On its own, some information cannot identify you: ${ctx.join(
          categoryNames(
            ctx,
            nonIdentifying.map((c) => c.id),
          ),
        )}. When we combine it with information that does identify you, or use it together with your personal information, we treat and protect it as personal information for as long as it stays combined.`,
        `部分信息单独无法识别您的身份：${ctx.join(
          categoryNames(
            ctx,
            nonIdentifying.map((c) => c.id),
          ),
        )}。当我们将其与能够识别您身份的信息结合，或与您的个人信息结合使用时，在结合使用期间，我们会将其作为个人信息处理和保护。`,
      ),
    ),
  ]);

  const deviceOnly = m.categories.filter((c) => c.storage === "device-only");
  const subsections = [sourcesSection, ...purposeSubs, permissions, noConsent, combined];
  if (deviceOnly.length > 0)
    subsections.push(
      section("device-only", tr("Information that never leaves your device", "不会离开您设备的信息"), [
        ul(
          deviceOnly.map((c) =>
            li([
              strong(loc(c.name)),
              tr(
                `: processed on the device only, never stored. We read only what the function needs (${c.items.map(loc).join("; ")}) and nothing else.`,
                `：仅在设备本地处理，不会存储。我们只读取功能所需的内容（${c.items.map(loc).join("；")}），不会读取其他内容。`,
              ),
            ]),
          ),
        ),
      ]),
    );

  return section(
    "collect-and-use",
    tr("How we collect and use your personal information", "我们如何收集和使用您的个人信息"),
    [
      p(
        tr(
          "Below, each purpose lists the information it uses, why, on what legal basis, whether it belongs to a basic or an extended function, and how you agree to it. Refusing an extended function never stops the basic functions from working.",
          "下文按处理目的逐项列出所使用的信息、使用原因、合法性基础、属于基本功能还是扩展功能，以及您如何作出同意。拒绝扩展功能不会影响基本功能的使用。",
        ),
      ),
    ],
    { seedRef: PRIVACY_POLICY_SEED.collect, subsections },
  );
}

function cookies(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  return section(
    "cookies",
    tr("How we use cookies and similar technologies", "我们如何使用Cookie和同类技术"),
    [
      p(
        tr(
          "Cookies are small files stored on your device. We and our partners use them, and similar technologies, for these purposes:",
          "Cookie是存储在您设备上的小型文件。我们和合作方出于以下目的使用Cookie及同类技术：",
        ),
      ),
      ul(
        m.cookies.map((c) =>
          li([
            strong(loc(c.name)),
            `${tr(": ", "：")}${loc(c.description)}`,
            c.necessary
              ? tr(" (necessary: cannot be switched off)", "（必要：无法关闭）")
              : tr(" (optional: off unless you allow it)", "（可选：未经您允许不会启用）"),
            c.categories.length > 0
              ? tr(
                  ` Information involved: ${ctx.join(categoryNames(ctx, c.categories))}.`,
                  `涉及的信息：${ctx.join(categoryNames(ctx, c.categories))}。`,
                )
              : "",
          ]),
        ),
      ),
      p(
        tr(
          "Cookies placed by advertisers or other partners follow those partners' own privacy rules, not this policy.",
          "广告主或其他合作方设置的Cookie适用其自身的隐私规则，而非本政策。",
        ),
      ),
      p(
        tr(
          "You can refuse or delete cookies in your browser or in our cookie settings. Some functions may then work less well, and the ads you see will be less relevant, not fewer.",
          "您可以通过浏览器或我们的Cookie设置拒绝或删除Cookie。这样做后，部分功能的体验可能受到影响，您看到的广告数量不会减少，但相关性会降低。",
        ),
      ),
    ],
    { seedRef: PRIVACY_POLICY_SEED.cookies },
  );
}

function sharing(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const research = m.recipients.filter((r) => r.kind === "research");
  const sdk = section("sdk", tr("Sharing with third parties and SDKs", "与第三方及SDK共享"), [
    p(
      tr(
        "We provide personal information to others only for a lawful, legitimate, necessary, specific and clear purpose. Those who process it on our behalf sign confidentiality terms and act only on our instructions; we assess every third-party SDK before we use it.",
        "我们仅出于合法、正当、必要、特定、明确的目的向他人提供个人信息。代表我们处理信息的一方须签署保密条款并仅按我们的指示处理；我们在接入每个第三方SDK前都会进行评估。",
      ),
    ),
    p(
      tr(
        "Third-party SDKs and services work with us for these purposes:",
        "第三方SDK和服务出于以下目的与我们合作：",
      ),
    ),
    ul(m.sdkPurposes.map((s) => li([strong(loc(s.name)), `${tr(": ", "：")}${loc(s.description)}`]))),
    p(
      tr(
        "Each recipient, what it receives and why is listed in the ",
        "每个接收方接收哪些信息及其原因，请见",
      ),
      docLink(
        tr("List of Third Party Shared Personal Information", "《第三方共享个人信息清单》"),
        "third-parties",
      ),
      tr(".", "。"),
    ),
    p(
      tr(
        "Links and shares that take you to someone else's product are governed by that party's own terms and privacy rules, not by this policy.",
        "通过链接或分享功能跳转至他人的产品时，适用该方自己的条款和隐私规则，而非本政策。",
      ),
    ),
  ]);
  const affiliates = section("affiliates", tr("Within our group", "在集团内共享"), [
    p(
      tr(
        `If you link your account with another product of ${loc(m.controller.group)}, we share only what you authorise:`,
        `如您将账号与${loc(m.controller.group)}的其他产品绑定，我们仅共享您授权的信息：`,
      ),
    ),
    ul(
      m.affiliates.map((a) =>
        li([
          strong(loc(a.name)),
          tr(
            `: ${ctx.join(categoryNames(ctx, a.categories))}, for ${ctx.join(purposeNames(ctx, a.purposes))}`,
            `：${ctx.join(categoryNames(ctx, a.categories))}，用于${ctx.join(purposeNames(ctx, a.purposes))}`,
          ),
        ]),
      ),
    ),
  ]);
  const guardianVisibility = m.children.guardianVisibility.map((v) => label(ctx, GUARDIAN_VISIBILITY, v));
  const guardians = section("guardians", tr("Telling guardians", "告知监护人"), [
    p(
      tr(
        `To protect minors and stop them from using an adult's identity, we may contact a minor's guardian, on the guardian's request or on our own initiative, and tell them about ${ctx.join(guardianVisibility)}, so that they can remind, confirm or act.`,
        `为保护未成年人并防止其冒用成年人身份，我们可能应监护人请求或主动联系未成年人的监护人，告知其${ctx.join(guardianVisibility)}，以便监护人提醒、确认和处理。`,
      ),
    ),
  ]);
  const researchSection = section("research", tr("Research", "科学研究"), [
    p(
      tr(
        "To improve our products we may share data with research institutions and universities, but only in de-identified or anonymised form; we never share what identifies you without your express authorisation.",
        "为提升产品研发能力，我们可能与研究机构和高校共享数据，但仅限去标识化或匿名化的形式；未经您明确授权，我们不会共享可识别您身份的信息。",
      ),
    ),
    ...(research.length > 0 ? [ul(research.map((r) => `${loc(r.name)} (${loc(r.company)})`))] : []),
  ]);
  const transfer = section("transfer", tr("Transfer", "转移"), [
    p(
      tr(
        "If your information has to be transferred because of a merger, acquisition, asset transfer, division, dissolution, bankruptcy or similar event, we will tell you, give you the recipient's name and contact details, and require the recipient to protect your information at least as well as this policy does.",
        "如因合并、收购、资产转让、分立、解散、破产等原因需要转移您的个人信息，我们会告知您，向您提供接收方的名称和联系方式，并要求接收方以不低于本政策的标准继续保护您的个人信息。",
      ),
    ),
  ]);
  const disclosure = section("disclosure", tr("Public disclosure", "公开披露"), [
    p(tr("We make your personal information public only:", "我们仅在以下情形公开披露您的个人信息：")),
    ol([
      tr(
        "when you ask us to and give your separate, express consent to what is disclosed; or",
        "应您的要求，且您对所公开的信息作出单独、明确的同意；或",
      ),
      tr("when laws or administrative regulations require it.", "法律、行政法规要求公开时。"),
    ]),
  ]);
  return section(
    "sharing",
    tr(
      "How we share, transfer or disclose your personal information",
      "我们如何共享、转移和公开披露您的个人信息",
    ),
    [],
    {
      seedRef: PRIVACY_POLICY_SEED.share,
      subsections: [sdk, affiliates, guardians, researchSection, transfer, disclosure],
    },
  );
}

function storage(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const region = defaultRegion(ctx);
  const regionName = region ? loc(region.name) : "";
  const cb = m.crossBorder;
  const crossBorderText = cb.allowed
    ? tr(
        `If information has to go abroad, we do so only with ${ctx.join(cb.requires.map((r) => label(ctx, CROSS_BORDER_REQUIRES, r)))}, as the law requires.`,
        `如需向境外提供信息，我们仅在依法具备${ctx.join(cb.requires.map((r) => label(ctx, CROSS_BORDER_REQUIRES, r)))}的前提下进行。`,
      )
    : tr("We do not transfer personal information abroad.", "我们不会向境外提供个人信息。");
  const where = section("where", tr("Where we store it", "存储地点"), [
    p(
      tr(
        `Personal information collected in ${regionName} is stored in ${regionName}.`,
        `我们在${regionName}收集的个人信息存储于${regionName}。`,
      ),
    ),
    p(strong(crossBorderText)),
  ]);
  const howLong = section("retention", tr("How long we keep it", "保存期限"), [
    p(
      tr(
        "We keep personal information only for the shortest time the purpose needs, unless a law sets a longer period. When the period ends, when you delete your information or close your account, or if we stop the service (which we would announce in advance), we delete or anonymise it.",
        "除法律另有规定外，我们仅在实现目的所需的最短期限内保存个人信息。期限届满、您删除信息或注销账号，或我们停止服务（我们会提前通知）时，我们将删除或匿名化处理您的个人信息。",
      ),
    ),
    table(
      [tr("Information", "信息"), tr("Period", "期限"), tr("Afterwards", "届满后"), tr("Details", "说明")],
      m.retention.map((r) =>
        row([loc(r.name), periodFrom(ctx, r), label(ctx, RETENTION_ACTION, r.action), loc(r.description)]),
      ),
    ),
  ]);
  const security = section("security", tr("How we protect it", "安全保护措施"), [
    ul([
      tr(
        "Encryption in transit and at rest; each person's data has its own keys, so deleted data cannot be recovered from any copy.",
        "传输和存储均加密；每个人的数据使用独立密钥，已删除的数据无法从任何副本中恢复。",
      ),
      tr(
        "De-identification and masking whenever information is displayed or analysed.",
        "在展示和分析信息时进行去标识化和脱敏处理。",
      ),
      tr(
        "Strict access control with multi-factor authentication; only staff who need the information can see it, and every access is logged.",
        "严格的访问控制和多因素认证；仅有需要的工作人员才能访问，且每次访问均有记录。",
      ),
      tr(
        "Classification and grading of all information, with stronger controls for higher grades.",
        "对全部信息进行分类分级，级别越高管控越严。",
      ),
      tr(
        "Confidentiality agreements, regular security and privacy training, and audits.",
        "签署保密协议，定期开展安全与隐私培训，并进行审计。",
      ),
    ]),
  ]);
  const inc = m.incidents;
  const incidents = section("incidents", tr("If something goes wrong", "安全事件处置"), [
    p(
      tr(
        `We grade security incidents (${ctx.join(inc.grades.map((g) => loc(g.name)))}), keep response plans for each, and rehearse them. If an incident happens we act at once to limit it and tell you:`,
        `我们对安全事件进行分级（${ctx.join(inc.grades.map((g) => loc(g.name)))}），针对各级事件制定应急预案并定期演练。一旦发生事件，我们会立即采取措施控制影响，并告知您：`,
      ),
    ),
    ul(inc.noticeContents.map((c) => label(ctx, NOTICE_CONTENT, c))),
    p(
      strong(
        tr(
          `We tell you by ${ctx.join(inc.channels.filter((c) => c !== "announcement").map((c) => label(ctx, INCIDENT_CHANNEL, c)))}; where we cannot reach everyone one by one, we publish an announcement. We also report incidents to the authorities as the law requires.`,
          `我们会通过${ctx.join(inc.channels.filter((c) => c !== "announcement").map((c) => label(ctx, INCIDENT_CHANNEL, c)))}告知您；难以逐一告知时，我们会发布公告。我们还会依法向监管部门报告。`,
        ),
      ),
    ),
    p(
      tr(
        "No system is perfectly secure. Keep your password and other login details to yourself, and contact us at once if you think they have leaked.",
        "任何系统都无法做到绝对安全。请妥善保管您的密码和其他登录信息，如怀疑已经泄露，请立即联系我们。",
      ),
    ),
  ]);
  return section(
    "storage",
    tr("How we store and protect your personal information", "我们如何存储和保护您的个人信息"),
    [],
    { seedRef: PRIVACY_POLICY_SEED.store, subsections: [where, howLong, security, incidents] },
  );
}

function rights(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  return section(
    "rights",
    tr("Your rights", "您的权利"),
    [
      p(
        tr(
          "You can exercise these rights. We check your identity first, to protect your information, and answer within the time given in How to contact us.",
          "您可以行使以下权利。为保护您的信息安全，我们会先核验您的身份，并在“如何联系我们”一节所述的期限内答复。",
        ),
      ),
      ul(
        m.rights.map((r) =>
          li([
            strong(loc(r.name)),
            `${tr(": ", "：")}${loc(r.description)}${tr(" ", "")}`,
            tr(`(${label(ctx, RIGHT_CHANNEL, r.channel)})`, `（${label(ctx, RIGHT_CHANNEL, r.channel)}）`),
          ]),
        ),
      ),
      p(
        tr("You can also see everything we have collected about you in the ", "您还可以在"),
        docLink(tr("Collected Personal Information List", "《已收集个人信息清单》"), "personal-information"),
        tr(".", "中查看我们收集的您的全部信息。"),
      ),
      p(
        strong(
          tr(
            "Deleted information and closed accounts cannot be restored. Backups are brought in line when they are next refreshed; until then we do not use the information in them.",
            "信息删除或账号注销后无法恢复。备份系统中的信息会在下次更新备份时同步处理，在此之前我们不会使用这些信息。",
          ),
        ),
      ),
      p(
        tr(
          "Withdrawing consent stops the processing that relied on it from then on; it does not make earlier processing unlawful.",
          "撤回同意后，我们将不再进行基于该同意的处理，但不影响撤回前基于您的同意已进行的处理。",
        ),
      ),
    ],
    { seedRef: PRIVACY_POLICY_SEED.rights },
  );
}

function children(ctx: Ctx): Section {
  const { tr, manifest: m } = ctx;
  const age = m.children.ageThreshold;
  return section(
    "children",
    tr("Protection of children", "儿童个人信息保护"),
    [
      p(
        tr(
          "Minors should have their guardian's agreement before they take part in online activities.",
          "未成年人参加网络活动前，应事先取得监护人的同意。",
        ),
      ),
      p(
        strong(tr(`If you are under ${age}`, `如您是未满${age}周岁的儿童`)),
        tr(", please read the ", "，请通知您的监护人与您一起阅读"),
        docLink(
          tr("Children's Personal Information Protection Rules", "《儿童个人信息保护规则》"),
          "children-rules",
        ),
        tr(
          " together with your guardian, and use the product only with your guardian's consent and guidance. ",
          "，并在取得监护人的同意和指导后再使用本产品。",
        ),
        strong(
          tr(
            "Guardians give their consent to the processing of a child's information separately.",
            "监护人须对儿童个人信息的处理单独作出同意。",
          ),
        ),
      ),
    ],
    { seedRef: PRIVACY_POLICY_SEED.children },
  );
}

function amendments(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const blocks: Block[] = [
    p(
      tr(
        "We update this policy when the product or the law changes. Every version is published with its date, and earlier versions stay available.",
        "我们会根据产品更新和法律要求修订本政策。每个版本都会注明日期后发布，历史版本可供查阅。",
      ),
    ),
    p(
      tr(
        "For a material change we also tell you prominently, by an announcement on the website, a push notification or a pop-up, and ask again for your consent where the law requires. Material changes include:",
        "如发生重大变更，我们还会通过网站公告、推送通知或弹窗等方式显著地告知您，并在法律要求时重新征求您的同意。重大变更包括：",
      ),
    ),
    ol(m.materialChanges.map((c) => li([strong(loc(c.name)), `${tr(": ", "：")}${loc(c.description)}`]))),
  ];
  if (m.marketingChannels.length > 0)
    blocks.push(
      p(
        tr(
          "We may send you messages about the service. You can stop marketing messages at any time:",
          "我们可能向您发送与服务相关的消息。您可以随时停止接收营销信息：",
        ),
      ),
      ul(m.marketingChannels.map((c) => li([strong(loc(c.name)), `${tr(": ", "：")}${loc(c.unsubscribe)}`]))),
    );
  return section("amendments", tr("Amendments and notifications", "本政策的修订与通知"), blocks, {
    seedRef: PRIVACY_POLICY_SEED.amendments,
  });
}

/** Shared by the policy and the children's rules (whose contact is the policy's). */
export function contactSection(ctx: Ctx, seedRef: string | null): Section {
  const { tr, loc, manifest: m } = ctx;
  const c = m.contact;
  return section(
    "contact",
    tr("How to contact us", "如何联系我们"),
    [
      p(
        tr(
          `Our ${loc(c.department)} looks after your personal information. For questions, comments, complaints or requests about this policy or your information, write to `,
          `我们的${loc(c.department)}负责保护您的个人信息。如对本政策或您的个人信息有任何疑问、意见、投诉或请求，请发送电子邮件至`,
        ),
        { text: c.email, href: `mailto:${c.email}` },
        tr(".", "。"),
      ),
      p(
        strong(
          tr(
            `We reply within ${c.responseWorkingDays} working days of receiving your message and confirming your identity.`,
            `我们将在收到您的来信并核验身份后的${c.responseWorkingDays}个工作日内答复。`,
          ),
        ),
      ),
      p(
        tr(
          `If our answer does not satisfy you, you may ${ctx.joinOr(c.escalation.map(loc))}.`,
          `如您对我们的答复不满意，您可以${ctx.joinOr(c.escalation.map(loc))}。`,
        ),
      ),
      ul([
        li(`${tr("Controller: ", "个人信息处理者：")}${loc(m.controller.name)}`),
        li(`${tr("Address: ", "地址：")}${loc(m.controller.address)}`),
      ]),
    ],
    { seedRef },
  );
}
