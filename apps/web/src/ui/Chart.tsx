import { type ReactNode, useId } from "react";

export type Datum = { label: string; value: number };

const W = 560;
const H = 240;
const PAD = { top: 16, right: 16, bottom: 40, left: 40 };

const niceMax = (max: number) => {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= max) ?? 10;
  return step * magnitude;
};

const ticks = (max: number) => [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f * 100) / 100);

const shorten = (label: string, max = 14) => (label.length > max ? `${label.slice(0, max - 1)}…` : label);

type ChartProps = { title: string; desc: string; data: readonly Datum[] };

const Frame = ({
  title,
  desc,
  max,
  children,
}: {
  title: string;
  desc: string;
  max: number;
  children: ReactNode;
}) => {
  const id = useId();
  const innerH = H - PAD.top - PAD.bottom;
  return (
    <svg
      className="ui-chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      preserveAspectRatio="xMidYMid meet"
    >
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{desc}</desc>
      {ticks(max).map((tick) => {
        const y = PAD.top + innerH - (tick / max) * innerH;
        return (
          <g key={tick}>
            <line className="ui-chart__grid" x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} />
            <text className="ui-chart__label" x={PAD.left - 8} y={y + 4} textAnchor="end">
              {tick}
            </text>
          </g>
        );
      })}
      {children}
    </svg>
  );
};

/** A bar chart in plain SVG. The title and description name it for screen readers; values are labelled. */
export const BarChart = ({ title, desc, data }: ChartProps) => {
  const max = niceMax(Math.max(0, ...data.map((d) => d.value)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, data.length);
  const barW = Math.min(56, slot * 0.6);
  return (
    <Frame title={title} desc={`${desc} ${data.map((d) => `${d.label}: ${d.value}`).join("; ")}`} max={max}>
      {data.map((d, i) => {
        const h = (d.value / max) * innerH;
        const x = PAD.left + slot * i + (slot - barW) / 2;
        const y = PAD.top + innerH - h;
        return (
          <g key={d.label}>
            <rect className="ui-chart__bar" x={x} y={y} width={barW} height={h} rx={3} />
            <text className="ui-chart__value" x={x + barW / 2} y={y - 4} textAnchor="middle">
              {d.value}
            </text>
            <text className="ui-chart__label" x={x + barW / 2} y={H - PAD.bottom + 18} textAnchor="middle">
              {shorten(d.label)}
            </text>
          </g>
        );
      })}
    </Frame>
  );
};

/** A line chart in plain SVG, for a series over time. */
export const LineChart = ({ title, desc, data }: ChartProps) => {
  const max = niceMax(Math.max(0, ...data.map((d) => d.value)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = data.length > 1 ? innerW / (data.length - 1) : 0;
  const points = data.map((d, i) => ({
    ...d,
    x: PAD.left + step * i,
    y: PAD.top + innerH - (d.value / max) * innerH,
  }));
  return (
    <Frame title={title} desc={`${desc} ${data.map((d) => `${d.label}: ${d.value}`).join("; ")}`} max={max}>
      <polyline className="ui-chart__line" points={points.map((p) => `${p.x},${p.y}`).join(" ")} />
      {points.map((p) => (
        <g key={p.label}>
          <circle className="ui-chart__dot" cx={p.x} cy={p.y} r={4} />
          <text className="ui-chart__label" x={p.x} y={H - PAD.bottom + 18} textAnchor="middle">
            {shorten(p.label, 8)}
          </text>
        </g>
      ))}
    </Frame>
  );
};
