import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Button } from "./Button.tsx";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * The behaviour of a modal on the native <dialog> element: showModal() while `open` (the page behind
 * is inert), Escape and any other close call `onClose`, Tab and Shift+Tab stay inside, and focus
 * returns to whatever opened it. With `focusTitle`, focus starts on the title (give it tabIndex -1).
 */
export const useModalDialog = ({
  open,
  onClose,
  focusTitle = false,
}: {
  open: boolean;
  onClose: () => void;
  focusTitle?: boolean;
}) => {
  const ref = useRef<HTMLDialogElement>(null);
  const titleRef = useRef<HTMLHeadingElement>(null);
  const returnTo = useRef<HTMLElement | null>(null);
  /** The dialog was closed because `open` turned false: its close event is not the user's. */
  const closedByProp = useRef(false);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      returnTo.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
      if (focusTitle) titleRef.current?.focus();
    } else if (!open && dialog.open) {
      closedByProp.current = true;
      dialog.close();
    }
  }, [open, focusTitle]);

  // Escape fires "cancel" then "close"; any close (Escape, form method=dialog) syncs state back.
  // The close event arrives a task later: by then `open` may be true again (the dialog was shown
  // again), which must not count as the user closing it.
  const handleClose = () => {
    returnTo.current?.focus();
    if (closedByProp.current) {
      closedByProp.current = false;
      return;
    }
    if (ref.current?.open) return;
    if (open) onClose();
  };

  const trapTab = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key !== "Tab" || !ref.current) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    const active = document.activeElement;
    if (event.shiftKey && (active === first || (titleRef.current !== null && active === titleRef.current))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return { ref, titleRef, dialogProps: { ref, onClose: handleClose, onKeyDown: trapTab } };
};

/**
 * A modal dialog on the native <dialog> element (see useModalDialog): the page behind is inert,
 * Escape closes it, Tab cycles inside it, and focus returns to whatever opened it.
 */
export const Dialog = ({
  open,
  onClose,
  title,
  children,
  footer,
}: {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
}) => {
  const { t } = useTranslation();
  const titleId = useId();
  const { dialogProps } = useModalDialog({ open, onClose });

  return (
    <dialog {...dialogProps} className="ui-dialog" aria-modal="true" aria-labelledby={titleId}>
      <div className="ui-dialog__inner">
        <div className="ui-dialog__header">
          <h2 className="ui-dialog__title" id={titleId}>
            {title}
          </h2>
          <Button variant="ghost" size="sm" onClick={onClose} aria-label={t("common.close")}>
            <span aria-hidden="true">✕</span>
          </Button>
        </div>
        {children ? <div>{children}</div> : null}
        {footer ? <div className="ui-dialog__footer">{footer}</div> : null}
      </div>
    </dialog>
  );
};
