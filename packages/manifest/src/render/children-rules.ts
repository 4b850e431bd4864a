import { NO_CONSENT_BASES } from "../schema.ts";
import type { Block, Section } from "./model.ts";
import { contactSection } from "./privacy-policy.ts";
import {
  type Ctx,
  categoryNames,
  DELETION_TRIGGER,
  docLink,
  GUARDIAN_VISIBILITY,
  INCIDENT_CHANNEL,
  label,
  li,
  necessityAndImpact,
  ol,
  p,
  RECIPIENT_KIND,
  RIGHT_CHANNEL,
  section,
  strong,
  ul,
} from "./text.ts";

/** The headings of the seed's children's rules sections (sections.tsv, column 2). */
export const CHILDREN_RULES_SEED = {
  note: "Guardians specify / Special note for children",
  collect: "How we collect and use personal information",
  share: "How we share, transfer or disclose children's personal information",
  store: "How we store and protect children's personal information",
  rights: "How to exercise children's rights related to personal information",
  thirdParty: "Third Party Services",
  amendments: "Amendments to these Rules",
  /** The seed's rules list this heading in their contents but have no such section: it is the policy's. */
  contact: "How to contact us",
} as const;

export function childrenRulesIntro(ctx: Ctx): Block[] {
  const { tr, loc, manifest: m } = ctx;
  const age = m.children.ageThreshold;
  return [
    p(
      tr(
        `These rules explain how ${loc(m.controller.name)} handles the personal information of children, meaning minors under ${age}, in ${loc(m.product.name)}, and what guardians can do about it.`,
        `本规则说明${loc(m.controller.name)}在${loc(m.product.name)}中如何处理儿童（指未满${age}周岁的未成年人）的个人信息，以及监护人可以如何参与和管理。`,
      ),
    ),
  ];
}

export function childrenRulesSections(ctx: Ctx): Section[] {
  return [
    guardiansNote(ctx),
    collectAndUse(ctx),
    sharing(ctx),
    storage(ctx),
    childRights(ctx),
    thirdPartyServices(ctx),
    amendments(ctx),
    contactSection(ctx, CHILDREN_RULES_SEED.contact),
  ];
}

function guardiansNote(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const age = m.children.ageThreshold;
  const blocks: Block[] = [
    p(strong(tr("For guardians", "监护人须知"))),
    p(
      tr(
        `When we learn that a user is under ${age}, we protect that child's information with the extra measures in these rules. Please have your child read these rules with you, and let them use the product and give us personal information only with your consent and guidance. If you do not agree with these rules, please ask your child to stop using the product.`,
        `当我们获知用户未满${age}周岁时，我们会按照本规则对该儿童的个人信息采取特别保护措施。请您与孩子一起阅读本规则，并在您的同意和指导下让孩子使用产品、提供个人信息。如您不同意本规则，请让孩子停止使用产品。`,
      ),
    ),
    p(
      strong(
        tr(
          "Pop-ups and page prompts that explain a particular collection are part of these rules and have the same force.",
          "就特定收集行为作出说明的弹窗和页面提示属于本规则的组成部分，具有同等效力。",
        ),
      ),
    ),
    p(strong(tr("For children", "儿童特别提示"))),
    p(
      tr(
        "Before you go online, ask your parent or guardian. Read these rules together and use the product only after they have said yes.",
        "上网之前，请先征得父母或其他监护人的同意。请与监护人一起阅读本规则，在他们同意后再使用产品。",
      ),
    ),
    p(
      tr("These rules apply together with the ", "本规则与"),
      docLink(tr("Privacy Policy", "《隐私政策》"), "privacy-policy"),
      tr(
        ". Where they differ on children's information, these rules prevail; where these rules are silent, the Privacy Policy applies.",
        "同时适用。二者在儿童个人信息方面不一致的，以本规则为准；本规则未作规定的，适用《隐私政策》。",
      ),
    ),
  ];
  if (m.children.notes.length > 0) blocks.push(ul(m.children.notes.map(loc)));
  return section(
    "guardians-note",
    tr("A note for guardians and children", "监护人须知与儿童特别提示"),
    blocks,
    {
      seedRef: CHILDREN_RULES_SEED.note,
    },
  );
}

