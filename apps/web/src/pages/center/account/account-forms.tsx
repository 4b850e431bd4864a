import { type FormEvent, type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../../api/client.ts";
import type { DocumentList } from "../../../api/types.ts";
import { useApi } from "../../../api/use-api.ts";
import { Alert, Checkbox, TextInput, type TextInputProps } from "../../../ui/index.ts";
import { apiSend, type IssuedCode, messageOf } from "./account-api.ts";

/**
 * What the account forms share (the privacy center's pages and the sample app's first screen): the
 * busy flag and error of a form that calls the API, the sign-up and sign-in fields, the policy box
 * and the registration call.
 */

/** The language the API is asked to answer in. */
export const useLocale = (): "en" | "zh-CN" => {
  const { i18n } = useTranslation();
  return i18n.language === "zh-CN" ? "zh-CN" : "en";
};

export type FormFailure = { field?: string; message: string };

/** Runs a form's API call: busy while it runs; a failure keeps the field the server named, if any. */
export const useFormRun = (fallback: string) => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FormFailure | null>(null);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      const details = err instanceof ApiError ? (err.details as { field?: string } | undefined) : undefined;
      setError({
        ...(details?.field ? { field: details.field } : {}),
        message: messageOf(err, fallback),
      });
    } finally {
      setBusy(false);
    }
  };
  /** The message for one field, when the server named it. */
  const fieldError = (name: string) => (error?.field === name ? error.message : undefined);
  /** The alert for a failure that belongs to no field. */
  const formError = error && !error.field ? <Alert tone="error">{error.message}</Alert> : null;
  /** The alert for any failure (forms that show none next to a field). */
  const anyError = error ? <Alert tone="error">{error.message}</Alert> : null;
  return { busy, error, setError, run, fieldError, formError, anyError };
};

export type FormRun = ReturnType<typeof useFormRun>;

export type SignUpValues = { contact: string; username: string; password: string };
const EMPTY_SIGN_UP: SignUpValues = { contact: "", username: "", password: "" };

/** Registration with the policy accepted (the acceptance is recorded on verification). */
export const register = (values: SignUpValues, locale: "en" | "zh-CN", policyVersion: string) =>
  apiSend<IssuedCode>("POST", "/api/v1/accounts/register", {
    ...values,
    locale,
    policyVersion,
    acceptPolicy: true,
  });

/**
 * The sign-up form's state and submit: the policy box must be ticked (never pre-ticked, CON-2), the
 * current policy version goes along, and `onIssued` gets the code the server sent.
 */
export const useSignUp = (
  form: FormRun,
  { mustAccept, onIssued }: { mustAccept: string; onIssued: (issued: IssuedCode) => void },
) => {
  const locale = useLocale();
  const docs = useApi<DocumentList>("/api/v1/policy/documents");
  const [values, setValues] = useState<SignUpValues>(EMPTY_SIGN_UP);
  const [accepted, setAccepted] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!accepted) {
      form.setError({ field: "acceptPolicy", message: mustAccept });
      return;
    }
    if (docs.status !== "ok") return;
    const policyVersion = docs.data.version;
    void form.run(async () => onIssued(await register(values, locale, policyVersion)));
  };
  const version = docs.status === "ok" ? docs.data.version : "";
  return { docs, version, values, setValues, accepted, setAccepted, submit };
};

/** Contact, username and password of a new account; `keys` is the i18n prefix of the labels. */
export const SignUpFields = ({
  keys,
  values,
  onChange,
  fieldError,
}: {
  keys: string;
  values: SignUpValues;
  onChange: (values: SignUpValues) => void;
  fieldError: (name: string) => string | undefined;
}) => {
  const { t } = useTranslation();
  return (
    <>
      <TextInput
        label={t(`${keys}.contact`)}
        hint={t(`${keys}.contactHint`)}
        name="contact"
        autoComplete="username"
        required
        maxLength={320}
        value={values.contact}
        onChange={(e) => onChange({ ...values, contact: e.target.value })}
        error={fieldError("contact")}
      />
      <TextInput
        label={t(`${keys}.username`)}
        hint={t(`${keys}.usernameHint`)}
        name="username"
        autoComplete="nickname"
        required
        maxLength={32}
        value={values.username}
        onChange={(e) => onChange({ ...values, username: e.target.value })}
        error={fieldError("username")}
      />
      <TextInput
        label={t(`${keys}.password`)}
        hint={t(`${keys}.passwordHint`)}
        name="password"
        type="password"
        autoComplete="new-password"
        required
        maxLength={128}
        value={values.password}
        onChange={(e) => onChange({ ...values, password: e.target.value })}
        error={fieldError("password")}
      />
    </>
  );
};

/** The unticked policy box: its text, then a link to read the policy. */
export const PolicyCheckbox = ({
  checked,
  onChange,
  fieldError,
  text,
  link,
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  fieldError: (name: string) => string | undefined;
  text: string;
  link: ReactNode;
}) => (
  <Checkbox
    name="acceptPolicy"
    checked={checked}
    onChange={(e) => onChange(e.target.checked)}
    error={fieldError("acceptPolicy") ?? fieldError("policyVersion")}
    label={
      <>
        {text} {link}
      </>
    }
  />
);

/** Identifier and current password; `keys` is the i18n prefix of the labels. */
export const SignInFields = ({
  keys,
  identifier,
  password,
  onIdentifier,
  onPassword,
}: {
  keys: string;
  identifier: string;
  password: string;
  onIdentifier: (value: string) => void;
  onPassword: (value: string) => void;
}) => {
  const { t } = useTranslation();
  return (
    <>
      <TextInput
        label={t(`${keys}.identifier`)}
        name="identifier"
        autoComplete="username"
        required
        maxLength={320}
        value={identifier}
        onChange={(e) => onIdentifier(e.target.value)}
      />
      <TextInput
        label={t(`${keys}.password`)}
        name="password"
        type="password"
        autoComplete="current-password"
        required
        maxLength={128}
        value={password}
        onChange={(e) => onPassword(e.target.value)}
      />
    </>
  );
};

/** The six-digit code from an email or SMS. */
export const CodeInput = ({
  onValue,
  ...input
}: Omit<TextInputProps, "onChange"> & {
  label: ReactNode;
  value: string;
  onValue: (value: string) => void;
}) => (
  <TextInput
    name="code"
    inputMode="numeric"
    autoComplete="one-time-code"
    maxLength={6}
    required
    onChange={(e) => onValue(e.target.value)}
    {...input}
  />
);

/** Completes a registration with the code sent to the new contact (the session starts). */
export const verifyRegistration = (pending: IssuedCode, code: string, locale: "en" | "zh-CN") =>
  apiSend("POST", "/api/v1/accounts/register/verify", {
    verificationId: pending.verificationId,
    code: code.trim(),
    locale,
  });

/** Sign in with identifier and password. */
export const signInWithPassword = (identifier: string, password: string, locale: "en" | "zh-CN") =>
  apiSend("POST", "/api/v1/auth/login", { identifier, password, locale });
