/** Strength hints shown while typing; the server enforces the same rules. */
export const passwordHints = (password: string, username: string) => {
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  const length = [...password].length;
  const name = username.trim().toLowerCase();
  return [
    { id: "length", ok: length >= 8 && length <= 128 },
    { id: "classes", ok: classes >= 2 },
    {
      id: "username",
      ok: password.length > 0 && (name.length < 3 || !password.toLowerCase().includes(name)),
    },
  ] as const;
};
