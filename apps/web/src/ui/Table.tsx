import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

export type Column<T> = {
  id: string;
  header: string;
  cell: (row: T) => ReactNode;
  /** The cell that names the row: rendered as <th scope="row">. */
  rowHeader?: boolean;
};

export type TableProps<T> = {
  caption: string;
  /** Hide the caption visually (it stays for screen readers) when a heading already names the table. */
  captionHidden?: boolean;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  rowTone?: (row: T) => "highlight" | "muted" | undefined;
  className?: string;
};

/**
 * A data table with a caption and scoped headers. It scrolls horizontally inside a focusable region
 * on mid-size screens and stacks into labelled rows on small ones.
 */
export const Table = <T,>({
  caption,
  captionHidden,
  columns,
  rows,
  rowKey,
  rowTone,
  className,
}: TableProps<T>) => {
  const { t } = useTranslation();
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
    <section className="ui-table-wrap" aria-label={t("common.scrollableTable", { caption })} tabIndex={0}>
      <table className={["ui-table", "ui-table--stack", className ?? ""].filter(Boolean).join(" ")}>
        <caption className={captionHidden ? "ui-visually-hidden" : undefined}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.id} scope="col">
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const tone = rowTone?.(row);
            return (
              <tr key={rowKey(row)} className={tone ? `is-${tone}` : undefined}>
                {columns.map((c) =>
                  c.rowHeader ? (
                    <th key={c.id} scope="row">
                      {c.cell(row)}
                    </th>
                  ) : (
                    <td key={c.id} data-label={c.header}>
                      {c.cell(row)}
                    </td>
                  ),
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
};
