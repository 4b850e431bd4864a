import { type ChangeEvent, type FormEvent, useState } from "react";
import { type ApiError, asApiError } from "../../api/client.ts";

type Values = Record<string, string>;

/** What a console action returns: a success note (a string) to show, or anything else for none. */
type Outcome = unknown;

export type StaffForm<T extends Values> = {
  values: T;
  setValues(values: T): void;
  /** `value` and `onChange` for the control bound to `name`. */
  field(name: keyof T & string): {
    value: string;
    onChange(event: ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>): void;
  };
  /** The error of the last action, as the server said it. */
  error: ApiError | null;
  /** The success note of the last action. */
  done: string | null;
  busy: boolean;
  /** Runs an action: clears error and note, is busy meanwhile, then shows its note or its error. True when it succeeded. */
  run(action: () => Promise<Outcome>): Promise<boolean>;
  /** An `onSubmit` handler that runs `action` with the current values. */
  submit(action: (values: T) => Promise<Outcome>): (event: FormEvent) => Promise<void>;
};

/**
 * The state every console form keeps: its values, the error and success note of its last action,
 * and whether one is running. `useStaffForm({})` serves for buttons that act without a form.
 */
export function useStaffForm<T extends Values>(initial: T): StaffForm<T> {
  const [values, setValues] = useState<T>(initial);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (action: () => Promise<Outcome>): Promise<boolean> => {
    setError(null);
    setDone(null);
    setBusy(true);
    try {
      const note = await action();
      if (typeof note === "string" && note) setDone(note);
      return true;
    } catch (e) {
      setError(asApiError(e));
      return false;
    } finally {
      setBusy(false);
    }
  };

  return {
    values,
    setValues,
    field: (name) => ({
      value: values[name] ?? "",
      onChange: (event) => {
        const value = event.target.value;
        setValues((current) => ({ ...current, [name]: value }));
      },
    }),
    error,
    done,
    busy,
    run,
    submit: (action) => async (event) => {
      event.preventDefault();
      await run(() => action(values));
    },
  };
}