function collectAndUse(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const ch = m.children;
  const catItems = (ids: readonly string[]) =>
    ids.map((id) => {
      const c = ctx.category(id);
      if (!c) return li(id);
      const sensitive = c.sensitivity === "sensitive";
      return li(
        [strong(loc(c.name)), `${tr(": ", "：")}${c.items.map(loc).join(tr("; ", "；"))}`],
        sensitive,
        sensitive ? [li([strong(necessityAndImpact(ctx, c))])] : [],
      );
    });
  const childCategories = m.categories.filter((c) => c.children);
  const blocks: Block[] = [
    p(
      tr(
        "We collect and use children's information only with a guardian's consent, and only as far as is truly necessary, for a clear purpose, safely and lawfully.",
        "我们仅在取得监护人同意后，按照正当必要、目的明确、安全保障、依法利用的原则收集和使用儿童个人信息。",
      ),
    ),
    p(
      strong(tr("Real-name authentication. ", "实名认证。")),
      tr(
        "Where the law requires it, some functions ask for real-name details first. If they show the user is a child, the protections in these rules apply. We collect:",
        "依据法律要求，部分功能在使用前需要进行实名认证。如认证结果显示用户为儿童，将适用本规则的保护措施。我们会收集：",
      ),
    ),
    ul(catItems(ch.realNameCategories)),
    p(
      strong(tr("Verifying the guardian. ", "核验监护关系。")),
      tr(
        "When we find that a user is a child, we contact the guardian and check the guardianship, so the guardian can follow and manage the child's use. For this we may collect from the guardian:",
        "当我们识别出用户为儿童时，会联系其监护人并核验监护关系，帮助监护人了解和管理儿童的使用情况。为此，我们可能向监护人收集：",
      ),
    ),
    ul(catItems(ch.guardianCategories)),
    p(tr("Accepted proof of guardianship:", "可接受的监护关系证明：")),
    ul(ch.proofKinds.map((k) => loc(k.name))),
  ];
  if (childCategories.length > 0)
    blocks.push(
      p(
        tr(
          `Information that concerns children's accounts or guardians only: ${ctx.join(
            categoryNames(
              ctx,
              childCategories.map((c) => c.id),
            ),
          )}.`,
          `仅涉及儿童账号或监护人的信息：${ctx.join(
            categoryNames(
              ctx,
              childCategories.map((c) => c.id),
            ),
          )}。`,
        ),
      ),
    );
  blocks.push(
    p(
      tr(
        "Other information a child's use of the product involves is described in the ",
        "儿童使用产品过程中涉及的其他信息，请见",
      ),
      docLink(tr("Privacy Policy", "《隐私政策》"), "privacy-policy"),
      tr(
        ". Anything beyond that needs the guardian's consent again.",
        "。超出上述范围的，我们会再次征得监护人的同意。",
      ),
    ),
    {
      kind: "paragraph",
      highlight: true,
      text: [
        tr(
          "All of a child's personal information is treated as sensitive. Before collecting it we tell the child and the guardian its purpose, why it is necessary and how it affects them, and we ask the guardian for separate consent. Without that consent we do not collect it.",
          "儿童的全部个人信息均按敏感个人信息对待。收集前，我们会告知儿童及其监护人目的、必要性以及对其权益的影响，并征得监护人的单独同意；监护人不同意的，我们不会收集。",
        ),
      ],
    },
    p(
      tr(
        "The law lets us process a child's information without consent only in these cases:",
        "根据法律规定，仅在以下情形中处理儿童个人信息无需取得同意：",
      ),
    ),
    ol(
      m.legalBases
        .filter((b) => (NO_CONSENT_BASES as readonly string[]).includes(b.id))
        .map((b) => li([strong(loc(b.name)), `${tr(": ", "：")}${loc(b.description)}`])),
    ),
  );
  return section(
    "collect-and-use",
    tr("How we collect and use children's information", "我们如何收集和使用儿童个人信息"),
    blocks,
    {
      seedRef: CHILDREN_RULES_SEED.collect,
    },
  );
}

