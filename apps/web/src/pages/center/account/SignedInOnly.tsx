import type { ReactNode } from "react";
import { Alert, ButtonLink, LoadingState } from "../../../ui/index.ts";
import { type Me, useMe } from "./account-api.ts";

/** What a signed-out person sees on a page that needs an account: the header and a way to sign in. */
export const SignedOutNotice = ({
  header,
  title,
  body,
  signIn,
  signUp,
}: {
  header: ReactNode;
  title: string;
  body?: string;
  signIn: string;
  signUp?: string;
}) => (
  <div className="ui-stack ui-stack--lg">
    {header}
    <Alert tone="info" title={title}>
      {body ? <p>{body}</p> : null}
      <p className="ui-row">
        <ButtonLink to="/center/account/sign-in" variant="primary">
          {signIn}
        </ButtonLink>
        {signUp ? <ButtonLink to="/center/account/sign-up">{signUp}</ButtonLink> : null}
      </p>
    </Alert>
  </div>
);

/**
 * A page that needs an account: the header with a loading state while the session is checked, the
 * sign-in notice when signed out, else whatever `children` renders for the signed-in person.
 */
export const SignedInOnly = ({
  header,
  signedOut,
  children,
}: {
  header: ReactNode;
  signedOut: { title: string; body?: string; signIn: string };
  children: (me: Me) => ReactNode;
}) => {
  const { state } = useMe();
  if (state.status === "loading")
    return (
      <div className="ui-stack ui-stack--lg">
        {header}
        <LoadingState />
      </div>
    );
  if (state.status === "signed-out") return <SignedOutNotice header={header} {...signedOut} />;
  return children(state.me);
};
