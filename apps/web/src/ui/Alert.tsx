import type { ReactNode } from "react";

export type AlertTone = "info" | "success" | "warning" | "error";

/** A message box. Errors are announced at once (role=alert); others politely (role=status). */
export const Alert = ({
  tone = "info",
  title,
  children,
  meta,
  actions,
}: {
  tone?: AlertTone;
  title?: ReactNode;
  children?: ReactNode;
  meta?: ReactNode;
  actions?: ReactNode;
}) => (
  <div className={`ui-alert ui-alert--${tone}`} role={tone === "error" ? "alert" : "status"}>
    <div className="ui-alert__body">
      {title ? <p className="ui-alert__title">{title}</p> : null}
      {children}
      {meta ? <p className="ui-alert__meta">{meta}</p> : null}
      {actions ? <div className="ui-row">{actions}</div> : null}
    </div>
  </div>
);
