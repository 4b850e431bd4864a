export type { AppServices } from "./app.ts";
export { type AppDeps, createApp } from "./app.ts";
export { type Config, ConfigError, loadConfig } from "./config.ts";
export {
  hashServiceKey,
  newServiceKey,
  parseServiceKeys,
  SERVICE_KEY_HEADER,
  type ServiceKey,
} from "./consent/service-auth.ts";
export {
  type DemoStaffCredentials,
  type DemoSummary,
  formatDemoStaff,
  formatDemoSummary,
  isEmptyOfSubjects,
  seedDemo,
} from "./demo/demo-data.ts";
export { assertOwned, ErrorBody } from "./errors.ts";
export { createLogger, scrubText } from "./logging.ts";
export {
  createNotifier,
  DELIVER_JOB,
  type MailTransport,
  type Notifier,
  type SendInput,
} from "./notifications/notifier.ts";
export { TEMPLATE_IDS, type TemplateId } from "./notifications/templates.ts";
export { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from "./security/csrf.ts";
export { createStaffService, STAFF_SESSION_COOKIE, type StaffService } from "./staff/staff-service.ts";
export { StartError, type StartedServer, startServer } from "./start.ts";
