import { useId } from "react";

/**
 * A line chart of rates (0–1) over time, one line per series, in plain SVG (no chart library).
 * Accessible: the SVG is an image named by its title and described by its description, which
 * points to the data table that carries every value; each series differs by colour, dash pattern
 * and marker shape (never by colour alone), shown in an HTML legend. A null value breaks the line.
 */

export type RateSeries = { id: string; name: string; values: readonly (number | null)[] };

const W = 720;
const H = 300;
const PAD = { top: 16, right: 20, bottom: 44, left: 52 };
const INNER_W = W - PAD.left - PAD.right;
const INNER_H = H - PAD.top - PAD.bottom;

/** At least 3:1 against white (WCAG 1.4.11). */
const COLOURS = ["#1d4ed8", "#0f766e", "#b45309", "#9f1239", "#6d28d9", "#374151", "#15803d", "#c2410c"];
const DASHES = ["", "6 4", "2 3", "10 4 2 4"];
const MARKERS = ["circle", "square", "triangle", "diamond"] as const;

export const seriesStyle = (index: number) => ({
  colour: COLOURS[index % COLOURS.length] as string,
  dash: DASHES[Math.floor(index / COLOURS.length) % DASHES.length] as string,
  marker: MARKERS[index % MARKERS.length] as (typeof MARKERS)[number],
});

const Marker = ({
  kind,
  x,
  y,
  colour,
}: {
  kind: (typeof MARKERS)[number];
  x: number;
  y: number;
  colour: string;
}) => {
  if (kind === "square") return <rect x={x - 4} y={y - 4} width={8} height={8} fill={colour} />;
  if (kind === "triangle") return <path d={`M${x} ${y - 5}L${x + 5} ${y + 4}H${x - 5}Z`} fill={colour} />;
  if (kind === "diamond")
    return <path d={`M${x} ${y - 5}L${x + 5} ${y}L${x} ${y + 5}L${x - 5} ${y}Z`} fill={colour} />;
  return <circle cx={x} cy={y} r={4} fill={colour} />;
};

/** The legend's sample of a series: its line, dash and marker. */
export const SeriesSwatch = ({ index }: { index: number }) => {
  const s = seriesStyle(index);
  return (
    <svg width="36" height="12" viewBox="0 0 36 12" aria-hidden="true" focusable="false">
      <line
        x1={2}
        x2={34}
        y1={6}
        y2={6}
        stroke={s.colour}
        strokeWidth={2.5}
        strokeDasharray={s.dash || undefined}
      />
      <Marker kind={s.marker} x={18} y={6} colour={s.colour} />
    </svg>
  );
};

export const ConsentRateChart = ({
  title,
  desc,
  labels,
  series,
  formatRate,
}: {
  title: string;
  desc: string;
  /** One label per point (the bucket), shared by every series. */
  labels: readonly string[];
  series: readonly RateSeries[];
  formatRate: (rate: number) => string;
}) => {
  const id = useId();
  const step = labels.length > 1 ? INNER_W / (labels.length - 1) : 0;
  const xOf = (i: number) => PAD.left + (labels.length > 1 ? step * i : INNER_W / 2);
  const yOf = (rate: number) => PAD.top + INNER_H - rate * INNER_H;
  // At most about eight x labels, evenly spread, always the first and the last.
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const shownLabel = (i: number) => i % every === 0 || i === labels.length - 1;

  return (
    <svg
      className="ui-chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      preserveAspectRatio="xMidYMid meet"
      data-testid="rate-chart"
    >
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{desc}</desc>
      {[0, 0.25, 0.5, 0.75, 1].map((tick) => (
        <g key={tick}>
          <line className="ui-chart__grid" x1={PAD.left} x2={W - PAD.right} y1={yOf(tick)} y2={yOf(tick)} />
          <text className="ui-chart__label" x={PAD.left - 8} y={yOf(tick) + 4} textAnchor="end">
            {formatRate(tick)}
          </text>
        </g>
      ))}
      {labels.map((label, i) =>
        shownLabel(i) ? (
          <text
            key={label}
            className="ui-chart__label"
            x={xOf(i)}
            y={H - PAD.bottom + 18}
            textAnchor={i === 0 ? "start" : i === labels.length - 1 ? "end" : "middle"}
          >
            {label.slice(5)}
          </text>
        ) : null,
      )}
      {series.map((s, index) => {
        const style = seriesStyle(index);
        // Runs of consecutive known values; a gap (nobody asked) breaks the line.
        const runs: { x: number; y: number }[][] = [];
        let run: { x: number; y: number }[] = [];
        s.values.forEach((v, i) => {
          if (v === null) {
            if (run.length) runs.push(run);
            run = [];
          } else run.push({ x: xOf(i), y: yOf(v) });
        });
        if (run.length) runs.push(run);
        return (
          <g key={s.id} data-series={s.id}>
            {runs.map((r) =>
              r.length > 1 ? (
                <polyline
                  key={`${r[0]?.x}`}
                  fill="none"
                  stroke={style.colour}
                  strokeWidth={2.5}
                  strokeDasharray={style.dash || undefined}
                  points={r.map((p) => `${p.x},${p.y}`).join(" ")}
                />
              ) : null,
            )}
            {s.values.map((v, i) =>
              v === null ? null : (
                <Marker key={labels[i]} kind={style.marker} x={xOf(i)} y={yOf(v)} colour={style.colour} />
              ),
            )}
          </g>
        );
      })}
    </svg>
  );
};
