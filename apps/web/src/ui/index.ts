/** The Custos design system: every page is built from these. The living style guide is /console/design. */
import "./tokens.css";
import "./ui.css";

export { Alert, type AlertTone } from "./Alert.tsx";
export { AppShell, MAIN_ID } from "./AppShell.tsx";
export { Badge, type BadgeTone } from "./Badge.tsx";
export { Button, ButtonLink, type ButtonVariant, buttonClass } from "./Button.tsx";
export { Card } from "./Card.tsx";
export { BarChart, type Datum, LineChart } from "./Chart.tsx";
export { Dialog, useModalDialog } from "./Dialog.tsx";
export { Checkbox, Field, Select, type SelectOption, TextInput, type TextInputProps } from "./Field.tsx";
export { LanguageSwitch } from "./LanguageSwitch.tsx";
export { Nav, type NavItem } from "./Nav.tsx";
export { PageBoundary } from "./PageBoundary.tsx";
export { PageHeader, useDocumentTitle } from "./PageHeader.tsx";
export { EmptyState, ErrorState, LoadingState, Spinner } from "./States.tsx";
export { type Column, Table } from "./Table.tsx";
export { type TabItem, Tabs } from "./Tabs.tsx";
