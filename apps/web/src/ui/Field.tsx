import { type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, useId } from "react";

type FieldChrome = { label: ReactNode; hint?: ReactNode; error?: ReactNode; className?: string };

/** Label, hint and error around one control; the control is described by hint and error. */
export const Field = ({
  label,
  hint,
  error,
  className,
  children,
}: FieldChrome & {
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}) => {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={["ui-field", className ?? ""].filter(Boolean).join(" ")}>
      <label className="ui-field__label" htmlFor={id}>
        {label}
      </label>
      {hint ? (
        <span className="ui-field__hint" id={hintId}>
          {hint}
        </span>
      ) : null}
      {children({ id, describedBy, invalid: Boolean(error) })}
      {error ? (
        <span className="ui-field__error" id={errorId}>
          {error}
        </span>
      ) : null}
    </div>
  );
};

export type TextInputProps = FieldChrome & Omit<InputHTMLAttributes<HTMLInputElement>, "id">;

export const TextInput = ({ label, hint, error, className, ...input }: TextInputProps) => (
  <Field label={label} hint={hint} error={error} className={className}>
    {({ id, describedBy, invalid }) => (
      <input
        id={id}
        className="ui-input"
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
        maxLength={input.maxLength ?? 200}
        {...input}
      />
    )}
  </Field>
);

export type SelectOption = { value: string; label: string };
export type SelectProps = FieldChrome &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, "id"> & { options: readonly SelectOption[] };

export const Select = ({ label, hint, error, className, options, ...select }: SelectProps) => (
  <Field label={label} hint={hint} error={error} className={className}>
    {({ id, describedBy, invalid }) => (
      <select
        id={id}
        className="ui-select"
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    )}
  </Field>
);

export type CheckboxProps = Omit<InputHTMLAttributes<HTMLInputElement>, "type" | "id"> & {
  label: ReactNode;
  error?: ReactNode;
};

/** Never pre-ticked by default (CON-2): pass `checked` explicitly from state. */
export const Checkbox = ({ label, error, className, ...input }: CheckboxProps) => {
  const id = useId();
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div className={["ui-field", className ?? ""].filter(Boolean).join(" ")}>
      <label className="ui-checkbox" htmlFor={id}>
        <input
          type="checkbox"
          id={id}
          aria-describedby={errorId}
          aria-invalid={error ? true : undefined}
          {...input}
        />
        <span>{label}</span>
      </label>
      {error ? (
        <span className="ui-field__error" id={errorId}>
          {error}
        </span>
      ) : null}
    </div>
  );
};
