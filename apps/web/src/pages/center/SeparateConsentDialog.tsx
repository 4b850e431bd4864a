import { type ReactNode, useId } from "react";
import { useTranslation } from "react-i18next";
import type { PersonalInformationList, ThirdPartyList } from "../../api/types.ts";
import { Badge, Button, useModalDialog } from "../../ui/index.ts";

export type DialogCategory = {
  id: string;
  name: string;
  sensitive: boolean;
  necessity: string | null;
  impact: string | null;
};
export type DialogRecipient = { id: string; name: string; company: string; region: string };

/** The personal information a purpose uses, as the dialog lists it (none while the list loads). */
export const dialogCategories = (
  pi: PersonalInformationList | undefined,
  purposeId: string,
): DialogCategory[] =>
  (pi?.categories ?? [])
    .filter((c) => c.purposes.some((x) => x.id === purposeId))
    .map((c) => ({
      id: c.id,
      name: c.name,
      sensitive: c.sensitive,
      necessity: c.necessity,
      impact: c.impact,
    }));

/** The enabled third parties that receive a purpose's information (none while the list loads). */
export const dialogRecipients = (parties: ThirdPartyList | undefined, purposeId: string): DialogRecipient[] =>
  (parties?.recipients ?? [])
    .filter((r) => r.enabled && r.purposes.some((x) => x.id === purposeId))
    .map((r) => ({ id: r.id, name: r.name, company: r.company, region: r.region }));

/**
 * The separate-consent screen (CON-4): its own modal dialog, never combined with the policy. It says
 * why the consent is separate, which personal information is used (sensitive categories highlighted,
 * with why they are needed and their effect), who receives it, and what refusing loses. Nothing is
 * pre-selected (CON-2): focus starts on the title, and only a press of "I agree" gives consent.
 *
 * Accessible modal: native <dialog> shown with showModal() (the page behind is inert), aria-modal,
 * labelled by its title and described by its lead; Tab and Shift+Tab stay inside; Escape closes;
 * focus returns to the control that opened it.
 */
export const SeparateConsentDialog = ({
  open,
  name,
  description,
  reason,
  categories,
  recipients,
  refusalImpact,
  busy,
  onAgree,
  onRefuse,
  onClose,
}: {
  open: boolean;
  name: string;
  description: string;
  reason: string | null;
  categories: readonly DialogCategory[];
  recipients: readonly DialogRecipient[];
  refusalImpact: string;
  busy: boolean;
  onAgree: () => void;
  onRefuse: () => void;
  onClose: () => void;
}) => {
  const { t } = useTranslation();
  const id = useId();
  // Start on the title, not on a choice: nothing is pre-selected.
  const { titleRef, dialogProps } = useModalDialog({ open, onClose, focusTitle: true });

  const section = (title: string, body: ReactNode) => (
    <section className="ui-stack" aria-labelledby={`${id}-${title}`}>
      <h3 className="ui-card__title" id={`${id}-${title}`}>
        {title}
      </h3>
      {body}
    </section>
  );

  return (
    <dialog
      {...dialogProps}
      className="ui-dialog"
      aria-modal="true"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-lead`}
      data-testid="separate-consent-dialog"
    >
      <div className="ui-dialog__inner">
        <div className="ui-dialog__header">
          <h2 className="ui-dialog__title" id={`${id}-title`} ref={titleRef} tabIndex={-1}>
            {t("consents.dialog.title", { name })}
          </h2>
          <Button variant="ghost" size="sm" onClick={onClose} aria-label={t("common.close")}>
            <span aria-hidden="true">✕</span>
          </Button>
        </div>
        <p id={`${id}-lead`}>{t("consents.dialog.lead")}</p>
        {reason ? section(t("consents.whySeparate"), <p>{t(`consents.separateReason.${reason}`)}</p>) : null}
        {section(t("consents.dialog.what"), <p>{description}</p>)}
        {section(
          t("consents.dialog.categories"),
          <ul className="ui-stack" data-testid="dialog-categories">
            {categories.map((c) => (
              <li key={c.id} data-sensitive={c.sensitive ? "true" : undefined}>
                {c.sensitive ? (
                  <>
                    <strong>{c.name}</strong> <Badge tone="sensitive">{t("consents.dialog.sensitive")}</Badge>
                    {c.necessity ? (
                      <p className="ui-muted">
                        {t("consents.dialog.necessity")}: {c.necessity}
                      </p>
                    ) : null}
                    {c.impact ? (
                      <p className="ui-muted">
                        {t("consents.dialog.impact")}: {c.impact}
                      </p>
                    ) : null}
                  </>
                ) : (
                  c.name
                )}
              </li>
            ))}
          </ul>,
        )}
        {section(
          t("consents.dialog.recipients"),
          recipients.length === 0 ? (
            <p>{t("consents.dialog.noRecipients")}</p>
          ) : (
            <ul data-testid="dialog-recipients">
              {recipients.map((r) => (
                <li key={r.id}>
                  {r.name} · {r.company} · {t("consents.dialog.region", { region: r.region })}
                </li>
              ))}
            </ul>
          ),
        )}
        {section(t("consents.dialog.refusal"), <p>{refusalImpact}</p>)}
        <div className="ui-dialog__footer">
          <Button variant="secondary" onClick={onRefuse} disabled={busy}>
            {t("consents.dialog.refuse")}
          </Button>
          <Button variant="primary" onClick={onAgree} disabled={busy}>
            {t("consents.dialog.agree")}
          </Button>
        </div>
      </div>
    </dialog>
  );
};
