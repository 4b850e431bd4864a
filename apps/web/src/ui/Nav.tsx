import { NavLink } from "react-router-dom";

export type NavItem = {
  to: string;
  label: string /** Match the path exactly (for section homes). */;
  end?: boolean;
};

/** A labelled navigation list; the current page gets aria-current="page". */
export const Nav = ({
  items,
  label,
  variant = "header",
}: {
  items: readonly NavItem[];
  label: string;
  variant?: "header" | "sub";
}) => (
  <nav className={`ui-nav ui-nav--${variant}`} aria-label={label}>
    <ul>
      {items.map((item) => (
        <li key={item.to}>
          <NavLink to={item.to} end={item.end}>
            {item.label}
          </NavLink>
        </li>
      ))}
    </ul>
  </nav>
);
