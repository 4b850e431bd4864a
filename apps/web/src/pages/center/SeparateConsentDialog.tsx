import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Badge, Button } from "../../ui/index.ts";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export type DialogCategory = {
  id: string;
  name: string;
  sensitive: boolean;
  necessity: string | null;
  impact: string | null;
};
export type DialogRecipient = { id: string; name: string; company: string; region: string };

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
  const ref = useRef<HTMLDialogElement>(null);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const returnTo = useRef<HTMLElement | null>(null);
  const id = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      returnTo.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
      // Start on the title, not on a choice: nothing is pre-selected.
      titleRef.current?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  // Escape fires "cancel" then "close"; every close puts focus back where it was.
  const handleClose = () => {
    returnTo.current?.focus();
    if (open) onClose();
  };

  const trapTab = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key !== "Tab" || !ref.current) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    const active = document.activeElement;
    if (event.shiftKey && (active === first || active === titleRef.current)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  };

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
      ref={ref}
      className="ui-dialog"
      aria-modal="true"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-lead`}
      onClose={handleClose}
      onKeyDown={trapTab}
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