function sharing(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const childCategoryIds = new Set(m.categories.filter((c) => c.children).map((c) => c.id));
  const kinds = [
    ...new Set(m.recipients.filter((r) => r.enabled && r.kind !== "affiliate").map((r) => r.kind)),
  ];
  const outside = m.children.outsideGroupSharingNeedsGuardianConsent;
  const childRecipients = m.recipients.filter((r) => r.categories.some((id) => childCategoryIds.has(id)));
  const blocks: Block[] = [
    p(
      strong(
        outside
          ? tr(
              `Without the guardian's consent we do not provide a child's personal information to anyone outside ${loc(m.controller.group)}.`,
              `未经监护人同意，我们不会向${loc(m.controller.group)}以外的任何第三方提供儿童个人信息。`,
            )
          : tr(
              "We provide a child's personal information to others only as these rules describe.",
              "我们仅按本规则所述向他人提供儿童个人信息。",
            ),
      ),
    ),
    p(
      tr(
        "With that consent, we may share it to provide the service the child uses, with these kinds of partners:",
        "在取得同意后，为向儿童提供其所使用的服务，我们可能与以下类型的合作方共享：",
      ),
    ),
    ul(kinds.map((k) => label(ctx, RECIPIENT_KIND, k))),
  ];
  if (childRecipients.length > 0)
    blocks.push(
      p(
        tr(
          `Recipients of information that concerns children only: ${ctx.join(childRecipients.map((r) => loc(r.name)))}.`,
          `接收仅涉及儿童信息的接收方：${ctx.join(childRecipients.map((r) => loc(r.name)))}。`,
        ),
      ),
    );
  blocks.push(
    p(
      tr(
        `Within ${loc(m.controller.group)}, children's information is shared only as far as a single account system, security and the child's management need it. We assess every recipient and bind it to confidentiality; the `,
        `在${loc(m.controller.group)}内部，我们仅在统一账号体系、安全保障和儿童账号管理所必需的范围内共享儿童个人信息。我们会评估每个接收方并要求其承担保密义务；详见`,
      ),
      docLink(
        tr("List of Third Party Shared Personal Information", "《第三方共享个人信息清单》"),
        "third-parties",
      ),
      tr(" names each one.", "。"),
    ),
    p(
      tr(
        "If a merger, acquisition, bankruptcy or similar event requires a transfer, we tell the guardian who receives the information and how to reach them, and require the recipient to protect it at least as these rules do.",
        "如因合并、收购、破产等原因需要转移儿童个人信息，我们会告知监护人接收方的名称和联系方式，并要求接收方以不低于本规则的标准继续保护。",
      ),
    ),
    p(
      tr(
        "We disclose a child's information publicly only at the child's or guardian's request with the guardian's consent, or when a law, an enforcement authority or a court requires it, in which case we check the legal documents and disclose no more than they require.",
        "我们仅在儿童或监护人要求且经监护人同意，或法律法规、执法机关或司法机关要求时公开披露儿童个人信息；后一种情况下，我们会审查相应法律文书，且披露范围不超过其要求。",
      ),
    ),
    p(
      tr(
        "Properly anonymised information, from which nobody can be re-identified, is no longer a child's personal information.",
        "经过匿名化处理、无法重新识别个人的信息，不再属于儿童个人信息。",
      ),
    ),
  );
  return section(
    "sharing",
    tr(
      "How we share, transfer or disclose children's information",
      "我们如何共享、转移和公开披露儿童个人信息",
    ),
    blocks,
    { seedRef: CHILDREN_RULES_SEED.share },
  );
}

function approverLabel(ctx: Ctx, role: string): string {
  if (role === "children-officer")
    return ctx.tr(
      "the officer in charge of children's personal information protection (or someone they authorise)",
      "儿童个人信息保护负责人（或其授权的管理人员）",
    );
  return role;
}

function storage(ctx: Ctx): Section {
  const { tr, manifest: m } = ctx;
  const channels = m.incidents.channels.map((c) => label(ctx, INCIDENT_CHANNEL, c));
  return section(
    "storage",
    tr("How we store and protect children's information", "我们如何存储和保护儿童个人信息"),
    [
      p(
        tr(
          "We keep children's information only for the shortest time the purpose needs. When that time ends, when the guardian deletes it or closes the child's account, or if we stop the service (the guardian is told in advance), we delete or anonymise it.",
          "我们仅在实现目的所需的最短期限内保存儿童个人信息。期限届满、监护人删除信息或注销儿童账号，或我们停止服务（会提前通知监护人）时，我们将删除或匿名化处理。",
        ),
      ),
      ul([
        tr("Children's information is stored encrypted.", "儿童个人信息加密存储。"),
        tr(
          "Staff access follows least privilege and is given only to those who need it.",
          "工作人员的访问权限遵循最小授权原则，仅授予确有需要的人员。",
        ),
        li([
          strong(
            tr(
              `Every staff access to children's information must be approved by ${approverLabel(ctx, m.children.accessApprover)}, and is logged; technical measures prevent unlawful copying and downloading.`,
              `工作人员访问儿童个人信息须经${approverLabel(ctx, m.children.accessApprover)}审批，并记录访问情况；我们采取技术措施防止非法复制和下载。`,
            ),
          ),
        ]),
        tr(
          `If children's information leaks, is altered or lost, we start our response plan at once and tell the guardians and children affected by ${ctx.join(channels)}.`,
          `如儿童个人信息发生泄露、篡改或丢失，我们会立即启动应急预案，并通过${ctx.join(channels)}告知受影响的监护人和儿童。`,
        ),
      ]),
      p(
        tr(
          "Guardians and children should keep passwords to themselves and tell us at once if they may have leaked.",
          "监护人和儿童应妥善保管密码，如怀疑泄露，请立即告知我们。",
        ),
      ),
    ],
    { seedRef: CHILDREN_RULES_SEED.store },
  );
}

