import type { ReactNode } from "react";

export type BadgeTone = "neutral" | "sensitive" | "info" | "success" | "warning";

const icons: Partial<Record<BadgeTone, ReactNode>> = {
  sensitive: (
    <svg className="ui-badge__icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path fill="currentColor" d="M8 1 1 14h14L8 1zm-.75 4.5h1.5v4.5h-1.5V5.5zm0 5.75h1.5v1.5h-1.5v-1.5z" />
    </svg>
  ),
  info: (
    <svg className="ui-badge__icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zm.75 10.5h-1.5V7h1.5v4.5zm0-6h-1.5V4h1.5v1.5z"
      />
    </svg>
  ),
};

/** A short status label. The text carries the meaning; colour and icon only reinforce it. */
export const Badge = ({ tone = "neutral", children }: { tone?: BadgeTone; children: ReactNode }) => (
  <span className={`ui-badge ui-badge--${tone}`}>
    {icons[tone]}
    {children}
  </span>
);
