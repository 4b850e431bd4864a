import { type ComponentType, lazy, useEffect, useRef } from "react";
import { BrowserRouter, Navigate, Outlet, Route, Routes, useLocation } from "react-router-dom";
import { AccountPage } from "./pages/center/account/AccountPage.tsx";
import { AccountStatus } from "./pages/center/account/AccountStatus.tsx";
import { MyInformationPage } from "./pages/center/account/MyInformationPage.tsx";
import { SignInPage } from "./pages/center/account/SignInPage.tsx";
import { SignUpPage } from "./pages/center/account/SignUpPage.tsx";
import { VerifyPage } from "./pages/center/account/VerifyPage.tsx";
import { CenterHome } from "./pages/center/CenterHome.tsx";
import { ConsentsPage } from "./pages/center/ConsentsPage.tsx";
import { PermissionsPage } from "./pages/center/PermissionsPage.tsx";
import { PersonalInformationPage } from "./pages/center/PersonalInformationPage.tsx";
import { PolicyDocumentPage } from "./pages/center/PolicyDocumentPage.tsx";
import { SettingsPage } from "./pages/center/SettingsPage.tsx";
import { SubscriptionsPage } from "./pages/center/SubscriptionsPage.tsx";
import { ThirdPartiesPage } from "./pages/center/ThirdPartiesPage.tsx";
import { UnsubscribePage } from "./pages/center/UnsubscribePage.tsx";
import { NotFoundPage } from "./pages/NotFoundPage.tsx";
import { AppShell, MAIN_ID, PageBoundary } from "./ui/index.ts";

type Pages = Record<string, ComponentType>;
/** A page from a chunk loaded when it is first opened (the chunk is fetched once, for all its pages). */
const fromChunk = <M extends Pages>(load: () => Promise<M>, name: keyof M & string) =>
  lazy(() => load().then((m) => ({ default: m[name] as ComponentType })));

// The console and the sample app are their own chunks: the privacy center's first load, on a
// player's phone, carries neither.
const consolePages = () => import("./pages/console/index.ts");
type ConsolePage = keyof Awaited<ReturnType<typeof consolePages>>;
const ConsoleLayout = fromChunk(consolePages, "ConsoleLayout");
/** The console's pages by path under /console ("" is its home). */
const CONSOLE_PAGES = (
  [
    ["", "ConsoleHome"],
    ["outbox", "OutboxPage"],
    ["design", "DesignPage"],
    ["sign-in", "StaffSignInPage"],
    ["staff", "StaffMembersPage"],
    ["password", "StaffPasswordPage"],
    ["grants", "GrantsPage"],
    ["subjects", "SubjectLookupPage"],
    ["audit", "AuditLogPage"],
    ["consent-report", "ConsentReportPage"],
    ["decision-report", "DecisionReportPage"],
    ["sdks", "SdksPage"],
  ] as const satisfies readonly (readonly [string, ConsolePage])[]
).map(([path, name]) => ({ path, Page: fromChunk(consolePages, name) }));
const SampleAppPage = fromChunk(() => import("./pages/sample/SampleAppPage.tsx"), "SampleAppPage");

/** After client-side navigation, move focus to the main content so screen readers start at the new page. */
const FocusOnNavigate = () => {
  const { pathname } = useLocation();
  const previous = useRef(pathname);
  useEffect(() => {
    // Only a real change of page moves focus; the first render leaves focus where the browser put it.
    if (previous.current === pathname) return;
    previous.current = pathname;
    document.getElementById(MAIN_ID)?.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }, [pathname]);
  return null;
};

const Layout = () => {
  const { pathname } = useLocation();
  return (
    <AppShell tools={<AccountStatus />}>
      <FocusOnNavigate />
      <PageBoundary at={pathname}>
        <Outlet />
      </PageBoundary>
    </AppShell>
  );
};

export const App = () => (
  <BrowserRouter>
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/center" replace />} />
        <Route path="center">
          <Route index element={<CenterHome />} />
          <Route path="policy/:docId" element={<PolicyDocumentPage />} />
          <Route path="personal-information" element={<PersonalInformationPage />} />
          <Route path="third-parties" element={<ThirdPartiesPage />} />
          <Route path="consents" element={<ConsentsPage />} />
          <Route path="permissions" element={<PermissionsPage />} />
          <Route path="settings" element={<SettingsPage />} />
          <Route path="subscriptions" element={<SubscriptionsPage />} />
          <Route path="unsubscribe/:token" element={<UnsubscribePage />} />
          <Route path="account" element={<AccountPage />} />
          <Route path="account/sign-up" element={<SignUpPage />} />
          <Route path="account/verify" element={<VerifyPage />} />
          <Route path="account/sign-in" element={<SignInPage />} />
          <Route path="account/personal-information" element={<MyInformationPage />} />
        </Route>
        <Route path="console" element={<ConsoleLayout />}>
          {CONSOLE_PAGES.map(({ path, Page }) =>
            path === "" ? (
              <Route key="index" index element={<Page />} />
            ) : (
              <Route key={path} path={path} element={<Page />} />
            ),
          )}
        </Route>
        <Route path="sample-app" element={<SampleAppPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  </BrowserRouter>
);
