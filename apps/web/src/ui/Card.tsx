import type { ReactNode } from "react";

export type CardProps = {
  title?: ReactNode;
  /** Heading level of the title, so cards fit the page outline. */
  headingLevel?: 2 | 3 | 4;
  /** Right side of the header: badges, actions. */
  aside?: ReactNode;
  footer?: ReactNode;
  tone?: "default" | "highlight" | "muted";
  className?: string;
  children?: ReactNode;
  as?: "section" | "article" | "div" | "li";
  labelledBy?: string;
};

export const Card = ({
  title,
  headingLevel = 3,
  aside,
  footer,
  tone = "default",
  className,
  children,
  as: Tag = "div",
  labelledBy,
}: CardProps) => {
  const Heading = `h${headingLevel}` as const;
  const classes = ["ui-card", tone !== "default" ? `ui-card--${tone}` : "", className ?? ""]
    .filter(Boolean)
    .join(" ");
  return (
    <Tag
      className={classes}
      aria-labelledby={Tag === "section" || Tag === "article" ? labelledBy : undefined}
    >
      {title || aside ? (
        <div className="ui-card__header">
          {title ? (
            <Heading className="ui-card__title" id={labelledBy}>
              {title}
            </Heading>
          ) : null}
          {aside}
        </div>
      ) : null}
      {children ? <div className="ui-card__body">{children}</div> : null}
      {footer ? <div className="ui-card__footer">{footer}</div> : null}
    </Tag>
  );
};
