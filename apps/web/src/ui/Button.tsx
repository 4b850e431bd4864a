import type { ButtonHTMLAttributes } from "react";
import { Link, type LinkProps } from "react-router-dom";

export type ButtonVariant = "primary" | "secondary" | "ghost" | "danger";
export type ButtonSize = "md" | "sm";

export const buttonClass = (variant: ButtonVariant = "primary", size: ButtonSize = "md", extra?: string) =>
  ["ui-button", `ui-button--${variant}`, size === "sm" ? "ui-button--sm" : "", extra ?? ""]
    .filter(Boolean)
    .join(" ");

export type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: ButtonVariant;
  size?: ButtonSize;
};

export const Button = ({
  variant = "primary",
  size = "md",
  className,
  type = "button",
  ...rest
}: ButtonProps) => <button type={type} className={buttonClass(variant, size, className)} {...rest} />;

/** A link that looks like a button (navigation, downloads). */
export const ButtonLink = ({
  variant = "secondary",
  size = "md",
  className,
  ...rest
}: LinkProps & { variant?: ButtonVariant; size?: ButtonSize }) => (
  <Link className={buttonClass(variant, size, className)} {...rest} />
);
