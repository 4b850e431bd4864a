/**
 * The staff console's pages, one chunk of the build: players who only use the privacy center
 * never download them (App.tsx loads this module when a console page is first opened).
 */
export { AuditLogPage } from "./AuditLogPage.tsx";
export { ConsentReportPage } from "./ConsentReportPage.tsx";
export { ConsoleHome } from "./ConsoleHome.tsx";
export { ConsoleLayout } from "./ConsoleLayout.tsx";
export { DecisionReportPage } from "./DecisionReportPage.tsx";
export { DesignPage } from "./DesignPage.tsx";
export { GrantsPage } from "./GrantsPage.tsx";
export { OutboxPage } from "./OutboxPage.tsx";
export { SdksPage } from "./SdksPage.tsx";
export { StaffMembersPage } from "./StaffMembersPage.tsx";
export { StaffPasswordPage } from "./StaffPasswordPage.tsx";
export { StaffSignInPage } from "./StaffSignInPage.tsx";
export { SubjectLookupPage } from "./SubjectLookupPage.tsx";