function childRights(ctx: Ctx): Section {
  const { tr, loc, manifest: m } = ctx;
  const rights = m.rights.filter((r) => r.forChildren);
  return section(
    "rights",
    tr("Children's rights and how to exercise them", "如何行使儿童个人信息相关权利"),
    [
      p(
        strong(
          tr(
            "The guardian exercises these rights for the child (the child may do so too). We check the identity of whoever asks first.",
            "以下权利由监护人代儿童行使（儿童本人也可以行使）。我们会先核验提出请求者的身份。",
          ),
        ),
      ),
      ul(
        rights.map((r) =>
          li([
            strong(loc(r.name)),
            `${tr(": ", "：")}${loc(r.description)}${tr(" ", "")}`,
            tr(`(${label(ctx, RIGHT_CHANNEL, r.channel)})`, `（${label(ctx, RIGHT_CHANNEL, r.channel)}）`),
          ]),
        ),
      ),
      p(
        tr(
          "The guardian or the child may ask us to delete the child's information, and we will do so promptly after checking identity, when:",
          "出现以下情形时，监护人或儿童可以要求我们删除儿童个人信息，我们会在核验身份后及时删除：",
        ),
      ),
      ol(m.children.deletionTriggers.map((d) => label(ctx, DELETION_TRIGGER, d))),
      p(
        tr(
          `On request, guardians can also see ${ctx.join(m.children.guardianVisibility.map((v) => label(ctx, GUARDIAN_VISIBILITY, v)))}.`,
          `应监护人请求，监护人还可以了解儿童的${ctx.join(m.children.guardianVisibility.map((v) => label(ctx, GUARDIAN_VISIBILITY, v)))}。`,
        ),
      ),
      p(
        tr(
          "Deleting information may mean the child can no longer use some functions. Withdrawing consent stops processing from then on but does not undo what was done before.",
          "删除信息后，儿童可能无法继续使用部分功能。撤回同意后我们将停止相应处理，但不影响此前已进行的处理。",
        ),
      ),
    ],
    { seedRef: CHILDREN_RULES_SEED.rights },
  );
}

function thirdPartyServices(ctx: Ctx): Section {
  const { tr } = ctx;
  return section(
    "third-party-services",
    tr("Third-party services", "第三方服务"),
    [
      p(
        tr(
          "The product may link to social media or other services run by third parties; the kinds are listed in the sharing section of the ",
          "本产品可能链接到第三方运营的社交媒体或其他服务，其类型见",
        ),
        docLink(tr("Privacy Policy", "《隐私政策》"), "privacy-policy"),
        tr(".", "中有关共享的章节。"),
      ),
      p(
        tr(
          "Those services follow their own terms and privacy rules, not these rules. Guardians and children should read them, and stop and contact us if a service looks risky.",
          "这些服务适用其自身的条款和隐私规则，而非本规则。监护人和儿童应仔细阅读；如发现存在风险，请停止相关操作并联系我们。",
        ),
      ),
    ],
    { seedRef: CHILDREN_RULES_SEED.thirdParty },
  );
}

function amendments(ctx: Ctx): Section {
  const { tr } = ctx;
  return section(
    "amendments",
    tr("Amendments to these rules", "本规则的修订"),
    [
      p(
        tr(
          "We update these rules when the product or the law changes. If an update would substantially reduce or change the rights of guardians or children, we announce it on the website, by push notification or by pop-up before it takes effect.",
          "我们会根据产品更新和法律要求修订本规则。如修订会实质减少或重大变更监护人或儿童的权利，我们会在生效前通过网站公告、推送通知或弹窗等方式告知。",
        ),
      ),
      p(
        tr(
          "A guardian who does not agree with a change may ask the child to stop using the product.",
          "监护人如不同意修订内容，可以要求儿童停止使用产品。",
        ),
      ),
    ],
    { seedRef: CHILDREN_RULES_SEED.amendments },
  );
}
