import { Component, type ReactNode, Suspense } from "react";
import { useTranslation } from "react-i18next";
import { Alert } from "./Alert.tsx";
import { Button } from "./Button.tsx";
import { LoadingState } from "./States.tsx";

/** What a page that failed to load (its code could not be fetched) shows in its place. */
const PageLoadFailed = () => {
  const { t } = useTranslation();
  return (
    <Alert
      tone="error"
      title={t("common.pageLoadFailed")}
      actions={
        <Button variant="secondary" size="sm" onClick={() => window.location.reload()}>
          {t("common.reload")}
        </Button>
      }
    />
  );
};

/**
 * Catches a page that could not be loaded (or failed while it rendered), so the shell and its
 * navigation stay usable.
 */
class LoadBoundary extends Component<{ at: string; children: ReactNode }, { failedAt: string | undefined }> {
  override state: { failedAt: string | undefined } = { failedAt: undefined };

  static getDerivedStateFromError(): { failedAt: string } {
    return { failedAt: "" };
  }

  override componentDidCatch(): void {
    this.setState({ failedAt: this.props.at });
  }

  override render(): ReactNode {
    const { failedAt } = this.state;
    // A failure shows where it happened; moving to another location tries again.
    const failed = failedAt !== undefined && (failedAt === "" || failedAt === this.props.at);
    return failed ? <PageLoadFailed /> : this.props.children;
  }
}

/**
 * Where a page loaded on demand appears: a loading state while its code arrives, and a message
 * with a reload button if it cannot. `at` is the location: the message stays on the page that
 * failed, and going elsewhere tries to load that page.
 */
export const PageBoundary = ({ at, children }: { at: string; children: ReactNode }) => (
  <LoadBoundary at={at}>
    <Suspense fallback={<LoadingState />}>{children}</Suspense>
  </LoadBoundary>
);
