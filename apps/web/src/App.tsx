import { useEffect, useRef } from "react";
import { BrowserRouter, Navigate, Outlet, Route, Routes, useLocation } from "react-router-dom";
import { CenterHome } from "./pages/center/CenterHome.tsx";
import { PersonalInformationPage } from "./pages/center/PersonalInformationPage.tsx";
import { PolicyDocumentPage } from "./pages/center/PolicyDocumentPage.tsx";
import { ThirdPartiesPage } from "./pages/center/ThirdPartiesPage.tsx";
import { ConsoleHome } from "./pages/console/ConsoleHome.tsx";
import { ConsoleLayout } from "./pages/console/ConsoleLayout.tsx";
import { DesignPage } from "./pages/console/DesignPage.tsx";
import { OutboxPage } from "./pages/console/OutboxPage.tsx";
import { NotFoundPage } from "./pages/NotFoundPage.tsx";
import { AppShell, MAIN_ID } from "./ui/index.ts";

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

const Layout = () => (
  <AppShell>
    <FocusOnNavigate />
    <Outlet />
  </AppShell>
);

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
        </Route>
        <Route path="console" element={<ConsoleLayout />}>
          <Route index element={<ConsoleHome />} />
          <Route path="outbox" element={<OutboxPage />} />
          <Route path="design" element={<DesignPage />} />
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  </BrowserRouter>
);
